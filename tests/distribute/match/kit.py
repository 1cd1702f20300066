"""Shared fixtures for vulnerability tests: the shared sample data, OSV record builders, dpkg status reading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from debian.deb822 import Packages as Deb822Packages

from cloudward.distribute.packages import Distro, Ecosystem, Package

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
SAMPLE = SHARED / "vulndata-sample"
OLD_ROOTFS = SHARED / "test-images" / "rootfs-fixtures" / "debian-bookworm-minbase-old"


def need_shared() -> None:
    if not SAMPLE.is_dir():
        pytest.skip(f"shared sample data not found at {SAMPLE} (../shared is absent)")


def osv(rid: str, ecosystem: str, name: str, events: list[dict[str, str]] | None = None, *,
        versions: list[str] | None = None, aliases: list[str] | None = None, range_type: str = "ECOSYSTEM",
        modified: str = "2024-01-01T00:00:00Z", **extra: Any) -> dict[str, Any]:
    """A minimal OSV record (valid against the OSV schema) for tests that need a precise case."""
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
    if events is not None:
        affected["ranges"] = [{"type": range_type, "events": events}]
    if versions is not None:
        affected["versions"] = versions
    rec: dict[str, Any] = {"schema_version": "1.6.0", "id": rid, "modified": modified, "affected": [affected]}
    if aliases:
        rec["aliases"] = aliases
    rec.update(extra)
    return rec


def write_records(directory: Path, records: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for r in records:
        (directory / f"{r['id']}.json").write_text(json.dumps(r))
    return directory


def os_release(root: Path) -> Distro:
    fields = {}
    for line in (root / "etc" / "os-release").read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            fields[k] = v.strip('"')
    return Distro(fields["ID"], fields.get("VERSION_ID", ""), fields.get("PRETTY_NAME"),
                  fields.get("VERSION_CODENAME"))


def dpkg_packages(root: Path) -> list[Package]:
    """Installed packages of a rootfs, read with python-debian (an independent dpkg status parser)."""
    distro = os_release(root)
    out = []
    with open(root / "var" / "lib" / "dpkg" / "status", encoding="utf-8") as fh:
        for para in Deb822Packages.iter_paragraphs(fh, use_apt_pkg=False):
            if "installed" not in para.get("Status", ""):
                continue
            src = para.get("Source")
            src_name, src_version = None, None
            if src:
                src_name, _, rest = src.partition(" ")
                src_version = rest.strip("() ") or None
            out.append(Package(name=para["Package"], version=para["Version"], ecosystem=Ecosystem.DEBIAN,
                               purl=f"pkg:deb/debian/{para['Package']}@{para['Version']}?distro=debian-12",
                               source_name=src_name or para["Package"], source_version=src_version or para["Version"],
                               arch=para.get("Architecture"), distro=distro))
    return out
