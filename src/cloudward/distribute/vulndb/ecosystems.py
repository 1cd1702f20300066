"""OSV ecosystem strings (``Debian:12``, ``Alpine:v3.19``, ``PyPI``) and package-name normalisation.

Both the importer and the matcher go through these functions, so a name stored
from an advisory and a name read from an image meet in the same spelling.
"""

from __future__ import annotations

import re

from cloudward.distribute.packages import Distro, Ecosystem

DEBIAN_CODENAMES = {"buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1", "potato": "2.2",
                    "woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5", "squeeze": "6", "wheezy": "7",
                    "jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12",
                    "trixie": "13", "forky": "14", "duke": "15", "sid": "sid"}

#: OSV ecosystems whose advisories are scoped by a distribution release.
DISTRO_ECOSYSTEMS = frozenset({"Debian", "Ubuntu", "Alpine", "Red Hat", "Rocky Linux", "AlmaLinux", "SUSE",
                               "openSUSE"})

_PEP503 = re.compile(r"[-_.]+")


def split_ecosystem(text: str) -> tuple[str, str]:
    """``Debian:12`` → (Debian, 12); ``Alpine:v3.19`` → (Alpine, 3.19); ``PyPI`` → (PyPI, "")."""
    base, _, rest = text.partition(":")
    if base not in DISTRO_ECOSYSTEMS or not rest:
        return base, ""
    return base, normalize_release(base, rest)


def normalize_release(base: str, text: str) -> str:
    rest = text.strip()
    if base == "Alpine":
        rest = rest.removeprefix("v")
        parts = rest.split(".")
        return ".".join(parts[:2]) if parts[0].isdigit() else rest
    if base == "Ubuntu":
        parts = [p for p in rest.split(":") if p not in ("LTS", "Pro", "FIPS")]
        return parts[0] if parts else rest
    if base == "Debian":
        return DEBIAN_CODENAMES.get(rest, rest.split(".")[0])
    if base in ("Red Hat", "Rocky Linux", "AlmaLinux"):
        m = re.search(r"(\d+)", rest)
        return m.group(1) if m else rest
    return rest


def normalize_name(ecosystem: str, name: str) -> str:
    """The lookup spelling of a package name: PEP 503 for PyPI, lower case where the ecosystem ignores case."""
    if ecosystem == "PyPI":
        return _PEP503.sub("-", name).lower()
    if ecosystem in ("NuGet", "Packagist", "Maven"):
        return name.lower()
    return name


def package_scope(ecosystem: Ecosystem, distro: Distro | None) -> tuple[str, str]:
    """The (OSV ecosystem, release) a package's advisories are filed under."""
    base = ecosystem.value
    if base not in DISTRO_ECOSYSTEMS:
        return base, ""
    if distro is None:
        return base, ""
    version = distro.version_id or ""
    if base == "Debian" and not version:
        version = distro.codename or "sid"
    return base, normalize_release(base, version)
