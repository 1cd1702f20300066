"""OSV range semantics: is one version inside an affected entry, and which versions fix it.

Per the OSV schema's evaluation rules: events of an ECOSYSTEM or SEMVER range are
sorted by version (``introduced: "0"`` first); walking them, ``introduced``
opens, ``fixed`` closes at the fix, ``last_affected`` closes after it; ``limit``
events cap the whole range. An explicit ``versions`` list matches too. An
entry with neither ranges nor versions affects every version (conservative, as
the Go vulnerability database reads it). An event version we cannot parse never
turns into a silent "not affected": an unreadable ``introduced`` opens the range.
"""

from __future__ import annotations

from collections.abc import Callable

from cloudward.distribute.versions import InvalidVersion
from cloudward.distribute.vulndb.model import Affected, Event, Range

Compare = Callable[[str, str], int]


def _safe(cmp: Compare, a: str, b: str) -> int | None:
    try:
        return cmp(a, b)
    except InvalidVersion:
        return None


def _at_or_after(e: Event, best: Event, cmp: Compare) -> bool:
    """Would ``e`` come at or after ``best`` in the schema's event order (ties: the later-listed wins)?"""
    if e.kind == "introduced" and e.version == "0":
        return best.kind == "introduced" and best.version == "0"
    if best.kind == "introduced" and best.version == "0":
        return True
    r = _safe(cmp, e.version, best.version)
    return r is None or r >= 0


def in_range(version: str, rng: Range, cmp: Compare) -> tuple[bool, list[str]]:
    """(affected, fixed versions of this range above ``version``).

    Walking the sorted events, each event that ``version`` has reached sets the
    state (introduced → affected, fixed/last_affected → not), so the answer is the
    kind of the *last* event reached in sort order. We find that event with one
    comparison of ``version`` per event and a running maximum, instead of sorting
    every range of every candidate: the same result for a fraction of the comparisons.
    """
    last: Event | None = None
    fixes: list[str] = []
    limited = under_limit = False
    for e in rng.events:
        kind = e.kind
        if kind == "limit":
            limited = True
            under_limit = under_limit or e.version == "*" or (_safe(cmp, version, e.version) or 0) < 0
            continue
        if kind == "introduced":
            reached = e.version == "0" or (r := _safe(cmp, version, e.version)) is None or r >= 0
        elif kind == "fixed":
            r = _safe(cmp, version, e.version)
            reached = r is not None and r >= 0
            if r is not None and r < 0:
                fixes.append(e.version)
        elif kind == "last_affected":
            r = _safe(cmp, version, e.version)
            reached = r is not None and r > 0
        else:
            continue
        if reached and (last is None or _at_or_after(e, last, cmp)):
            last = e
    if limited and not under_limit:
        return False, []
    return last is not None and last.kind == "introduced", fixes


def affects(version: str, entry: Affected, cmp: Compare) -> tuple[bool, list[str]]:
    """(affected, fixed versions) for one affected entry; distro statuses are decided by the caller."""
    if not entry.ranges and not entry.versions:
        return True, []
    hit = False
    fixes: list[str] = []
    for rng in entry.ranges:
        inside, fixed = in_range(version, rng, cmp)
        if inside:
            hit = True
            fixes.extend(fixed)
    if not hit:
        for listed in entry.versions:
            if listed == version or _safe(cmp, version, listed) == 0:
                hit = True
                break
    return hit, fixes if hit else []
