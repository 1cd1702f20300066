"""Load Falco rules YAML files, in order, into one merged ``RulesFile``.

Files are read with PyYAML's safe C loader; every item and key keeps its line so an
error names ``file:line``. Items are merged as Falco merges them: a later definition
of a rule, macro or list replaces the earlier one; ``append: true`` and
``override: {key: append|replace}`` extend or replace parts; an item holding only
``enabled`` switches an existing rule on or off. Conditions are not parsed here;
``compile_rules`` does that, for one source, so rules of other sources never fail
on fields this engine does not know.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from cloudward.core.errors import InputError
from cloudward.core.files import read_user_file
from cloudward.core.yamlsafe import check_aliases, check_depth
from cloudward.runtime.rules.model import (
    DEFAULT_SOURCE,
    ExceptionDef,
    ListDef,
    MacroDef,
    Priority,
    RuleDef,
    RulesFile,
    Where,
)

MAX_RULES_FILE = 16 * 1024 * 1024
_RULE_KEYS = frozenset({"rule", "desc", "condition", "output", "priority", "tags", "enabled", "source", "exceptions",
                        "append", "override", "capture", "capture_duration", "warn_evttypes",
                        "skip-if-unknown-filter"})
_MACRO_KEYS = frozenset({"macro", "condition", "append", "override", "source"})
_LIST_KEYS = frozenset({"list", "items", "append", "override"})
_EXC_KEYS = frozenset({"name", "fields", "comps", "values"})
_STR_APPEND = frozenset({"condition", "output", "desc"})
_LIST_APPEND = frozenset({"tags", "exceptions", "items"})

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


@dataclasses.dataclass
class _Item:
    """One top-level YAML mapping with the line of the item and of each key."""

    data: dict[str, Any]
    line: int
    key_lines: dict[str, int]
    file: str

    def where(self, key: str | None = None) -> Where:
        return Where(self.file, self.key_lines.get(key, self.line) if key else self.line)

    def error(self, message: str, key: str | None = None) -> InputError:
        w = self.where(key)
        return InputError(message, file=w.file, line=w.line)


def load_rules(sources: Iterable[str | Path | tuple[str, str]]) -> RulesFile:
    """Merge rules files in order. Each source is a path, or ``(display_name, text)``.

    Raises ``InputError`` naming ``file:line`` for the first problem found.
    """
    state = _State()
    files: list[str] = []
    for src in sources:
        if isinstance(src, tuple):
            name, text = src
        else:
            name, text = str(src), _read(Path(src))
        files.append(name)
        for item in _items(text, name):
            state.add(item)
    return RulesFile(rules=tuple(state.rules.values()), macros=dict(state.macros), lists=dict(state.lists),
                     files=tuple(files))


def _read(path: Path) -> str:
    data = read_user_file(path, "rules file", max_size=MAX_RULES_FILE, hint="give a rules YAML file (check --rules)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"rules file is not UTF-8 text ({e.reason})", file=str(path)) from None


def _items(text: str, file: str) -> list[_Item]:
    check_depth(text, file)
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                check_aliases(root, file, 1)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(f"invalid YAML: {e.problem or e.context}", file=file, line=line) from None
    except yaml.YAMLError as e:
        raise InputError(f"invalid YAML: {e}", file=file) from None
    if data is None:
        return []
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode):
        raise InputError("a Falco rules file is a YAML list of rule, macro and list items", file=file,
                         line=root.start_mark.line + 1 if root is not None else None)
    out = []
    for value, node in zip(data, root.value, strict=True):
        line = node.start_mark.line + 1
        if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
            raise InputError("each item of a rules file must be a mapping (rule, macro or list)", file=file,
                             line=line)
        key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
        out.append(_Item({str(k): v for k, v in value.items()}, line, key_lines, file))
    return out


class _State:
    def __init__(self) -> None:
        self.rules: dict[str, RuleDef] = {}
        self.macros: dict[str, MacroDef] = {}
        self.lists: dict[str, ListDef] = {}

    def add(self, item: _Item) -> None:
        d = item.data
        kinds = [k for k in ("rule", "macro", "list") if k in d]
        if len(kinds) > 1:
            raise item.error(f"an item may define only one of rule, macro, list; this one has {', '.join(kinds)}")
        if not kinds:
            if set(d) <= {"required_engine_version", "required_plugin_versions"}:
                return  # tolerated: cloudward implements the engine and fields itself
            raise item.error(f"unknown item with keys {', '.join(sorted(d))}; expected rule, macro, list, "
                             "required_engine_version or required_plugin_versions")
        kind = kinds[0]
        name = d[kind]
        if not isinstance(name, str) or not name.strip():
            raise item.error(f"{kind} name must be a non-empty string", kind)
        allowed = {"rule": _RULE_KEYS, "macro": _MACRO_KEYS, "list": _LIST_KEYS}[kind]
        for key in d:
            if key not in allowed:
                raise item.error(f"unknown key {key!r} in {kind} {name!r}; allowed keys: {', '.join(sorted(allowed))}",
                                 key)
        mode = _mode(item, kind)
        if kind == "list":
            self._list(item, name, mode)
        elif kind == "macro":
            self._macro(item, name, mode)
        else:
            self._rule(item, name, mode)

    def _list(self, item: _Item, name: str, mode: dict[str, str]) -> None:
        items = item.data.get("items")
        if not isinstance(items, list) or not all(isinstance(i, str | int | float) for i in items):
            raise item.error(f"list {name!r} needs 'items': a list of strings", "items" if "items" in item.data
                             else None)
        values = tuple(str(i) for i in items)
        old = self.lists.get(name)
        if mode.get("items") == "append":
            if old is None:
                raise item.error(f"list {name!r} appends to a list that is not defined earlier; define it first")
            values = old.items + values
        self.lists[name] = ListDef(name, values, item.where())

    def _macro(self, item: _Item, name: str, mode: dict[str, str]) -> None:
        cond = item.data.get("condition")
        if not isinstance(cond, str):
            raise item.error(f"macro {name!r} needs 'condition': a string", "condition" if "condition" in item.data
                             else None)
        old = self.macros.get(name)
        if mode.get("condition") == "append":
            if old is None:
                raise item.error(f"macro {name!r} appends to a macro that is not defined earlier; define it first")
            cond = f"{old.condition} {cond}"
        self.macros[name] = MacroDef(name, cond, item.where("condition"))

    def _rule(self, item: _Item, name: str, mode: dict[str, str]) -> None:
        d = item.data
        old = self.rules.get(name)
        fields = {k: v for k, v in d.items() if k not in ("rule", "append", "override")}
        if not mode and old is not None and set(fields) == {"enabled"}:
            self.rules[name] = dataclasses.replace(old, enabled=_bool(item, "enabled"))
            return
        if mode:
            if old is None:
                raise item.error(f"rule {name!r} modifies a rule that is not defined earlier; define it first")
            self.rules[name] = _merge_rule(item, old, mode)
            return
        for key in ("condition", "output", "priority"):
            if key not in d:
                hint = " (to switch an existing rule on or off, give only 'enabled')" if old is None else ""
                raise item.error(f"rule {name!r} is missing required key {key!r}{hint}")
        self.rules[name] = RuleDef(
            name=name, condition=_str(item, "condition"), output=_str(item, "output").strip(),
            priority=_priority(item), desc=_str(item, "desc", "").strip(),
            source=_str(item, "source", DEFAULT_SOURCE), tags=_tags(item), enabled=_bool(item, "enabled", True),
            exceptions=_exceptions(item), skip_if_unknown_filter=_bool(item, "skip-if-unknown-filter", False),
            where=item.where(), condition_where=item.where("condition"))


def _mode(item: _Item, kind: str) -> dict[str, str]:
    """The override mode of each key: from ``override:``, or every given key in legacy ``append: true``."""
    d = item.data
    if "append" in d and "override" in d:
        raise item.error("use either 'append' or 'override', not both", "override")
    if d.get("append") is True:
        appendable = {"rule": ("condition", "exceptions", "output", "desc", "tags"), "macro": ("condition",),
                      "list": ("items",)}[kind]
        return {k: "append" for k in appendable if k in d}
    if "append" in d and not isinstance(d["append"], bool):
        raise item.error("'append' must be true or false", "append")
    ov = d.get("override")
    if ov is None:
        return {}
    if not isinstance(ov, dict) or not ov:
        raise item.error("'override' must map keys to 'append' or 'replace'", "override")
    for key, how in ov.items():
        if how not in ("append", "replace"):
            raise item.error(f"override of {key!r} must be 'append' or 'replace', not {how!r}", "override")
        if key not in d:
            raise item.error(f"override names {key!r} but the item does not set it", "override")
        if how == "append" and key not in _STR_APPEND | _LIST_APPEND:
            raise item.error(f"{key!r} cannot be appended to; use 'replace'", "override")
    for key in d:
        if key not in (kind, "override") and key not in ov:
            raise item.error(f"key {key!r} is set but not named in 'override'; add '{key}: replace' or 'append'", key)
    return {str(k): str(v) for k, v in ov.items()}


def _merge_rule(item: _Item, old: RuleDef, mode: dict[str, str]) -> RuleDef:
    new = old
    for key, how in mode.items():
        if key == "condition":
            cond = _str(item, "condition")
            new = dataclasses.replace(new, condition=f"{new.condition} {cond}" if how == "append" else cond,
                                      condition_where=item.where("condition"))
        elif key == "output":
            text = _str(item, key).strip()
            new = dataclasses.replace(new, output=f"{new.output} {text}" if how == "append" else text)
        elif key == "desc":
            text = _str(item, key).strip()
            new = dataclasses.replace(new, desc=f"{new.desc} {text}" if how == "append" else text)
        elif key == "tags":
            tags = _tags(item)
            new = dataclasses.replace(new, tags=new.tags + tags if how == "append" else tags)
        elif key == "exceptions":
            excs = _exceptions(item)
            new = dataclasses.replace(new, exceptions=_append_exceptions(new.exceptions, excs)
                                      if how == "append" else excs)
        elif key == "priority":
            new = dataclasses.replace(new, priority=_priority(item))
        elif key == "enabled":
            new = dataclasses.replace(new, enabled=_bool(item, "enabled"))
        elif key == "source":
            new = dataclasses.replace(new, source=_str(item, "source"))
        elif key == "skip-if-unknown-filter":
            new = dataclasses.replace(new, skip_if_unknown_filter=_bool(item, key))
    return new


def _append_exceptions(old: tuple[ExceptionDef, ...], new: tuple[ExceptionDef, ...]) -> tuple[ExceptionDef, ...]:
    """Falco appends the values of a same-named exception, and adds new ones."""
    merged = list(old)
    for exc in new:
        for i, cur in enumerate(merged):
            if cur.name == exc.name:
                merged[i] = dataclasses.replace(cur, values=cur.values + exc.values)
                break
        else:
            merged.append(exc)
    return tuple(merged)


def _str(item: _Item, key: str, default: str | None = None) -> str:
    v = item.data.get(key, default)
    if not isinstance(v, str):
        raise item.error(f"{key!r} must be a string", key)
    return v


def _bool(item: _Item, key: str, default: bool | None = None) -> bool:
    v = item.data.get(key, default)
    if not isinstance(v, bool):
        raise item.error(f"{key!r} must be true or false", key)
    return v


def _priority(item: _Item) -> Priority:
    v = item.data.get("priority")
    try:
        return Priority.parse(str(v))
    except ValueError as e:
        raise item.error(str(e), "priority") from None


def _tags(item: _Item) -> tuple[str, ...]:
    v = item.data.get("tags", [])
    if not isinstance(v, list) or not all(isinstance(t, str | int) for t in v):
        raise item.error("'tags' must be a list of strings", "tags")
    return tuple(str(t) for t in v)


def _exceptions(item: _Item) -> tuple[ExceptionDef, ...]:
    v = item.data.get("exceptions", [])
    if not isinstance(v, list):
        raise item.error("'exceptions' must be a list", "exceptions")
    where = item.where("exceptions")
    out = []
    for exc in v:
        if not isinstance(exc, dict) or not isinstance(exc.get("name"), str):
            raise item.error("each exception needs a 'name' and 'fields'", "exceptions")
        for key in exc:
            if key not in _EXC_KEYS:
                raise item.error(f"unknown key {key!r} in exception {exc['name']!r}; allowed: "
                                 f"{', '.join(sorted(_EXC_KEYS))}", "exceptions")
        fields, comps, values = exc.get("fields"), exc.get("comps"), exc.get("values", [])
        name = exc["name"]
        if isinstance(fields, str):
            comp = comps if isinstance(comps, str) else "in"
            if not isinstance(values, list):
                raise item.error(f"exception {name!r}: 'values' must be a list", "exceptions")
            out.append(ExceptionDef(name, (fields,), (comp,), tuple((x,) for x in values), True, where))
            continue
        if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
            raise item.error(f"exception {name!r}: 'fields' must be a field name or a list of them", "exceptions")
        if comps is None:
            comps = ["="] * len(fields)
        if not isinstance(comps, list) or len(comps) != len(fields):
            raise item.error(f"exception {name!r}: 'comps' must list one operator per field", "exceptions")
        if not isinstance(values, list):
            raise item.error(f"exception {name!r}: 'values' must be a list of lists", "exceptions")
        tuples = []
        for row in values:
            if not isinstance(row, list) or len(row) != len(fields):
                raise item.error(f"exception {name!r}: each value must be a list of {len(fields)} item(s), one "
                                 "per field", "exceptions")
            tuples.append(tuple(row))
        out.append(ExceptionDef(name, tuple(fields), tuple(str(c) for c in comps), tuple(tuples), False, where))
    return tuple(out)


