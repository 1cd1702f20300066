"""Packagist (Composer) ordering: Composer's version normalisation, then PHP's ``version_compare``.

Composer compares two versions by normalising both (``VersionParser::normalize``:
``v1.2`` → ``1.2.0.0``, ``1.0.0a1`` → ``1.0.0.0-alpha1``, ``1.2-p.5`` →
``1.2.0.0-patch5``) and handing them to PHP's ``version_compare``, which splits
them at ``.-_+`` and digit/letter boundaries and orders words as ``dev`` <
``alpha``/``a`` < ``beta``/``b`` < ``RC`` < *number* < ``pl``/``p`` (so
``patch``) — any other word sorts below ``dev``. Branches (``dev-main``) compare
with nothing, as in Composer. Tested against composer/semver and PHP themselves
(Debian's php-composer-semver) where they are installed.
"""

from __future__ import annotations

import functools
import re

from cloudward.distribute.versions._base import InvalidVersion

name = "composer"

_MODIFIER = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?"
_CLASSIC = re.compile(r"^v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)?" + _MODIFIER + "$", re.IGNORECASE)
_DATE = re.compile(r"^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)" + _MODIFIER + "$", re.IGNORECASE)
_DEV_SUFFIX = re.compile(r"^(.*?)[.-]?dev$", re.IGNORECASE)
_BRANCH = re.compile(r"^v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?$", re.IGNORECASE)
_ALIAS = re.compile(r"^([^,\s]++) ++as ++([^,\s]++)$")
_STABILITY_FLAG = re.compile(r"@(?:stable|RC|beta|alpha|dev)$", re.IGNORECASE)
_BUILD = re.compile(r"^([^,\s+]++)\+[^\s]++$")
_EXPAND = {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}


@functools.lru_cache(maxsize=65536)
def normalize(version: str) -> str:
    """Composer's ``VersionParser::normalize``; ``InvalidVersion`` where Composer throws."""
    v = version.strip()
    if m := _ALIAS.match(v):
        v = m.group(1)
    if m := _STABILITY_FLAG.search(v):
        v = v[: m.start()]
    if v in ("master", "trunk", "default"):
        v = "dev-" + v
    if v[:4].lower() == "dev-":
        return "dev-" + v[4:]
    if m := _BUILD.match(v):
        v = m.group(1)
    index, out, found = 0, "", _CLASSIC.match(v)
    if found:
        out = found.group(1) + "".join(g or ".0" for g in found.group(2, 3, 4))
        index = 5
    elif found := _DATE.match(v):
        out = re.sub(r"\D", ".", found.group(1))
        index = 2
    if found:
        stability, number, dev = found.group(index, index + 1, index + 2)
        if stability:
            if stability == "stable":
                return out
            out += "-" + _EXPAND.get(stability.lower(), stability.lower()) + (number or "").lstrip(".-")
        if dev:
            out += "-dev"
        return out
    if m := _DEV_SUFFIX.match(v):
        branch = _normalize_branch(m.group(1))
        if not branch.startswith("dev-"):
            return branch
    raise InvalidVersion(f"not a Composer version: {version!r}")


def _normalize_branch(name: str) -> str:
    m = _BRANCH.match(name.strip())
    if not m:
        return "dev-" + name
    parts = [m.group(i) if m.group(i) is not None else ".x" for i in range(1, 5)]
    return "".join(p.replace("*", "x").replace("X", "x") for p in parts).replace("x", "9999999") + "-dev"


_DIGITS = "0123456789"


def _dig(c: str) -> bool:
    return c in _DIGITS


def _ndig(c: str) -> bool:
    return c not in _DIGITS and c != "."


def _canonical(version: str) -> str:
    """PHP's ``php_canonicalize_version``: ``-_+`` and other symbols become ``.``; ``.`` between digits and letters."""
    out = [version[0]]
    last = version[0]
    for ch in version[1:]:
        prev = out[-1]
        if ch in "-_+":
            if prev != ".":
                out.append(".")
        elif (_ndig(last) and _dig(ch)) or (_dig(last) and _ndig(ch)):
            if prev != ".":
                out.append(".")
            out.append(ch)
        elif not (ch.isascii() and ch.isalnum()):
            if prev != ".":
                out.append(".")
        else:
            out.append(ch)
        last = ch
    return "".join(out)


_FORMS = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("RC", 3), ("rc", 3), ("#", 4), ("pl", 5),
          ("p", 5))


def _form(word: str) -> int:
    """The order of a word: the first special form it starts with (as C's ``strncmp`` finds it), else -1."""
    return next((order for prefix, order in _FORMS if word.startswith(prefix)), -1)


def _numeric(s: str) -> bool:
    """C's ``isdigit(*p)`` on a segment: its first character is a digit (an empty segment is a word)."""
    return s[:1] in _DIGITS and s != ""


def _segment(x: str, y: str) -> int:
    if _numeric(x) and _numeric(y):
        return _sign(_leading_int(x) - _leading_int(y))
    if _numeric(x):
        return _sign(_form("#N#") - _form(y))
    if _numeric(y):
        return _sign(_form(x) - _form("#N#"))
    return _sign(_form(x) - _form(y))


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


def _leading_int(s: str) -> int:
    end = 0
    while end < len(s) and s[end] in _DIGITS:
        end += 1
    return int(s[:end]) if end else 0


def version_compare(a: str, b: str) -> int:
    """PHP's ``version_compare($a, $b)``: -1, 0 or 1 (ext/standard/versioning.c, segment by segment)."""
    if not a or not b:
        return 0 if not a and not b else (1 if a else -1)
    v1 = a if a[0] == "#" else _canonical(a)
    v2 = b if b[0] == "#" else _canonical(b)
    p1 = p2 = 0
    n1: int | None = 0
    n2: int | None = 0
    compare = 0
    while p1 < len(v1) and p2 < len(v2) and n1 is not None and n2 is not None:
        d1, d2 = v1.find(".", p1), v2.find(".", p2)
        n1, n2 = (d1 if d1 >= 0 else None), (d2 if d2 >= 0 else None)
        compare = _segment(v1[p1:n1], v2[p2:n2])
        if compare:
            break
        if n1 is not None:
            p1 = n1 + 1
        if n2 is not None:
            p2 = n2 + 1
    if compare == 0:
        if n1 is not None:
            rest = v1[p1:]
            compare = 1 if _numeric(rest) else version_compare(rest, "#N#")
        elif n2 is not None:
            rest = v2[p2:]
            compare = -1 if _numeric(rest) else version_compare("#N#", rest)
    return compare


def compare(a: str, b: str) -> int:
    na, nb = normalize(a), normalize(b)
    if na.startswith("dev-") or nb.startswith("dev-"):
        if na == nb:
            return 0
        raise InvalidVersion(f"Composer branches compare with nothing: {a!r} vs {b!r}")
    return version_compare(na, nb)
