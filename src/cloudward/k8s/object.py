"""A Kubernetes object as read from a file, able to say where each field is."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import ResourceRef


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class K8sObject:
    """One object: its data, its file, and the YAML node that gives field positions.

    ``base`` is the object's own path inside its document (``("items", 3)`` for
    a member of a ``List``); paths given to ``locate`` are relative to the object.
    ``node`` is ``None`` when the object did not come from a file (admission) or
    came from a JSON fallback parse: then positions fall back to ``line``.
    """

    data: dict[str, Any]
    file: str
    line: int | None = None
    base: JsonPath = ()
    node: yaml.Node | None = dataclasses.field(default=None, repr=False)
    positions: Mapping[JsonPath, tuple[int, int]] | None = dataclasses.field(default=None, repr=False)
    #: Derived views computed once per object (its pod spec), shared by every rule that asks.
    derived: dict[str, Any] = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def kind(self) -> str:
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else ""

    @property
    def api_version(self) -> str:
        v = self.data.get("apiVersion")
        return v if isinstance(v, str) else ""

    @property
    def metadata(self) -> dict[str, Any]:
        md = self.data.get("metadata")
        return md if isinstance(md, dict) else {}

    @property
    def name(self) -> str:
        md = self.metadata
        name = md.get("name")
        if isinstance(name, str) and name:
            return name
        gen = md.get("generateName")
        if isinstance(gen, str) and gen:
            return gen + "*"
        return "<unnamed>"

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return ns if isinstance(ns, str) and ns else None

    @property
    def annotations(self) -> dict[str, Any]:
        a = self.metadata.get("annotations")
        return a if isinstance(a, dict) else {}

    @property
    def labels(self) -> dict[str, Any]:
        a = self.metadata.get("labels")
        return a if isinstance(a, dict) else {}

    def ref(self) -> ResourceRef:
        return ResourceRef(kind=self.kind, name=self.name, namespace=self.namespace,
                           api_version=self.api_version or None)

    def full_path(self, path: JsonPath) -> JsonPath:
        """The path from the document root, as users see it in the file."""
        return self.base + tuple(path)

    def locate(self, path: JsonPath) -> tuple[int | None, int | None]:
        """1-based (line, column) of the deepest existing field along ``path``.

        A mapping value is located at its key, so a finding on
        ``securityContext.privileged`` points at the ``privileged:`` line. When a
        field is missing, the nearest existing ancestor is used.
        """
        node = self.node
        if node is None:
            if self.positions:
                for end in range(len(path), -1, -1):
                    pos = self.positions.get(tuple(path[:end]))
                    if pos is not None:
                        return pos
            return self.line, None
        mark = node.start_mark
        for step in path:
            if isinstance(node, yaml.MappingNode) and isinstance(step, str):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == step:
                        mark = key.start_mark
                        node = value
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                if 0 <= step < len(node.value):
                    node = node.value[step]
                    mark = node.start_mark
                else:
                    break
            else:
                break
        return mark.line + 1, mark.column + 1

    def detached(self, depth: int = 6) -> K8sObject:
        """The same object without its YAML node, remembering positions ``depth`` levels deep.

        Nodes are large and slow to copy between processes; findings of
        cross-object rules point at shallow fields (names, roleRefs, subjects).
        """
        if self.node is None:
            return self
        positions: dict[JsonPath, tuple[int, int]] = dict(self.positions or {})
        stack: list[tuple[JsonPath, yaml.Node, yaml.Mark]] = [((), self.node, self.node.start_mark)]
        while stack:
            path, node, mark = stack.pop()
            positions[path] = (mark.line + 1, mark.column + 1)
            if len(path) >= depth:
                continue
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode):
                        stack.append(((*path, key.value), value, key.start_mark))
            elif isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    stack.append(((*path, i), item, item.start_mark))
        return dataclasses.replace(self, node=None, positions=positions)

    def slim(self, keep_paths: Iterable[JsonPath]) -> K8sObject:
        """A lighter copy for cross-object rules: identity, metadata and ``keep_paths``.

        The YAML node is dropped; the positions of the kept paths (and of
        metadata) are remembered, so findings on them still get exact lines.
        """
        data: dict[str, Any] = {k: self.data[k] for k in ("apiVersion", "kind", "metadata") if k in self.data}
        wanted: list[JsonPath] = [(), ("metadata",), ("metadata", "name"), ("metadata", "namespace")]
        for path in keep_paths:
            wanted += [path, (*path, "labels")]
            value: Any = self.data
            for step in path:
                value = value.get(step) if isinstance(value, dict) else None
            if value is None:
                continue
            target = data
            for step in path[:-1]:
                target = target.setdefault(str(step), {})
            target[str(path[-1])] = value
        positions: dict[JsonPath, tuple[int, int]] = {}
        for p in wanted:
            line, column = self.locate(p)
            if line is not None and column is not None:
                positions[p] = (line, column)
        return dataclasses.replace(self, data=data, node=None, positions=positions)
