"""PyPI ordering by PEP 440, through ``packaging`` (the reference implementation pip uses)."""

from __future__ import annotations

import functools

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version

from cloudward.distribute.versions._base import InvalidVersion

name = "pep440"


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> Version:
    try:
        return Version(version)
    except _PackagingInvalid as e:
        raise InvalidVersion(f"not a PEP 440 version: {version!r}") from e


def compare(a: str, b: str) -> int:
    va, vb = parse(a), parse(b)
    return (va > vb) - (va < vb)
