"""Debian version ordering (``epoch:upstream-revision``) as deb-version(7) defines it.

``~`` sorts before everything, even the end of the string, so ``1.0~rc1 < 1.0``;
letters sort before non-letters; digit runs compare numerically.
"""

from __future__ import annotations

import functools
import re

from cloudward.distribute.versions._base import InvalidVersion, cmp

name = "dpkg"

_UPSTREAM_OK = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")
_REVISION_OK = re.compile(r"^[A-Za-z0-9.+~]+$")


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> tuple[int, str, str]:
    """Split into (epoch, upstream, revision); raise ``InvalidVersion`` when dpkg would refuse it."""
    v = version.strip()
    if not v:
        raise InvalidVersion("empty Debian version")
    epoch = 0
    if ":" in v:
        head, v = v.split(":", 1)
        if not head.isdigit():
            raise InvalidVersion(f"invalid epoch in Debian version {version!r}")
        epoch = int(head)
    upstream, revision = (v.rsplit("-", 1) if "-" in v else (v, ""))
    if "-" in v and not revision:
        raise InvalidVersion(f"empty revision in Debian version {version!r}")
    if not upstream or not upstream[0].isdigit() or not _UPSTREAM_OK.match(upstream):
        raise InvalidVersion(f"invalid upstream part in Debian version {version!r}")
    if revision and not _REVISION_OK.match(revision):
        raise InvalidVersion(f"invalid revision in Debian version {version!r}")
    return epoch, upstream, revision


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def compare(a: str, b: str) -> int:
    """Compare two Debian versions exactly as ``dpkg --compare-versions`` does."""
    ea, ua, ra = parse(a)
    eb, ub, rb = parse(b)
    if ea != eb:
        return cmp(ea, eb)
    r = _verrevcmp(ua, ub)
    if r:
        return 1 if r > 0 else -1
    r = _verrevcmp(ra, rb)
    return (r > 0) - (r < 0)
