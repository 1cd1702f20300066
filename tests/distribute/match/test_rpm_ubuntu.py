"""Red Hat, Rocky Linux, AlmaLinux and Ubuntu advisories in the exact shapes their OSV feeds publish.

Shapes (field names, id and ecosystem spelling, epochs in fixed versions) follow real records:

* Red Hat: ``RHSA-2024:6220`` as converted by Red Hat's own CSAF→OSV tool
  (ossf/osv-schema ``tools/redhat/testdata/OSV/RHSA-2024_6220.json``): ``related`` CVE ids,
  ecosystem ``Red Hat:rhel_aus:8.6::appstream`` / ``Red Hat:enterprise_linux:9::appstream``,
  ``purl`` ``pkg:rpm/redhat/<name>``, fixed versions with an explicit epoch (``0:…``, ``1:0.35.1-4…``).
* Rocky Linux ``RLSA-*`` (ecosystem ``Rocky Linux:9``) and AlmaLinux ``ALSA-*`` (``AlmaLinux:8``),
  as registered in the OSV schema's ecosystem list (ossf/osv-schema PRs #118 and #141).
* Ubuntu: ``UBUNTU-CVE-*`` records of canonical/ubuntu-security-notices ``osv/cve/``: ``upstream``
  names the CVE, ``related`` the USN, ecosystems ``Ubuntu:22.04:LTS``, ``Ubuntu:Pro:18.04:LTS``,
  ``Ubuntu:24.04:LTS``, package names are *source* packages with a ``pkg:deb/ubuntu/<src>?arch=source``
  purl, and ``severity`` carries ``{"type": "Ubuntu", "score": "medium"}`` beside the CVSS vector.

The records here are small hand-written instances of those shapes (the ids past 2026 are synthetic);
the versions are real package versions of those releases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cloudward.cli import sbom_cmd
from cloudward.cli.main import _Parser
from cloudward.distribute.match import VulnerabilityMatch, match
from cloudward.distribute.packages import Distro, Ecosystem, Package
from cloudward.distribute.sbomread import package_from_purl, parse_sbom
from cloudward.distribute.vulndb import VulnDB, import_paths
from tests.distribute.match.kit import write_records


def _rpm_entry(ecosystem: str, name: str, fixed: str) -> dict[str, Any]:
    return {"package": {"name": name, "ecosystem": ecosystem, "purl": f"pkg:rpm/redhat/{name}"},
            "ranges": [{"events": [{"introduced": "0"}, {"fixed": fixed}], "type": "ECOSYSTEM"}]}


RHSA = {  # Red Hat's converter output shape; one advisory, RHEL 8.6 AUS and RHEL 9 streams
    "schema_version": "1.6.7", "id": "RHSA-2026:9001", "related": ["CVE-2026-40001"],
    "published": "2026-09-02T14:30:00Z", "modified": "2026-09-02T14:30:00Z",
    "summary": "Red Hat Security Advisory: python-wheel security update",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"}],
    "affected": [
        _rpm_entry("Red Hat:rhel_aus:8.6::appstream", "python-wheel", "1:0.35.1-4.module+el8.5.0+12204+54860423"),
        _rpm_entry("Red Hat:enterprise_linux:9::appstream", "python-wheel", "1:0.36.2-8.el9"),
        _rpm_entry("Red Hat:enterprise_linux:9::appstream", "python3-wheel", "1:0.36.2-8.el9"),
    ],
    "references": [{"type": "ADVISORY", "url": "https://access.redhat.com/errata/RHSA-2026:9001"}],
}

RLSA = {
    "schema_version": "1.6.0", "id": "RLSA-2026:9002", "aliases": ["CVE-2026-40002"],
    "published": "2026-09-03T00:00:00Z", "modified": "2026-09-03T00:00:00Z", "summary": "Important: openssl",
    "affected": [{"package": {"ecosystem": "Rocky Linux:9", "name": "openssl"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-25.el9_3"}]}]}],
}

ALSA = {
    "schema_version": "1.6.0", "id": "ALSA-2026:9003", "aliases": ["CVE-2026-40003"],
    "published": "2026-09-04T00:00:00Z", "modified": "2026-09-04T00:00:00Z", "summary": "Moderate: curl",
    "affected": [{"package": {"ecosystem": "AlmaLinux:8", "name": "curl"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.61.1-34.el8_10.2"}]}]}],
}

UBUNTU_CVE = {  # canonical/ubuntu-security-notices osv/cve shape
    "schema_version": "1.6.3", "id": "UBUNTU-CVE-2026-40004", "upstream": ["CVE-2026-40004"],
    "related": ["USN-9999-1"], "published": "2026-09-05T00:00:00Z", "modified": "2026-09-06T00:00:00Z",
    "details": "A flaw in certificate parsing.",
    "severity": [{"type": "Ubuntu", "score": "medium"},
                 {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
    "affected": [
        {"package": {"ecosystem": "Ubuntu:Pro:18.04:LTS", "name": "openssl",
                     "purl": "pkg:deb/ubuntu/openssl@1.1.1-1ubuntu2.1~18.04.23+esm5"
                             "?arch=source&distro=esm-infra/bionic"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},
                                                     {"fixed": "1.1.1-1ubuntu2.1~18.04.23+esm5"}]}]},
        {"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "openssl",
                     "purl": "pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.15?arch=source&distro=jammy"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.15"}]}],
         "versions": ["3.0.2-0ubuntu1", "3.0.2-0ubuntu1.14"],
         "ecosystem_specific": {"binaries": [{"binary_name": "libssl3", "binary_version": "3.0.2-0ubuntu1.15"},
                                             {"binary_name": "openssl", "binary_version": "3.0.2-0ubuntu1.15"}],
                                "availability": "No subscription required"}},
        {"package": {"ecosystem": "Ubuntu:24.04:LTS", "name": "openssl",
                     "purl": "pkg:deb/ubuntu/openssl@3.0.13-0ubuntu3.2?arch=source&distro=noble"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-0ubuntu3.2"}]}]},
    ],
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> VulnDB:
    tmp = tmp_path_factory.mktemp("distros")
    path = tmp / "vuln.db"
    import_paths(path, [str(write_records(tmp / "osv", [RHSA, RLSA, ALSA, UBUNTU_CVE]))])
    return VulnDB(path)


def rpm(eco: Ecosystem, distro: Distro, name: str, version: str, source: str | None = None,
        source_version: str | None = None) -> Package:
    return Package(name=name, version=version, ecosystem=eco, purl=f"pkg:rpm/x/{name}@{version}",
                   source_name=source, source_version=source_version, distro=distro)


def found(matches: list[VulnerabilityMatch]) -> dict[str, VulnerabilityMatch]:
    return {m.vulnerability_id: m for m in matches}


RHEL9, RHEL8 = Distro("rhel", "9.4"), Distro("rhel", "8.6")


def test_rhel_epoch_in_the_fix(db: VulnDB) -> None:
    """The fix carries epoch 1; an installed 1:0.36.2-7.el9 is below it, 1:0.36.2-8.el9 is it."""
    before = found(list(match([rpm(Ecosystem.REDHAT, RHEL9, "python3-wheel", "1:0.36.2-7.el9")], db)))
    assert before["CVE-2026-40001"].fixed_versions == ("1:0.36.2-8.el9",)
    assert not list(match([rpm(Ecosystem.REDHAT, RHEL9, "python3-wheel", "1:0.36.2-8.el9")], db))
    # without its epoch an installed version is epoch 0: below any 1:… fix, whatever its numbers say
    assert "CVE-2026-40001" in found(list(match([rpm(Ecosystem.REDHAT, RHEL9, "python3-wheel", "0.40-1.el9")], db)))


def test_rhel_release_scoping(db: VulnDB) -> None:
    """RHEL 9's fix (1:0.36.2-8.el9) must not judge a RHEL 8 package, nor RHEL 8's fix a RHEL 9 one."""
    el8 = list(match([rpm(Ecosystem.REDHAT, RHEL8, "python-wheel", "1:0.35.1-3.module+el8.5.0+12204+54860423")], db))
    assert found(el8)["CVE-2026-40001"].fixed_versions == ("1:0.35.1-4.module+el8.5.0+12204+54860423",)
    assert not list(match([rpm(Ecosystem.REDHAT, RHEL8, "python3-wheel", "1:0.36.2-7.el9")], db))  # no el8 entry
    assert not list(match([rpm(Ecosystem.REDHAT, Distro("rhel", "7.9"), "python-wheel", "1:0.30-1.el7")], db))


def test_rhel_binary_inherits_the_source_rpm(db: VulnDB) -> None:
    """A binary not named in the advisory is matched through its source rpm, at the source's EVR."""
    pkg = rpm(Ecosystem.REDHAT, RHEL9, "python3.11-wheel", "1:0.36.2-7.el9", "python-wheel", "1:0.36.2-7.el9")
    hit = found(list(match([pkg], db)))["CVE-2026-40001"]
    assert (hit.matched_name, hit.matched_version) == ("python-wheel", "1:0.36.2-7.el9")
    assert hit.severity_source == "cvss" and hit.severity.value == "high"


def test_rocky_and_alma_are_scoped_to_their_release(db: VulnDB) -> None:
    rocky9 = found(list(match([rpm(Ecosystem.ROCKY, Distro("rocky", "9.3"), "openssl", "1:3.0.7-24.el9")], db)))
    assert rocky9["CVE-2026-40002"].aliases == ("RLSA-2026:9002",)
    assert not list(match([rpm(Ecosystem.ROCKY, Distro("rocky", "8.9"), "openssl", "1:1.1.1k-9.el8")], db))
    # the Rocky advisory is not an AlmaLinux one, even for the same package and release
    assert not list(match([rpm(Ecosystem.ALMA, Distro("almalinux", "9.3"), "openssl", "1:3.0.7-24.el9")], db))
    alma8 = found(list(match([rpm(Ecosystem.ALMA, Distro("almalinux", "8.10"), "curl", "7.61.1-34.el8_10")], db)))
    assert alma8["CVE-2026-40003"].fixed_versions == ("7.61.1-34.el8_10.2",)
    assert not list(match([rpm(Ecosystem.ALMA, Distro("almalinux", "8.10"), "curl", "7.61.1-34.el8_10.2")], db))


def deb(distro: Distro, name: str, version: str, source: str, source_version: str) -> Package:
    return Package(name=name, version=version, ecosystem=Ecosystem.UBUNTU, purl=f"pkg:deb/ubuntu/{name}@{version}",
                   source_name=source, source_version=source_version, distro=distro)


def test_ubuntu_release_scoping_and_source_package(db: VulnDB) -> None:
    jammy = Distro("ubuntu", "22.04")
    hit = found(list(match([deb(jammy, "libssl3", "3.0.2-0ubuntu1.14", "openssl", "3.0.2-0ubuntu1.14")], db)))
    m = hit["CVE-2026-40004"]  # reported under the upstream CVE, the Ubuntu record as an alias
    assert m.aliases == ("UBUNTU-CVE-2026-40004",)
    assert m.fixed_versions == ("3.0.2-0ubuntu1.15",) and m.matched_name == "openssl"
    assert (m.severity.value, m.severity_source, m.distro_severity) == ("medium", "distro", "medium")
    assert not list(match([deb(jammy, "libssl3", "3.0.2-0ubuntu1.15", "openssl", "3.0.2-0ubuntu1.15")], db))
    # 24.04's own fix decides for 24.04; 22.04's lower fix version must not declare it fixed or affected
    noble = Distro("ubuntu", "24.04")
    assert "CVE-2026-40004" in found(list(match([deb(noble, "libssl3t64", "3.0.13-0ubuntu3.1", "openssl",
                                                     "3.0.13-0ubuntu3.1")], db)))
    assert not list(match([deb(noble, "libssl3t64", "3.0.13-0ubuntu3.2", "openssl", "3.0.13-0ubuntu3.2")], db))
    # 20.04 has no entry at all: nothing, not the 18.04 or 22.04 verdict
    assert not list(match([deb(Distro("ubuntu", "20.04"), "libssl1.1", "1.1.1f-1ubuntu2", "openssl",
                               "1.1.1f-1ubuntu2")], db))
    # Ubuntu Pro (ESM) fixes apply to the release they are for
    bionic = found(list(match([deb(Distro("ubuntu", "18.04"), "libssl1.1", "1.1.1-1ubuntu2.1~18.04.23",
                                   "openssl", "1.1.1-1ubuntu2.1~18.04.23")], db)))
    assert bionic["CVE-2026-40004"].fixed_versions == ("1.1.1-1ubuntu2.1~18.04.23+esm5",)


def test_sbom_purls_of_syft_and_trivy_for_rpm() -> None:
    """Syft writes the source rpm's file name into ``upstream=``; Trivy splits the source EVR into properties."""
    syft = package_from_purl("pkg:rpm/redhat/python3-wheel@0.36.2-7.el9?arch=noarch&epoch=1"
                             "&upstream=python-wheel-0.36.2-7.el9.src.rpm&distro=rhel-9.4")
    assert syft is not None
    assert (syft.ecosystem, syft.version, syft.source_name, syft.source_version) == (
        Ecosystem.REDHAT, "1:0.36.2-7.el9", "python-wheel", "1:0.36.2-7.el9")
    trivy = parse_sbom({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{
        "type": "library", "name": "binutils", "version": "2.30-93.el8",
        "purl": "pkg:rpm/centos/binutils@2.30-93.el8?arch=aarch64&distro=centos-8.3.2011",
        "properties": [{"name": "aquasecurity:trivy:SrcName", "value": "binutils"},
                       {"name": "aquasecurity:trivy:SrcVersion", "value": "2.30"},
                       {"name": "aquasecurity:trivy:SrcRelease", "value": "93.el8"}]}, {
        "type": "library", "name": "libssl3", "version": "3.0.11-1~deb12u2",
        "purl": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.4",
        "properties": [{"name": "aquasecurity:trivy:SrcName", "value": "openssl"},
                       {"name": "aquasecurity:trivy:SrcVersion", "value": "3.0.11"},
                       {"name": "aquasecurity:trivy:SrcRelease", "value": "1~deb12u2"},
                       {"name": "aquasecurity:trivy:SrcEpoch", "value": "1"}]}]}, "trivy.cdx.json")
    assert [(p.source_name, p.source_version) for p in trivy.packages] == [
        ("binutils", "2.30-93.el8"), ("openssl", "1:3.0.11-1~deb12u2")]


def test_sbom_scan_of_a_rhel_and_an_ubuntu_image(db: VulnDB, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """End to end through ``sbom scan``: Syft-style purls, distro qualifiers, JSON findings."""
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
        {"type": "library", "name": "python3-wheel", "version": "1:0.36.2-7.el9",
         "purl": "pkg:rpm/redhat/python3-wheel@0.36.2-7.el9?arch=noarch&epoch=1"
                 "&upstream=python-wheel-0.36.2-7.el9.src.rpm&distro=rhel-9.4"},
        {"type": "library", "name": "libssl3", "version": "3.0.2-0ubuntu1.14",
         "purl": "pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.14?arch=amd64&upstream=openssl&distro=ubuntu-22.04"},
        {"type": "library", "name": "libssl3t64", "version": "3.0.13-0ubuntu3.2",
         "purl": "pkg:deb/ubuntu/libssl3t64@3.0.13-0ubuntu3.2?arch=amd64&upstream=openssl&distro=ubuntu-24.04"},
    ]}
    (tmp_path / "bom.json").write_text(json.dumps(bom))
    parser = _Parser(prog="cloudward")
    sbom_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sbom", "scan", str(tmp_path / "bom.json"), "--db", str(db.path), "--format", "json"])
    assert args.handler(args) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    got = {(f["package"]["name"], f["vulnerability_id"], tuple(f["fixed_versions"])) for f in findings}
    assert got == {("python3-wheel", "CVE-2026-40001", ("1:0.36.2-8.el9",)),
                   ("libssl3", "CVE-2026-40004", ("3.0.2-0ubuntu1.15",))}
