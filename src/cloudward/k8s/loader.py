"""Read Kubernetes objects from YAML/JSON text, keeping every field's position.

Documents are composed with PyYAML's C parser into nodes (positions) and
constructed with the safe constructor (plain dicts/lists/scalars only). Two
guards keep hostile input from taking the process down: nesting deeper than
``MAX_DEPTH`` (libyaml's composer recurses in C and would crash the
interpreter) and aliases that expand past ``MAX_ALIAS_EXPANSION`` nodes
("billion laughs").
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from typing import Any

import yaml

from cloudward.core import jsonsafe
from cloudward.core.errors import InputError
from cloudward.core.yamlsafe import MAX_DEPTH, check_aliases, check_depth
from cloudward.k8s.object import K8sObject

log = logging.getLogger(__name__)


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader with a memo for implicit scalar tags.

    libyaml's composer asks Python to resolve the tag of every plain scalar, and
    manifests repeat the same keys and values (``name``, ``image``, ``true``)
    thousands of times; the answer depends only on the value and its style.
    """

    _plain_tags: dict[str, str] = {}  # noqa: RUF012 - a process-wide cache, never mutated from outside

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            memo = self._plain_tags
            tag = memo.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(memo) < 100_000 and len(value) <= 64:
                    memo[value] = tag
            return tag
        resolved: str = super().resolve(kind, value, implicit)
        return resolved


@dataclasses.dataclass(frozen=True, slots=True)
class Skipped:
    """A document that is not a Kubernetes object, and why (a debug note, not an error)."""

    file: str
    line: int
    reason: str


def load_objects(text: str, file: str) -> list[K8sObject]:
    """All Kubernetes objects in ``text``; raises ``InputError`` on the first bad document."""
    out: list[K8sObject] = []
    for item in iter_documents(text, file):
        if isinstance(item, InputError):
            raise item
        if isinstance(item, K8sObject):
            out.append(item)
    return out


def iter_documents(text: str, file: str, *,
                   json_fallback: bool = False) -> Iterator[K8sObject | Skipped | InputError]:
    """Yield each object (``List`` members expanded), each skipped document, and errors.

    A syntax error ends the stream (the parser cannot resynchronise), so it is
    yielded last; documents before it are still yielded and scanned.
    """
    try:
        check_depth(text, file)
    except InputError as e:
        yield e
        return
    loader = _Loader(text)
    has_anchors = "&" in text
    index = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
            except yaml.MarkedYAMLError as e:
                if json_fallback:
                    yield from _json_documents(text, file, e)
                    return
                yield _yaml_error(e, file)
                return
            except yaml.YAMLError as e:
                yield InputError(f"invalid YAML: {e}", file=file)
                return
            index += 1
            if node is None:
                continue
            line = node.start_mark.line + 1
            try:
                if has_anchors:
                    check_aliases(node, file, line)
                data = _Converter(loader, shared=has_anchors).convert(node)
            except InputError as e:
                yield e
                continue
            except yaml.YAMLError as e:
                yield _yaml_error(e, file) if isinstance(e, yaml.MarkedYAMLError) else InputError(
                    f"invalid YAML: {e}", file=file, line=line)
                continue
            except (ValueError, TypeError, RecursionError) as e:
                yield InputError(f"cannot read document {index}: {e}", file=file, line=line)
                continue
            yield from _objects(data, node, file, line, index)
    finally:
        loader.dispose()


def _objects(data: Any, node: yaml.Node, file: str, line: int,
             index: int) -> Iterator[K8sObject | Skipped | InputError]:
    if data is None:
        return
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else f"a {type(data).__name__} scalar"
        yield Skipped(file, line, f"document {index} is {what}, not a Kubernetes object")
        return
    kind = data.get("kind")
    api_version = data.get("apiVersion")
    if kind is None and api_version is None:
        yield Skipped(file, line, f"document {index} has no apiVersion/kind: not a Kubernetes manifest")
        return
    if not isinstance(kind, str) or not kind:
        yield InputError(f"document {index} has apiVersion {api_version!r} but no valid 'kind'; add kind: <Kind>",
                         file=file, line=line)
        return
    if not isinstance(api_version, str) or not api_version:
        yield InputError(f"{kind} in document {index} has no valid 'apiVersion'; add e.g. apiVersion: v1",
                         file=file, line=line)
        return
    if kind.endswith("List") and isinstance(data.get("items"), list):
        items_node = _child(node, "items")
        for i, item in enumerate(data["items"]):
            item_node = items_node.value[i] if isinstance(items_node, yaml.SequenceNode) else None
            item_line = item_node.start_mark.line + 1 if item_node is not None else line
            if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
                yield InputError(f"{kind} item {i} is not a Kubernetes object (no 'kind')", file=file, line=item_line)
                continue
            yield K8sObject(item, file, item_line, ("items", i), item_node)
        return
    yield K8sObject(data, file, line, (), node)


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                child: yaml.Node = v
                return child
    return None


def _yaml_error(e: yaml.MarkedYAMLError, file: str) -> InputError:
    mark = e.problem_mark or e.context_mark
    problem = e.problem or str(e)
    if e.context:
        problem = f"{problem} ({e.context})"
    line = mark.line + 1 if mark else None
    col = mark.column + 1 if mark else None
    return InputError(f"invalid YAML: {problem}; fix the syntax at this position", file=file, line=line, column=col)


def _json_documents(text: str, file: str,
                    yaml_error: yaml.MarkedYAMLError) -> Iterator[K8sObject | Skipped | InputError]:
    """JSON that libyaml rejects (rare: e.g. some escapes); positions fall back to line 1."""
    try:
        data = jsonsafe.loads(text)
    except json.JSONDecodeError as e:
        yield InputError(f"invalid JSON: {e.msg}; fix the syntax at this position", file=file, line=e.lineno,
                         column=e.colno)
        return
    except RecursionError:
        yield InputError(f"JSON nested deeper than {MAX_DEPTH} levels", file=file)
        return
    yield from _objects(data, yaml.MappingNode("tag:yaml.org,2002:map", []), file, 1, 1)


class _Converter:
    """Nodes to plain Python data, several times faster than PyYAML's constructor.

    Strings (nearly every scalar in a manifest) are taken as they are; other
    standard scalar tags use the safe constructor's own functions, so values are
    exactly what ``yaml.safe_load`` gives. Unknown tags (CloudFormation's
    ``!Ref``, ``!!python/object``) are read as plain data, never constructed, so
    foreign YAML is skipped as non-Kubernetes rather than failing the run. Merge keys (``<<``) are applied as YAML 1.1
    defines them. With ``shared`` (the document has anchors), an aliased node is
    converted once and shared, as the safe constructor does, so aliases never
    multiply memory; the alias check has already refused cycles and bombs.
    """

    def __init__(self, loader: Any, *, shared: bool) -> None:
        self._loader = loader
        self._scalars = loader.yaml_constructors
        self._memo: dict[int, Any] | None = {} if shared else None

    def convert(self, node: yaml.Node) -> Any:
        memo = self._memo
        if memo is not None:
            key = id(node)
            if key in memo:
                return memo[key]
            memo[key] = value = self._convert(node)
            return value
        return self._convert(node)

    def _convert(self, node: yaml.Node) -> Any:
        cls = node.__class__
        if cls is yaml.MappingNode:
            out: dict[Any, Any] = {}
            merges: list[yaml.Node] = []
            for k, v in node.value:
                if k.tag == _MERGE:
                    merges.append(v)
                    continue
                out[self.convert(k)] = self.convert(v)
            if merges:
                out = self._merge(merges, out)
            return out
        if cls is yaml.SequenceNode:
            return [self.convert(c) for c in node.value]
        if node.tag == _STR:
            return node.value
        construct = self._scalars.get(node.tag)
        if construct is None:  # a local or foreign tag (!Ref, !!python/...): plain data, never executed
            return node.value
        return construct(self._loader, node)

    def _merge(self, merges: list[yaml.Node], explicit: dict[Any, Any]) -> dict[Any, Any]:
        merged: dict[Any, Any] = {}
        sources: list[yaml.Node] = []
        for m in merges:
            sources.extend(m.value if isinstance(m, yaml.SequenceNode) else [m])
        for src in reversed(sources):  # earlier mappings take precedence
            value = self.convert(src)
            if not isinstance(value, dict):
                raise ValueError(f"merge key '<<' needs a mapping, line {src.start_mark.line + 1}")
            merged.update(value)
        merged.update(explicit)
        return merged
