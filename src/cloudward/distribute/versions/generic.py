"""A fallback ordering for ecosystems without a dedicated scheme (Packagist, crates.io extras).

Numbers compare numerically, words alphabetically, and a word right after the
release part marks a pre-release (``1.0-beta < 1.0``). Documented as
approximate; exact schemes are used wherever one exists.
"""

from __future__ import annotations

import functools
import re

from cloudward.distribute.versions._base import InvalidVersion, cmp

name = "generic"

_TOKEN = re.compile(r"\d+|[a-zA-Z]+")
_PRE = {"dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "rc": 3, "pre": 3}


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> tuple[tuple[int, int, str], ...]:
    toks = _TOKEN.findall(version.strip().lstrip("vV"))
    if not toks or not toks[0].isdigit():
        raise InvalidVersion(f"not a version: {version!r}")
    out: list[tuple[int, int, str]] = []
    for t in toks:
        if t.isdigit():
            out.append((2, int(t), ""))
        else:
            low = t.lower()
            out.append((0, _PRE[low], "") if low in _PRE else (1, 0, low))
    while out and out[-1] == (2, 0, ""):
        out.pop()
    return tuple(out)


def compare(a: str, b: str) -> int:
    pa, pb = parse(a), parse(b)
    for i in range(max(len(pa), len(pb))):
        x = pa[i] if i < len(pa) else (1, 0, "")
        y = pb[i] if i < len(pb) else (1, 0, "")
        if x != y:
            return cmp(x, y)
    return 0
