"""Maven version ordering: a port of Maven's ``ComparableVersion`` (3.x).

The version is split at ``.``, ``-`` and digit/letter transitions into a tree of
integer, qualifier and list items. Known qualifiers order
``alpha < beta < milestone < rc = cr < snapshot < (release) = ga = final < sp``;
unknown qualifiers sort after ``sp``, alphabetically. ``a1``/``b1``/``m1`` are
``alpha-1``/``beta-1``/``milestone-1``; trailing null items vanish
(``1.0.0 == 1 == 1-ga``).
"""

from __future__ import annotations

import functools
from typing import Union

from cloudward.distribute.versions._base import cmp

name = "maven"

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))


class _List(list["_Item"]):
    """A sub-list, opened by ``-`` or a digit/letter transition."""


_Item = Union[int, str, _List]  # noqa: UP007 — a recursive alias needs the old spelling


def _qualifier(s: str) -> str:
    s = _ALIASES.get(s, s)
    return str(_QUALIFIERS.index(s)) if s in _QUALIFIERS else f"{len(_QUALIFIERS)}-{s}"


def _string_item(s: str, followed_by_digit: bool) -> str:
    if followed_by_digit and len(s) == 1:
        s = {"a": "alpha", "b": "beta", "m": "milestone"}.get(s, s)
    return _ALIASES.get(s, s)


def _parse_item(buf: str, is_digit: bool) -> _Item:
    return int(buf) if is_digit else _string_item(buf, False)


def _is_null(item: _Item) -> bool:
    if isinstance(item, _List):
        return not item
    if isinstance(item, int):
        return item == 0
    return _qualifier(item) == _RELEASE_INDEX


def _normalize(lst: _List) -> None:
    for i in range(len(lst) - 1, -1, -1):
        if _is_null(lst[i]):
            del lst[i]
        elif not isinstance(lst[i], _List):
            break


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> _List:
    v = version.strip().lower()
    items = _List()
    lst = items
    stack = [lst]
    is_digit = False
    start = 0
    for i, c in enumerate(v):
        if c in ".-":
            lst.append(0 if i == start else _parse_item(v[start:i], is_digit))
            start = i + 1
            if c == "-":
                new = _List()
                lst.append(new)
                lst = new
                stack.append(lst)
        elif c.isdigit():
            if not is_digit and i > start:
                lst.append(_string_item(v[start:i], True))
                start = i
                new = _List()
                lst.append(new)
                lst = new
                stack.append(lst)
            is_digit = True
        else:
            if is_digit and i > start:
                lst.append(_parse_item(v[start:i], True))
                start = i
                new = _List()
                lst.append(new)
                lst = new
                stack.append(lst)
            is_digit = False
    if len(v) > start:
        lst.append(_parse_item(v[start:], is_digit))
    while stack:
        _normalize(stack.pop())
    return items


def _cmp_item(a: _Item | None, b: _Item | None) -> int:
    """``a.compareTo(b)`` of ComparableVersion; ``None`` is the missing item."""
    if a is None:
        return 0 if b is None else -_cmp_item(b, None)
    if isinstance(a, _List):
        if b is None:
            return 0 if not a else _cmp_item(a[0], None)
        if isinstance(b, int):
            return -1
        if isinstance(b, str):
            return 1
        for i in range(max(len(a), len(b))):
            r = _cmp_item(a[i] if i < len(a) else None, b[i] if i < len(b) else None)
            if r:
                return r
        return 0
    if isinstance(a, int):
        if b is None:
            return 0 if a == 0 else 1
        if isinstance(b, int):
            return cmp(a, b)
        return 1  # int beats a qualifier and a list
    if b is None:
        return cmp(_qualifier(a), _RELEASE_INDEX)
    if isinstance(b, str):
        return cmp(_qualifier(a), _qualifier(b))
    return -1  # a qualifier is below an int and a list


def compare(a: str, b: str) -> int:
    return _cmp_item(parse(a), parse(b))
