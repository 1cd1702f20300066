"""Exact version ordering for each package ecosystem: one module per scheme.

A wrong comparison is a wrong "not vulnerable", so each scheme follows its
ecosystem's reference implementation (dpkg, apk-tools, rpm, packaging, SemVer,
Go, Maven ComparableVersion, Gem::Version, NuGet.Versioning) and is tested
against it where the reference runs on this machine.
"""

from __future__ import annotations

from types import ModuleType

from cloudward.distribute.versions import apk, composer, dpkg, go, maven, nuget, pep440, rpm, rubygems, semver
from cloudward.distribute.versions._base import InvalidVersion, VersionScheme

__all__ = ["SCHEMES", "InvalidVersion", "VersionScheme", "compare", "scheme_for"]

#: OSV ecosystem name (without a release suffix) → the scheme that orders its versions.
SCHEMES: dict[str, ModuleType] = {
    "Debian": dpkg,
    "Ubuntu": dpkg,
    "Alpine": apk,
    "Red Hat": rpm,
    "Rocky Linux": rpm,
    "AlmaLinux": rpm,
    "RPM": rpm,
    "SUSE": rpm,
    "openSUSE": rpm,
    "PyPI": pep440,
    "npm": semver,
    "crates.io": semver,
    "Go": go,
    "Maven": maven,
    "RubyGems": rubygems,
    "NuGet": nuget,
    "Packagist": composer,
}


def scheme_for(ecosystem: str) -> VersionScheme:
    """The scheme for an OSV ecosystem (``Debian:12`` and ``Debian`` both work); ``KeyError`` if unknown."""
    scheme: VersionScheme = SCHEMES[ecosystem.split(":", 1)[0]]
    return scheme


def compare(ecosystem: str, a: str, b: str) -> int:
    """Compare two versions of ``ecosystem``: negative, zero or positive; ``InvalidVersion`` if unreadable."""
    return scheme_for(ecosystem).compare(a, b)
