"""Typed access to the YAML nodes of the ``admission`` section; every error names file, line and field.

``core.config`` hands stage-owned sections over as nodes (``Config.section``),
so line numbers come straight from the user's file.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from cloudward.core.errors import ConfigError
from cloudward.core.rules import PSSVersion

NULL = "tag:yaml.org,2002:null"


class NodeParser:
    def __init__(self, source: str, base_dir: Path | None = None) -> None:
        self.source = source
        self.base_dir = base_dir

    def fail(self, node: yaml.Node, message: str) -> ConfigError:
        return ConfigError(message, file=self.source, line=node.start_mark.line + 1,
                           column=node.start_mark.column + 1)

    def mapping(self, node: yaml.Node, where: str, allowed: set[str]) -> dict[str, yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL:
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where} must be a mapping")
        out: dict[str, yaml.Node] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode) or k.value not in allowed:
                raise self.fail(k, f"unknown key {getattr(k, 'value', k)!r} in {where}; allowed: "
                                f"{', '.join(sorted(allowed))}")
            out[k.value] = v
        return out

    def string(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == NULL:
            raise self.fail(node, f"{where} must be a string")
        return str(node.value)

    def strings(self, node: yaml.Node, where: str) -> list[str]:
        if isinstance(node, yaml.ScalarNode):
            return [self.string(node, where)]
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{where} must be a list of strings")
        return [self.string(n, where) for n in node.value]

    def choice(self, node: yaml.Node, where: str, allowed: list[str]) -> str:
        value = self.string(node, where).strip().lower()
        if value not in allowed:
            raise self.fail(node, f"{where}: {value!r} is not one of {', '.join(allowed)}")
        return value

    def boolean(self, node: yaml.Node, where: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            raise self.fail(node, f"{where} must be true or false")
        return node.value.lower() in ("true", "yes", "on", "y")

    def number(self, node: yaml.Node, where: str, *, minimum: float = 0.0) -> float:
        """A number of seconds or days: an int or float, at least ``minimum``."""
        ok = isinstance(node, yaml.ScalarNode) and node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        try:
            value = float(node.value) if ok else None
        except ValueError:
            value = None
        if value is None or value != value or value < minimum:
            raise self.fail(node, f"{where} must be a number of at least {minimum:g}")
        return value

    def version(self, node: yaml.Node, where: str) -> PSSVersion:
        try:
            return PSSVersion.parse(self.string(node, where))
        except ValueError as e:
            raise self.fail(node, f"{where}: {e}") from None

    def path(self, node: yaml.Node, where: str) -> Path:
        """A file or directory path; relative paths are relative to the config file's directory."""
        text = self.string(node, where).strip()
        if not text:
            raise self.fail(node, f"{where} must be a path")
        p = Path(text).expanduser()
        return p if p.is_absolute() or self.base_dir is None else self.base_dir / p
