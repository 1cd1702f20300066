"""Alpine (apk-tools) version ordering: ``1.2.3a_rc1_p2-r4``.

A port of apk-tools 2.x ``version.c``: digit groups (a leading-zero group after
a dot compares as a fraction, so ``1.02 < 1.2``), one trailing letter, suffixes
``_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p`` each
with an optional number, then the ``-rN`` package revision.
"""

from __future__ import annotations

import functools

from cloudward.distribute.versions._base import InvalidVersion

name = "apk"

_INVALID, _DIGIT_OR_ZERO, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _REVISION_NO, _END = -1, 0, 1, 2, 3, 4, 5, 6
_PRE = ("alpha", "beta", "pre", "rc")
_POST = ("cvs", "svn", "git", "hg", "p")


class _Cursor:
    __slots__ = ("pos", "s", "type")

    def __init__(self, s: str) -> None:
        self.s = s
        self.pos = 0
        self.type = _DIGIT

    def left(self) -> int:
        return len(self.s) - self.pos

    def next_token(self) -> None:
        s, p, t = self.s, self.pos, self.type
        n = _INVALID
        if p >= len(s):
            n = _END
        elif t in (_DIGIT, _DIGIT_OR_ZERO) and s[p].islower() and s[p].isascii():
            n = _LETTER
        elif t == _LETTER and s[p].isdigit():
            n = _DIGIT
        elif t == _SUFFIX and s[p].isdigit():
            n = _SUFFIX_NO
        else:
            c = s[p]
            if c == ".":
                n = _DIGIT_OR_ZERO
            elif c == "_":
                n = _SUFFIX
            elif c == "-" and p + 1 < len(s) and s[p + 1] == "r":
                n = _REVISION_NO
                p += 1
            p += 1
        allowed = (n == _DIGIT_OR_ZERO and t == _DIGIT) or (n == _SUFFIX and t == _SUFFIX_NO) \
            or (n == _DIGIT and t == _LETTER)
        if n < t and not allowed:
            n = _INVALID
        self.pos, self.type = p, n

    def get_token(self) -> int:
        s, p = self.s, self.pos
        if p >= len(s):
            self.type = _END
            return 0
        v, i, nt = 0, 0, _INVALID
        t = self.type
        if t == _DIGIT_OR_ZERO and s[p] == "0":
            while p + i < len(s) and s[p + i] == "0":
                i += 1
            nt, v = _DIGIT, -i
        elif t in (_DIGIT_OR_ZERO, _DIGIT, _SUFFIX_NO, _REVISION_NO):
            while p + i < len(s) and s[p + i].isascii() and s[p + i].isdigit():
                v = v * 10 + int(s[p + i])
                i += 1
        elif t == _LETTER:
            v, i = ord(s[p]), 1
        elif t == _SUFFIX:
            rest = s[p:]
            for k, word in enumerate(_PRE):
                if rest.startswith(word):
                    v, i, nt = k - len(_PRE), len(word), _SUFFIX_NO
                    break
            else:
                for k, word in enumerate(_POST):
                    if rest.startswith(word):
                        v, i, nt = k, len(word), _SUFFIX_NO
                        break
                else:
                    self.type = _INVALID
                    return -1
        else:
            self.type = _INVALID
            return -1
        self.pos = p + i
        if self.pos >= len(s):
            self.type = _END
        elif nt != _INVALID:
            self.type = nt
        else:
            self.next_token()
        return v


@functools.lru_cache(maxsize=65536)
def validate(version: str) -> str:
    """Raise ``InvalidVersion`` unless apk would accept ``version``."""
    if not version or not version[0].isdigit():
        raise InvalidVersion(f"not an apk version: {version!r}")
    c = _Cursor(version)
    while c.type not in (_END, _INVALID):
        c.get_token()
    if c.type == _INVALID:
        raise InvalidVersion(f"not an apk version: {version!r}")
    return version


def compare(a: str, b: str) -> int:
    """Compare two apk versions; invalid versions raise ``InvalidVersion``."""
    validate(a)
    validate(b)
    ca, cb = _Cursor(a), _Cursor(b)
    av = bv = 0
    while ca.type == cb.type and ca.type not in (_END, _INVALID) and av == bv:
        av = ca.get_token()
        bv = cb.get_token()
    if av != bv:
        return -1 if av < bv else 1
    if ca.type == cb.type:
        return 0
    if ca.type == _SUFFIX:
        probe = _Cursor(a)
        probe.pos, probe.type = ca.pos, ca.type
        if probe.get_token() < 0:
            return -1
    if cb.type == _SUFFIX:
        probe = _Cursor(b)
        probe.pos, probe.type = cb.pos, cb.type
        if probe.get_token() < 0:
            return 1
    if ca.type > cb.type:
        return -1
    if cb.type > ca.type:
        return 1
    return 0
