"""SemVer 2.0.0 precedence (npm, crates.io, OSV ``SEMVER`` ranges).

Build metadata is ignored; a pre-release sorts before its release; numeric
pre-release identifiers compare numerically and below alphanumeric ones. A
leading ``v`` is accepted (npm and Go write it), and so are missing minor/patch
parts (``1.2`` reads as ``1.2.0``), as OSV's SEMVER ranges do in practice.
"""

from __future__ import annotations

import functools
import re

from cloudward.distribute.versions._base import InvalidVersion

name = "semver"

_RE = re.compile(
    r"^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
# npm's loose mode tolerates leading zeros and a leading '='; accept them for reading installed versions.
_LOOSE = re.compile(r"^[=v\s]*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-?([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
                    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")

Key = tuple[int, int, int, tuple[tuple[int, int, str] | int, ...]]


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> Key:
    """A key whose tuple order is SemVer precedence.

    The pre-release part is ``(1,)`` for a release and ``(0, identifiers...)`` for a
    pre-release, so a release sorts after its pre-releases and a longer run of equal
    identifiers after a shorter one; identifiers are ``(0, n, "")`` (numeric, by value)
    or ``(1, 0, text)`` (alphanumeric, ASCII order, above every numeric one).
    """
    m = _RE.match(version.strip()) or _LOOSE.match(version.strip())
    if not m:
        raise InvalidVersion(f"not a semantic version: {version!r}")
    major, minor, patch = (int(g) if g else 0 for g in m.group(1, 2, 3))
    pre = m.group(4)
    if not pre:
        return major, minor, patch, (1,)
    return major, minor, patch, (0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))


def compare(a: str, b: str) -> int:
    ka, kb = parse(a), parse(b)
    return (ka > kb) - (ka < kb)
