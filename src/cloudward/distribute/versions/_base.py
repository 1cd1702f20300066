"""What every version scheme provides, and the error for a version it cannot read."""

from __future__ import annotations

from typing import Protocol


class InvalidVersion(ValueError):
    """A version string that its ecosystem's rules cannot parse."""


class VersionScheme(Protocol):
    """An ecosystem's exact ordering: ``compare(a, b)`` is negative, zero or positive like ``cmp``."""

    name: str

    def compare(self, a: str, b: str) -> int: ...


def sign(n: int) -> int:
    return (n > 0) - (n < 0)


def cmp(a: object, b: object) -> int:
    """Three-way comparison of two mutually comparable values."""
    return int(a > b) - int(a < b)  # type: ignore[operator]
