"""From a package URL (purl) to our ``Package``: ecosystem, name spelling, distro and source package.

Different SBOM tools put the distro and the source package in different places;
we read the purl qualifiers the purl spec and Syft/Trivy use (``distro=debian-12``,
``upstream=glibc@2.36-9``, ``arch``) and let format readers add properties.
"""

from __future__ import annotations

import re

from packageurl import PackageURL

from cloudward.distribute.packages import Distro, Ecosystem, Package

_TYPES = {"pypi": Ecosystem.PYPI, "npm": Ecosystem.NPM, "golang": Ecosystem.GO, "maven": Ecosystem.MAVEN,
          "cargo": Ecosystem.CRATES_IO, "gem": Ecosystem.RUBYGEMS, "nuget": Ecosystem.NUGET,
          "composer": Ecosystem.PACKAGIST, "apk": Ecosystem.ALPINE}
_RPM_VENDORS = {"redhat": Ecosystem.REDHAT, "rhel": Ecosystem.REDHAT, "rocky": Ecosystem.ROCKY,
                "rocky-linux": Ecosystem.ROCKY, "almalinux": Ecosystem.ALMA}
_DISTRO = re.compile(r"^([a-z][a-z-]*?)[-:@]?(\d[\w.]*)?$")


def _sourcerpm(filename: str) -> tuple[str | None, str | None]:
    """``openssl-3.0.7-27.el9.src.rpm`` (Syft's ``upstream=``) → (``openssl``, ``3.0.7-27.el9``)."""
    stem = filename.removesuffix(".rpm").rsplit(".", 1)[0]  # drop .src / .nosrc
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None, None
    return parts[0], f"{parts[1]}-{parts[2]}"


def parse_distro(text: str | None, default_id: str | None) -> Distro | None:
    """``debian-12`` / ``alpine-3.19.1`` / ``bookworm`` → ``Distro``."""
    if not text:
        return Distro(default_id, "") if default_id else None
    m = _DISTRO.match(text.strip().lower())
    if not m:
        return None
    ident, version = m.group(1), m.group(2) or ""
    if default_id == "debian" and not version:
        return Distro("debian", "", codename=ident)
    return Distro(ident, version)


def package_from_purl(purl_text: str, *, name: str | None = None, version: str | None = None,
                      distro: Distro | None = None, source: tuple[str | None, str | None] = (None, None),
                      layer: str | None = None) -> Package | None:
    """A ``Package`` for a purl we can match; ``None`` for a type we have no advisories for."""
    try:
        purl = PackageURL.from_string(purl_text)
    except ValueError:
        return None
    quals = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    ns = (purl.namespace or "").lower()
    if purl.type == "deb":
        ecosystem = Ecosystem.UBUNTU if ns == "ubuntu" else Ecosystem.DEBIAN
    elif purl.type == "rpm":
        ecosystem = _RPM_VENDORS.get(ns, Ecosystem.RPM)
    elif purl.type in _TYPES:
        ecosystem = _TYPES[purl.type]
    else:
        return None
    pkg_name = purl.name
    if purl.type == "maven" and purl.namespace:
        pkg_name = f"{purl.namespace}:{purl.name}"
    elif purl.type in ("golang", "npm", "composer") and purl.namespace:
        pkg_name = f"{purl.namespace}/{purl.name}"
    pkg_version = version or purl.version or ""
    if purl.type in ("rpm", "deb") and quals.get("epoch") and ":" not in pkg_version:
        pkg_version = f"{quals['epoch']}:{pkg_version}"
    src_name, src_version = source
    upstream = quals.get("upstream")
    if upstream and not src_name:
        if purl.type == "rpm" and upstream.endswith(".rpm"):
            src_name, up_version = _sourcerpm(upstream)
        else:
            src_name, _, up_version = upstream.partition("@")
        src_version = src_version or up_version or None
    if purl.type == "rpm" and src_version and ":" not in src_version and ":" in pkg_version:
        # A source rpm's file name has no epoch; its binaries carry the spec's Epoch, so the source's is
        # the binary's (as rpm itself and Trivy read it). Without it, 3.0.7-27.el9 < a fix 1:3.0.7-25.el9.
        src_version = f"{pkg_version.split(':', 1)[0]}:{src_version}"
    if (distro is None and ecosystem in (Ecosystem.DEBIAN, Ecosystem.UBUNTU, Ecosystem.ALPINE)) or \
            (distro is None and purl.type == "rpm"):
        default_id = {"deb": ns or "debian", "apk": "alpine", "rpm": ns or None}.get(purl.type)
        distro = parse_distro(quals.get("distro"), default_id)
    return Package(name=name if name and purl.type not in ("maven", "golang", "npm") else pkg_name,
                   version=pkg_version, ecosystem=ecosystem, purl=purl_text, source_name=src_name,
                   source_version=src_version, layer=layer, arch=quals.get("arch"), distro=distro)
