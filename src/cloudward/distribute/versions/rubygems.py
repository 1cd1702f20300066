"""RubyGems ordering (``Gem::Version#<=>``).

A version splits into numeric and alphabetic segments; any letter makes it a
pre-release (``1.0.a < 1.0``); trailing zero segments do not count
(``1.0 == 1``), and a string segment sorts before a number (``1.0.a < 1.0.0``).
``-`` is read as ``.pre.`` as Gem::Version does.
"""

from __future__ import annotations

import functools
import re

from cloudward.distribute.versions._base import InvalidVersion, cmp

name = "rubygems"

_VALID = re.compile(r"^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$")
_SEG = re.compile(r"[0-9]+|[a-z]+", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)
def canonical_segments(version: str) -> tuple[int | str, ...]:
    v = version.strip()
    if not _VALID.match(v):
        raise InvalidVersion(f"not a RubyGems version: {version!r}")
    v = v.replace("-", ".pre.")
    segs: list[int | str] = [int(s) if s.isdigit() else s for s in _SEG.findall(v)]
    # Gem::Version#canonical_segments: drop trailing zeros of the release part and of the pre-release part.
    first_str = next((i for i, s in enumerate(segs) if isinstance(s, str)), len(segs))
    release, pre = segs[:first_str], segs[first_str:]
    while release and release[-1] == 0:
        release.pop()
    while len(pre) > 1 and pre[-1] == 0:
        pre.pop()
    return tuple(release + pre)


def compare(a: str, b: str) -> int:
    sa, sb = canonical_segments(a), canonical_segments(b)
    for i in range(max(len(sa), len(sb))):
        x: int | str = sa[i] if i < len(sa) else 0
        y: int | str = sb[i] if i < len(sb) else 0
        if x == y:
            continue
        if isinstance(x, str) and isinstance(y, int):
            return -1
        if isinstance(x, int) and isinstance(y, str):
            return 1
        return cmp(x, y)
    return 0
