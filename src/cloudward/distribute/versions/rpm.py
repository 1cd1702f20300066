"""RPM version ordering: ``rpmvercmp`` on ``[epoch:]version[-release]``, with ``~`` and ``^``.

Follows rpm's ``rpmvio.c``/``rpmvercmp.c``: alphanumeric segments, numeric
segments beat alphabetic ones, ``~`` sorts before anything (pre-release), ``^``
sorts after the end of a version but before any other segment (post-release
snapshots). A missing epoch is 0.
"""

from __future__ import annotations

import functools
import re

from cloudward.distribute.versions._base import InvalidVersion, cmp

name = "rpm"

_SEG = re.compile(r"[A-Za-z]+|[0-9]+")


def _isalnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def rpmvercmp(a: str, b: str) -> int:
    """Compare one version or release field as rpm does; returns -1, 0 or 1."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and not _isalnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < len(b) and not _isalnum(b[j]) and b[j] not in "~^":
            j += 1
        a_t = i < len(a) and a[i] == "~"
        b_t = j < len(b) and b[j] == "~"
        if a_t or b_t:
            if not a_t:
                return 1
            if not b_t:
                return -1
            i += 1
            j += 1
            continue
        a_c = i < len(a) and a[i] == "^"
        b_c = j < len(b) and b[j] == "^"
        if a_c or b_c:
            if i >= len(a):
                return -1
            if j >= len(b):
                return 1
            if not a_c:
                return 1
            if not b_c:
                return -1
            i += 1
            j += 1
            continue
        if not (i < len(a) and j < len(b)):
            break
        ma = _SEG.match(a, i)
        mb = _SEG.match(b, j)
        assert ma is not None and mb is not None
        sa, sb = ma.group(), mb.group()
        isnum = sa[0].isdigit()
        if sb[0].isdigit() != isnum:
            return 1 if isnum else -1
        i, j = ma.end(), mb.end()
        if isnum:
            sa, sb = sa.lstrip("0"), sb.lstrip("0")
            if len(sa) != len(sb):
                return 1 if len(sa) > len(sb) else -1
        if sa != sb:
            return 1 if sa > sb else -1
    a_left = i < len(a)
    b_left = j < len(b)
    if not a_left and not b_left:
        return 0
    return 1 if a_left else -1


@functools.lru_cache(maxsize=65536)
def parse(evr: str) -> tuple[int, str, str | None]:
    """Split ``[epoch:]version[-release]``; the release is ``None`` when absent."""
    s = evr.strip()
    if not s:
        raise InvalidVersion("empty RPM version")
    epoch = 0
    if ":" in s:
        head, s = s.split(":", 1)
        if head:
            if not head.isdigit():
                raise InvalidVersion(f"invalid epoch in RPM version {evr!r}")
            epoch = int(head)
    version, release = (s.rsplit("-", 1) if "-" in s else (s, None))
    if not version:
        raise InvalidVersion(f"empty version in RPM version {evr!r}")
    return epoch, version, release


def compare(a: str, b: str) -> int:
    """Compare two EVR strings as rpm 4.18's ``rpmverCmp`` (``rpm.vercmp``) does.

    With equal versions, a present release (even ``~`` or empty) sorts after a
    missing one: rpm 4.18 answers ``vercmp("1.0", "1.0-~") == -1`` and
    ``vercmp("1.0", "1.0-") == -1``, which a property test found against rpm itself.
    """
    ea, va, ra = parse(a)
    eb, vb, rb = parse(b)
    if ea != eb:
        return cmp(ea, eb)
    by_version = rpmvercmp(va, vb)
    if by_version or (ra is None and rb is None):
        return by_version
    if ra is None:
        return -1
    if rb is None:
        return 1
    return rpmvercmp(ra, rb)
