"""The package model shared by SBOM generation and vulnerability matching.

Catalogers (dpkg, apk, rpm, Python, npm, Go, Java, Rust) produce ``Package``
values; SBOM writers serialise them; SBOM readers parse other tools' SBOMs back
into them; the vulnerability matcher consumes them. Keeping one model is what
lets ``cloudward image scan`` and ``cloudward sbom scan`` agree.
"""

from __future__ import annotations

import dataclasses
import enum


class Ecosystem(enum.Enum):
    """Package ecosystems, named as OSV names them (``Debian``, ``PyPI``…)."""

    DEBIAN = "Debian"
    UBUNTU = "Ubuntu"
    ALPINE = "Alpine"
    REDHAT = "Red Hat"
    ROCKY = "Rocky Linux"
    ALMA = "AlmaLinux"
    RPM = "RPM"  # an rpm-based distro we cannot name more precisely
    PYPI = "PyPI"
    NPM = "npm"
    GO = "Go"
    MAVEN = "Maven"
    CRATES_IO = "crates.io"
    RUBYGEMS = "RubyGems"
    NUGET = "NuGet"
    PACKAGIST = "Packagist"


@dataclasses.dataclass(frozen=True, slots=True)
class Distro:
    """The operating system of an image, from os-release (``ID``, ``VERSION_ID``)."""

    id: str  # debian, ubuntu, alpine, rhel, rocky, almalinux, ...
    version_id: str  # "12", "3.20", "22.04", "9.4"
    pretty_name: str | None = None
    codename: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Package:
    """One installed package.

    ``source_name``/``source_version`` are the distro source package (Debian
    ``Source:``, Alpine origin, rpm sourcerpm): advisories are published against
    them. ``layer`` and ``path`` say where the package was found in an image
    (``None`` for packages read from an SBOM without that information).
    """

    name: str
    version: str
    ecosystem: Ecosystem
    purl: str
    source_name: str | None = None
    source_version: str | None = None
    licenses: tuple[str, ...] = ()
    layer: str | None = None
    path: str | None = None
    arch: str | None = None
    distro: Distro | None = None
