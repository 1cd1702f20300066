"""Package URLs (purl spec) for every ecosystem, built with packageurl-python."""

from __future__ import annotations

from packageurl import PackageURL

from cloudward.distribute.packages import Distro, Ecosystem, Package

_RPM_DISTROS = {"rhel": Ecosystem.REDHAT, "rocky": Ecosystem.ROCKY, "almalinux": Ecosystem.ALMA}
_RPM_NAMESPACE = {"rhel": "redhat", "centos": "centos", "fedora": "fedora", "rocky": "rocky",
                  "almalinux": "almalinux", "amzn": "amazon", "ol": "oracle", "opensuse-leap": "opensuse",
                  "sles": "suse"}


def os_ecosystem(eco: Ecosystem, distro: Distro | None) -> Ecosystem:
    """Refine the cataloger's guess with the detected OS (dpkg on Ubuntu is Ubuntu)."""
    if distro is None:
        return eco
    if eco is Ecosystem.DEBIAN and distro.id == "ubuntu":
        return Ecosystem.UBUNTU
    if eco is Ecosystem.RPM:
        return _RPM_DISTROS.get(distro.id, Ecosystem.RPM)
    return eco


def _distro_qualifier(distro: Distro | None) -> dict[str, str]:
    if distro is None:
        return {}
    return {"distro": f"{distro.id}-{distro.version_id}" if distro.version_id else distro.id}


def purl_for(pkg: Package, distro: Distro | None) -> str:
    eco = pkg.ecosystem
    q: dict[str, str] = {}
    if eco in (Ecosystem.DEBIAN, Ecosystem.UBUNTU):
        ns = distro.id if distro else ("ubuntu" if eco is Ecosystem.UBUNTU else "debian")
        if pkg.arch:
            q["arch"] = pkg.arch
        if pkg.source_name and pkg.source_name != pkg.name:
            q["upstream"] = pkg.source_name
        q.update(_distro_qualifier(distro))
        return PackageURL("deb", ns, pkg.name, pkg.version, q or None).to_string()
    if eco is Ecosystem.ALPINE:
        if pkg.arch:
            q["arch"] = pkg.arch
        q.update(_distro_qualifier(distro))
        return PackageURL("apk", "alpine", pkg.name, pkg.version, q or None).to_string()
    if eco in (Ecosystem.RPM, Ecosystem.REDHAT, Ecosystem.ROCKY, Ecosystem.ALMA):
        rpm_ns = _RPM_NAMESPACE.get(distro.id, distro.id) if distro else None
        if pkg.arch:
            q["arch"] = pkg.arch
        epoch, _, rest = pkg.version.partition(":") if ":" in pkg.version else ("", "", pkg.version)
        if epoch:
            q["epoch"] = epoch
        q.update(_distro_qualifier(distro))
        return PackageURL("rpm", rpm_ns, pkg.name, rest, q or None).to_string()
    if eco is Ecosystem.PYPI:
        return PackageURL("pypi", None, pkg.name.lower().replace("_", "-").replace(".", "-"), pkg.version).to_string()
    if eco is Ecosystem.NPM:
        ns, _, name = pkg.name.rpartition("/")
        return PackageURL("npm", ns or None, name, pkg.version).to_string()
    if eco is Ecosystem.GO:
        ns, _, name = pkg.name.rpartition("/")
        return PackageURL("golang", ns or None, name, pkg.version).to_string()
    if eco is Ecosystem.MAVEN:
        group, _, artifact = pkg.name.rpartition(":")
        return PackageURL("maven", group or None, artifact, pkg.version).to_string()
    if eco is Ecosystem.CRATES_IO:
        return PackageURL("cargo", None, pkg.name, pkg.version).to_string()
    return PackageURL("generic", None, pkg.name, pkg.version).to_string()
