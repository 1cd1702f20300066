"""``.cloudward.yaml``: the project's policy file, validated with file:line errors.

It is found upward from the scanned path (or named with ``--config``) and says
which rules run, at which severity, which paths to skip, and which findings are
accepted exceptions (with a reason and an optional expiry date).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from cloudward.core.errors import ConfigError
from cloudward.core.model import PSSLevel
from cloudward.core.rules import PSSVersion
from cloudward.core.severity import Severity
from cloudward.core.yamlsafe import check_aliases, check_depth

CONFIG_NAMES = (".cloudward.yaml", ".cloudward.yml")

_TOP_KEYS = {"fail_on", "pss", "pss_version", "inline_suppressions", "max_file_size", "rules", "exclude",
             "exceptions"}
#: Sections owned by a stage, which validates them itself (with this file's name and line numbers):
#: ``admission`` by cloudward.deploy.policy, ``signing`` by cloudward.distribute.signing,
#: ``detect`` by cloudward.runtime.policy.
SECTION_KEYS = frozenset({"admission", "signing", "detect"})
_RULES_KEYS = {"disable", "enable_only", "severity"}
_EXCEPTION_KEYS = {"rule", "rules", "kind", "namespace", "name", "path", "container", "reason", "expires"}


@dataclasses.dataclass(frozen=True, slots=True)
class Exception_:
    """An accepted finding: rules + a resource/path selector (globs) + reason + expiry."""

    rules: tuple[str, ...]
    reason: str
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    path: str | None = None
    container: str | None = None
    expires: dt.date | None = None
    origin: str = ""  # file:line of the entry, for messages

    def matches(self, rule_id: str, kind: str | None, namespace: str | None, name: str | None,
                file: str, container: str | None) -> bool:
        if not any(fnmatch.fnmatchcase(rule_id, r) for r in self.rules):
            return False
        for pattern, value in ((self.kind, kind), (self.namespace, namespace), (self.name, name),
                               (self.container, container)):
            if pattern is not None and not fnmatch.fnmatchcase(value or "", pattern):
                return False
        return self.path is None or _path_matches(file, self.path)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    """The parsed file; ``None`` fields mean "not set here"."""

    source: str | None = None
    fail_on: Severity | None = None
    pss: PSSLevel | None = None
    pss_version: str | None = None
    inline_suppressions: bool | None = None
    max_file_size: int | None = None
    disable: frozenset[str] = frozenset()
    enable_only: frozenset[str] | None = None
    severity: tuple[tuple[str, Severity], ...] = ()
    exclude: tuple[str, ...] = ()
    exceptions: tuple[Exception_, ...] = ()
    base_dir: Path | None = None
    rule_lines: tuple[tuple[str, int], ...] = ()
    sections: tuple[tuple[str, yaml.Node], ...] = ()

    def section(self, name: str) -> yaml.Node | None:
        """The YAML node of a stage-owned section (``admission``, ``signing``), for that stage to parse."""
        return next((node for key, node in self.sections if key == name), None)

    def line_of(self, rule_id: str) -> int | None:
        """The line where the config names ``rule_id`` (for error messages)."""
        return next((line for r, line in self.rule_lines if r == rule_id), None)

    def rule_ids(self) -> list[tuple[str, str]]:
        """(rule id, where it is named) pairs, so callers can reject unknown ids."""
        out = [(r, "rules.disable") for r in self.disable]
        out += [(r, "rules.enable_only") for r in self.enable_only or ()]
        out += [(r, "rules.severity") for r, _ in self.severity]
        return out

    def excluded(self, path: Path) -> bool:
        if not self.exclude:
            return False
        try:
            rel = path.resolve().relative_to(self.base_dir.resolve()) if self.base_dir else path
        except ValueError:
            rel = path
        return any(_path_matches(rel.as_posix(), g) for g in self.exclude)


def _path_matches(file: str, pattern: str) -> bool:
    file = file.removeprefix("./")
    if fnmatch.fnmatchcase(file, pattern):
        return True
    if pattern.endswith("/**") and (file + "/").startswith(pattern[:-2]):
        return True
    return "/" not in pattern and fnmatch.fnmatchcase(file.rsplit("/", 1)[-1], pattern)


def find_config(start: Path) -> Path | None:
    """The nearest .cloudward.yaml in ``start`` (a file's directory) or any parent."""
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    for d in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = d / name
            if candidate.is_file():
                return candidate
    return None


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file: {e}", file=str(path)) from e
    return parse_config(text, str(path), base_dir=path.parent)


def parse_config(text: str, source: str, base_dir: Path | None = None) -> Config:
    check_depth(text, source, ConfigError)
    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        raise ConfigError(f"invalid YAML: {e.problem}", file=source, line=mark.line + 1 if mark else None) from e
    except yaml.reader.ReaderError as e:  # a control character or invalid byte, before any parsing
        raise ConfigError(f"invalid YAML: character {e.character!r} is not allowed ({e.reason}); remove it",
                          file=source, line=text.count("\n", 0, e.position) + 1) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"invalid YAML: {e}", file=source) from None
    if node is None:
        return Config(source=source, base_dir=base_dir)
    check_aliases(node, source, 1, ConfigError)
    p = NodeParser(source, base_dir)
    top = p.mapping(node, "the top level", _TOP_KEYS | SECTION_KEYS)
    kw: dict[str, Any] = {"source": source, "base_dir": base_dir,
                          "sections": tuple((k, v) for k, v in top.items() if k in SECTION_KEYS)}
    if "fail_on" in top:
        kw["fail_on"] = p.severity(top["fail_on"], "fail_on")
    if "pss" in top:
        kw["pss"] = p.enum(top["pss"], "pss", PSSLevel)
    if "pss_version" in top:
        kw["pss_version"] = p.string(top["pss_version"], "pss_version")
    if "inline_suppressions" in top:
        kw["inline_suppressions"] = p.boolean(top["inline_suppressions"], "inline_suppressions")
    if "max_file_size" in top:
        kw["max_file_size"] = p.integer(top["max_file_size"], "max_file_size")
    if "rules" in top:
        rules = p.mapping(top["rules"], "rules", _RULES_KEYS)
        if "disable" in rules:
            kw["disable"] = frozenset(p.rule_ids(rules["disable"], "rules.disable"))
        if "enable_only" in rules:
            kw["enable_only"] = frozenset(p.rule_ids(rules["enable_only"], "rules.enable_only"))
        if "severity" in rules:
            sev = p.mapping(rules["severity"], "rules.severity", None)
            for key_node, _ in getattr(rules["severity"], "value", []):
                p.rule_lines.append((str(key_node.value), key_node.start_mark.line + 1))
            kw["severity"] = tuple((k, p.severity(v, f"rules.severity.{k}")) for k, v in sev.items())
    kw["rule_lines"] = tuple(p.rule_lines)
    if "exclude" in top:
        kw["exclude"] = tuple(p.strings(top["exclude"], "exclude"))
    if "exceptions" in top:
        kw["exceptions"] = tuple(p.exception(n, i) for i, n in enumerate(p.sequence(top["exceptions"], "exceptions")))
    return Config(**kw)


NULL_TAG = "tag:yaml.org,2002:null"


class NodeParser:
    """Typed access to config nodes; every error names the file, line, column and field.

    Shared by every part of ``.cloudward.yaml``: core settings here, and the
    sections stages own (``admission``, ``signing``) through ``Config.section``.
    """

    def __init__(self, source: str, base_dir: Path | None = None) -> None:
        self.source = source
        self.base_dir = base_dir
        self.rule_lines: list[tuple[str, int]] = []

    @classmethod
    def for_config(cls, config: Config) -> NodeParser:
        return cls(config.source or ".cloudward.yaml", config.base_dir)

    def fail(self, node: yaml.Node, message: str) -> ConfigError:
        return ConfigError(message, file=self.source, line=node.start_mark.line + 1,
                           column=node.start_mark.column + 1)

    @staticmethod
    def is_null(node: yaml.Node | None) -> bool:
        return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG)

    def mapping(self, node: yaml.Node, where: str, allowed: Iterable[str] | None) -> dict[str, yaml.Node]:
        """A mapping's entries by key; a null node is an empty mapping; unknown keys are errors."""
        if self.is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where} must be a mapping")
        known = set(allowed) if allowed is not None else None
        out: dict[str, yaml.Node] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise self.fail(k, f"{where}: keys must be strings")
            if known is not None and k.value not in known:
                raise self.fail(k, f"unknown key {k.value!r} in {where}; allowed: {', '.join(sorted(known))}")
            out[k.value] = v
        return out

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{where} must be a list")
        return list(node.value)

    def string(self, node: yaml.Node, where: str, *, nonempty: bool = False) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == NULL_TAG:
            raise self.fail(node, f"{where} must be a string")
        if nonempty and not str(node.value).strip():
            raise self.fail(node, f"{where} must be a non-empty string")
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

    def number(self, node: yaml.Node, where: str, *, minimum: float = 0.0) -> float:
        """A number (seconds, days): an int or float, at least ``minimum``."""
        ok = isinstance(node, yaml.ScalarNode) and node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        try:
            value = float(node.value) if ok else None
        except ValueError:
            value = None
        if value is None or value != value or value < minimum:
            raise self.fail(node, f"{where} must be a number of at least {minimum:g}")
        return value

    def path(self, node: yaml.Node, where: str) -> Path:
        """A file or directory path; relative paths are relative to the config file's directory."""
        text = self.string(node, where).strip()
        if not text:
            raise self.fail(node, f"{where} must be a path")
        p = Path(text).expanduser()
        return p if p.is_absolute() or self.base_dir is None else self.base_dir / p

    def version(self, node: yaml.Node, where: str) -> PSSVersion:
        try:
            return PSSVersion.parse(self.string(node, where))
        except ValueError as e:
            raise self.fail(node, f"{where}: {e}") from None

    def rule_ids(self, node: yaml.Node, where: str) -> list[str]:
        nodes = [node] if isinstance(node, yaml.ScalarNode) else self.sequence(node, where)
        out = [self.string(n, where) for n in nodes]
        self.rule_lines.extend((n.value, n.start_mark.line + 1) for n in nodes)
        return out

    def boolean(self, node: yaml.Node, where: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            raise self.fail(node, f"{where} must be true or false")
        return node.value.lower() in ("true", "yes", "on", "y")

    def integer(self, node: yaml.Node, where: str) -> int:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:int" or int(node.value) <= 0:
            raise self.fail(node, f"{where} must be a positive whole number")
        return int(node.value)

    def severity(self, node: yaml.Node, where: str) -> Severity:
        try:
            return Severity.parse(self.string(node, where))
        except ValueError as e:
            raise self.fail(node, f"{where}: {e}") from None

    def enum(self, node: yaml.Node, where: str, cls: type[PSSLevel]) -> PSSLevel:
        value = self.string(node, where)
        try:
            return cls(value)
        except ValueError:
            raise self.fail(node, f"{where}: {value!r} is not one of {', '.join(m.value for m in cls)}") from None

    def date(self, node: yaml.Node, where: str) -> dt.date:
        value = self.string(node, where)
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.fail(node, f"{where}: {value!r} is not a date; write YYYY-MM-DD") from None

    def exception(self, node: yaml.Node, index: int) -> Exception_:
        where = f"exceptions[{index}]"
        m = self.mapping(node, where, _EXCEPTION_KEYS)
        rules: list[str] = []
        if "rule" in m:
            rules.append(self.string(m["rule"], f"{where}.rule"))
        if "rules" in m:
            rules += self.strings(m["rules"], f"{where}.rules")
        if not rules:
            raise self.fail(node, f"{where} needs 'rule' (a rule id, or a glob such as 'rbac.*')")
        if "reason" not in m or not self.string(m["reason"], f"{where}.reason").strip():
            raise self.fail(node, f"{where} needs a 'reason' saying why the finding is accepted")
        opt = {k: self.string(m[k], f"{where}.{k}") for k in ("kind", "namespace", "name", "path", "container")
               if k in m}
        expires = self.date(m["expires"], f"{where}.expires") if "expires" in m else None
        return Exception_(rules=tuple(rules), reason=self.string(m["reason"], f"{where}.reason"), expires=expires,
                          origin=f"{self.source}:{node.start_mark.line + 1}", **opt)
