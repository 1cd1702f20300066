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
        return _ubuntu_release(rest)
    if base == "Debian":
        return DEBIAN_CODENAMES.get(rest, rest.split(".")[0])
    if base in ("Red Hat", "Rocky Linux", "AlmaLinux"):
        m = re.search(r"(\d+)", rest)
        return m.group(1) if m else rest
    return rest


_UBUNTU_VERSION = re.compile(r"\d+\.\d+")


def _ubuntu_release(text: str) -> str:
    """An Ubuntu release with its product line: ``22.04:LTS`` → ``22.04``, ``Pro:FIPS-updates:20.04:LTS`` →
    ``20.04/fips-updates``, ``Pro:22.04:LTS:Realtime:Kernel`` → ``22.04/realtime``.

    Ubuntu Pro's ESM (``Pro:18.04:LTS``) patches the release's own packages, so it is the base
    release. FIPS, Realtime and other lines ship *different builds* of a few packages: their fixes
    must never judge the ordinary build (a ``…fips…`` version sorts above every ordinary one, so a
    FIPS fix would flag every ordinary openssl), and the ordinary fixes never judge theirs.
    """
    parts = [p for p in text.split(":") if p and p not in ("LTS", "Pro", "Kernel")]
    version = next((p for p in parts if _UBUNTU_VERSION.fullmatch(p)), None)
    if version is None:
        return text
    variant = "-".join(p.lower() for p in parts if p != version)
    return f"{version}/{variant}" if variant else version


def ubuntu_lines(name: str, source_name: str | None, version: str) -> tuple[str, ...]:
    """The product lines whose advisories judge an installed Ubuntu package, most specific first.

    A FIPS build (``1.1.1f-1ubuntu2.fips.2.8``, source ``linux-fips``) is judged by the
    FIPS-updates stream — the one Canonical recommends, whose fixes a certified-FIPS system can
    also take — then the certified FIPS and FIPS-preview streams; the matcher uses the first line
    that has entries for the package. A realtime kernel is judged by the Realtime line, then the
    release. ``""`` is the release itself.
    """
    names = f"{name} {source_name or ''}".lower()
    if "fips" in names or "fips" in version.lower():
        return ("fips-updates", "fips", "fips-preview")
    if "realtime" in names:
        return ("realtime", "")
    return ("",)


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


def release_chain(ecosystem: str, release: str, name: str, source_name: str | None, version: str) -> tuple[str, ...]:
    """The releases to consult for one package, most specific first (one, except Ubuntu's product lines)."""
    if ecosystem != "Ubuntu" or not release:
        return (release,)
    return tuple(f"{release}/{line}" if line else release for line in ubuntu_lines(name, source_name, version))
