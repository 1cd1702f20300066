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

import functools
from collections.abc import Callable

from cloudward.distribute.versions import InvalidVersion
from cloudward.distribute.vulndb.model import Affected, Event, Range

Compare = Callable[[str, str], int]


def _safe(cmp: Compare, a: str, b: str) -> int | None:
    try:
        return cmp(a, b)
    except InvalidVersion:
        return None


def _sort(events: tuple[Event, ...], cmp: Compare) -> list[Event]:
    def key(e: Event) -> tuple[int, str]:
        return (0, "") if e.kind == "introduced" and e.version == "0" else (1, e.version)

    def order(x: Event, y: Event) -> int:
        kx, ky = key(x), key(y)
        if kx[0] != ky[0]:
            return kx[0] - ky[0]
        if kx[0] == 0:
            return 0
        r = _safe(cmp, x.version, y.version)
        return 0 if r is None else r

    return sorted(events, key=functools.cmp_to_key(order))


def in_range(version: str, rng: Range, cmp: Compare) -> tuple[bool, list[str]]:
    """(affected, fixed versions of this range above ``version``)."""
    limits = [e.version for e in rng.events if e.kind == "limit"]
    if limits and not any(lim == "*" or (_safe(cmp, version, lim) or 0) < 0 for lim in limits):
        return False, []
    vulnerable = False
    for e in _sort(rng.events, cmp):
        if e.kind == "introduced":
            if e.version == "0":
                vulnerable = True
            else:
                r = _safe(cmp, version, e.version)
                if r is None or r >= 0:
                    vulnerable = True
        elif e.kind == "fixed":
            r = _safe(cmp, version, e.version)
            if r is not None and r >= 0:
                vulnerable = False
        elif e.kind == "last_affected":
            r = _safe(cmp, version, e.version)
            if r is not None and r > 0:
                vulnerable = False
    fixes = [e.version for e in rng.events if e.kind == "fixed" and (_safe(cmp, version, e.version) or 0) < 0]
    return vulnerable, fixes


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
