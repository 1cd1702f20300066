"""Index rules by what an event must carry for them to match, so each event meets only rules that can.

From each compiled condition we derive, for a few cheap fields (stage, verb,
resource, subresource), the set of values the condition admits; ``None`` in a set
means "the field is absent". A rule with no constraint on a field admits any value.
Events are keyed by those four values and the candidate rules for each key are
computed once and memoised, so the per-event cost is four dict lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from cloudward.runtime.rules.condition import And, Check, MacroRef, Node, Not, Or
from cloudward.runtime.rules.fields import js

Requirements = dict[str, frozenset[str | None]]
T = TypeVar("T")

#: condition field (with its argument) -> index slot
_SLOTS = {("ka.stage", None): "stage", ("jevt.value", "/stage"): "stage", ("json.value", "/stage"): "stage",
          ("ka.verb", None): "verb", ("ka.target.resource", None): "resource",
          ("ka.target.subresource", None): "subresource"}
SLOTS = ("stage", "verb", "resource", "subresource")
MAX_MEMO = 8192


def requirements(node: Node, expand: Callable[[Check], list[str]]) -> Requirements:
    """Necessary conditions: for each slot, the values an event must have for ``node`` to be true.

    ``expand`` gives a list check's operands with list names expanded.
    """
    if isinstance(node, Check):
        slot = _SLOTS.get((node.field, node.arg))
        if slot is None or node.transformer:
            return {}
        if node.op in ("=", "==") and isinstance(node.value, str):
            return {slot: frozenset({node.value})}
        if node.op in ("in", "intersects") and isinstance(node.value, tuple):
            return {slot: frozenset(expand(node))}
        return {}
    if isinstance(node, Not):
        inner = node.item
        if isinstance(inner, Check) and inner.op == "exists":
            slot = _SLOTS.get((inner.field, inner.arg))
            return {slot: frozenset({None})} if slot else {}
        return {}
    if isinstance(node, And):
        out: dict[str, frozenset[str | None]] = {}
        for item in node.items:
            for slot, vals in requirements(item, expand).items():
                out[slot] = out[slot] & vals if slot in out else vals
        return out
    if isinstance(node, Or):
        reqs = [requirements(i, expand) for i in node.items]
        common = set(reqs[0]).intersection(*reqs[1:]) if reqs else set()
        result: dict[str, frozenset[str | None]] = {}
        for slot in common:
            acc: frozenset[str | None] = frozenset()
            for r in reqs:
                acc = acc | r[slot]
            result[slot] = acc
        return result
    assert not isinstance(node, MacroRef)
    return {}


def flatten_and(node: Node) -> list[Node]:
    if isinstance(node, And):
        return [c for item in node.items for c in flatten_and(item)]
    return [node]


def implied(node: Node, req: Requirements, expand: Callable[[Check], list[str]]) -> bool:
    """True when an event the index admitted under ``req`` always satisfies ``node``."""
    if isinstance(node, Not) and isinstance(node.item, Check) and node.item.op == "exists":
        slot = _SLOTS.get((node.item.field, node.item.arg))
        return slot is not None and not node.item.transformer and slot in req and req[slot] <= {None}
    if not isinstance(node, Check) or node.transformer:
        return False
    slot = _SLOTS.get((node.field, node.arg))
    if slot is None or slot not in req or None in req[slot]:
        return False
    if node.op in ("=", "==") and isinstance(node.value, str):
        return req[slot] <= {node.value}
    if node.op in ("in", "intersects") and isinstance(node.value, tuple):
        return req[slot] <= set(expand(node))
    return False


def event_key(ev: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    ref = ev.get("objectRef")
    if isinstance(ref, dict):
        return ev.get("stage"), ev.get("verb"), ref.get("resource"), ref.get("subresource")
    return ev.get("stage"), ev.get("verb"), None, None


class RuleIndex(Generic[T]):
    """Candidate lookup: ``candidates(event)`` -> the rules whose requirements the event meets, in rule order."""

    def __init__(self, entries: Sequence[tuple[T, Requirements]]) -> None:
        self._entries = [(item, tuple(req.get(s) for s in SLOTS)) for item, req in entries]
        self._memo: dict[tuple[Any, ...], tuple[T, ...]] = {}

    def candidates(self, ev: dict[str, Any]) -> tuple[T, ...]:
        key = event_key(ev)
        hit = self._memo.get(key)
        if hit is None:
            hit = tuple(item for item, req in self._entries if _admits(req, key))
            if len(self._memo) >= MAX_MEMO:
                self._memo.clear()
            self._memo[key] = hit
        return hit


def _admits(req: tuple[frozenset[str | None] | None, ...], key: tuple[Any, ...]) -> bool:
    for allowed, value in zip(req, key, strict=True):
        if allowed is not None:
            v = value if value is None or isinstance(value, str) else js(value)
            if v not in allowed:
                return False
    return True

