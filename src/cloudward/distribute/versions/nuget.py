"""NuGet version ordering (NuGet.Versioning): up to four numeric parts, SemVer 2 pre-release labels.

Differences from SemVer that matter: a fourth "revision" part, missing parts are
zero (``1.0 == 1.0.0.0``), leading zeros are allowed, and pre-release labels
compare case-insensitively. Build metadata is ignored.
"""

from __future__ import annotations

import functools
import re

from cloudward.distribute.versions._base import InvalidVersion, cmp

name = "nuget"

_RE = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
                 r"(?:\+[0-9A-Za-z.-]*)?$")


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> tuple[tuple[int, ...], tuple[tuple[int, int, str], ...] | None]:
    m = _RE.match(version.strip())
    if not m:
        raise InvalidVersion(f"not a NuGet version: {version!r}")
    nums = tuple(int(g) if g else 0 for g in m.group(1, 2, 3, 4))
    pre = m.group(5)
    if not pre:
        return nums, None
    return nums, tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in pre.split("."))


def compare(a: str, b: str) -> int:
    (na, pa), (nb, pb) = parse(a), parse(b)
    r = cmp(na, nb)
    if r:
        return r
    if pa is None or pb is None:
        return 0 if pa is pb else (1 if pa is None else -1)
    return cmp(pa, pb)
