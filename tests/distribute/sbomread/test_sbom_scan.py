"""``cloudward sbom scan`` on CycloneDX and SPDX SBOMs built here, with VEX, filters and bad input.

SBOMs and VEX documents are validated against the official schemas (from
../shared/schemas) before use, so we test with documents a real tool could emit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from cloudward.distribute.packages import Package
from cloudward.distribute.sbomread import read_sbom
from cloudward.distribute.vulndb import import_paths
from tests.distribute.match.kit import OLD_ROOTFS, SHARED, dpkg_packages, need_shared
from tests.distribute.match.test_debian_expected import expected_pairs, tracker_json_from_fixes
from tests.distribute.vulndb.clikit import run

SCHEMAS = SHARED / "schemas"


def validate(doc: dict[str, Any], schema_path: Path, registry: Registry | None = None) -> None:
    schema = json.loads(schema_path.read_text())
    cls = validator_for(schema)
    kwargs: dict[str, Any] = {"format_checker": cls.FORMAT_CHECKER}
    if registry is not None:
        kwargs["registry"] = registry
    cls(schema, **kwargs).validate(doc)


def cdx_registry() -> Registry:
    reg: Registry = Registry()
    for name in ("spdx.schema.json", "jsf-0.82.schema.json"):
        res = Resource.from_contents(json.loads((SCHEMAS / "cyclonedx-1.6" / name).read_text()),
                                     default_specification=DRAFT7)
        reg = reg.with_resource(f"http://cyclonedx.org/schema/{name}", res)
    return reg


def deb_purl(p: Package) -> str:
    src = f"&upstream={p.source_name}%40{p.source_version}" if p.source_name else ""
    return f"pkg:deb/debian/{p.name}@{p.version}?arch={p.arch}&distro=debian-12{src}"


def cyclonedx(packages: list[Package], vulns: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "metadata": {"timestamp": "2026-11-29T00:00:00Z", "component": {"type": "container", "name": "old-bookworm"}},
        "components": [{"type": "library", "bom-ref": f"ref-{i}", "name": p.name, "version": p.version,
                        "purl": deb_purl(p)} for i, p in enumerate(packages)]}
    doc["components"].append({"type": "library", "bom-ref": "py-requests", "name": "requests", "version": "2.5.3",
                              "purl": "pkg:pypi/requests@2.5.3"})
    if vulns:
        doc["vulnerabilities"] = vulns
    validate(doc, SCHEMAS / "cyclonedx-1.6" / "bom-1.6.schema.json", cdx_registry())
    return doc


def spdx(packages: list[Package]) -> dict[str, Any]:
    doc = {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "old-bookworm",
           "documentNamespace": "https://example.invalid/spdx/old-bookworm-1",
           "creationInfo": {"created": "2026-11-29T00:00:00Z", "creators": ["Tool: test"]},
           "packages": [{"SPDXID": f"SPDXRef-Package-{i}", "name": p.name, "versionInfo": p.version,
                         "downloadLocation": "NOASSERTION",
                         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                           "referenceLocator": deb_purl(p)}]} for i, p in enumerate(packages)]}
    validate(doc, SCHEMAS / "spdx-2.3" / "spdx-schema.json")
    return doc


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Path]:
    need_shared()
    db = tmp_path / "v.db"
    import_paths(db, [str(tracker_json_from_fixes(tmp_path / "tracker.json")),
                      str(SHARED / "vulndata-sample" / "osv" / "pypi")])
    pkgs = dpkg_packages(OLD_ROOTFS)
    (tmp_path / "bom.cdx.json").write_text(json.dumps(cyclonedx(pkgs)))
    (tmp_path / "bom.spdx.json").write_text(json.dumps(spdx(pkgs)))
    return {"db": db, "cdx": tmp_path / "bom.cdx.json", "spdx": tmp_path / "bom.spdx.json", "dir": tmp_path}


def scan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = run(["sbom", "scan", *argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_cyclonedx_and_spdx_give_the_expected_cves(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, cdx = scan_json(capsys, str(env["cdx"]), "--db", str(env["db"]))
    assert code == 1
    pairs = {(f["package"]["matched_name"], f["vulnerability_id"]) for f in cdx["findings"]
             if f["package"]["ecosystem"] == "Debian"}
    assert pairs == expected_pairs()
    req = [f for f in cdx["findings"] if f["package"]["name"] == "requests"]
    assert "CVE-2015-2296" in {f["vulnerability_id"] for f in req}
    one = next(f for f in cdx["findings"] if f["vulnerability_id"] == "CVE-2024-0553" and
               f["package"]["name"] == "libgnutls30")
    assert one["fixed_versions"] == ["3.7.9-2+deb12u2"] and one["aliases"] == ["DEBIAN-CVE-2024-0553"]
    assert one["package"]["purl"].startswith("pkg:deb/debian/libgnutls30@3.7.9-2+deb12u1")
    assert one["rule_id"] == "CVE-2024-0553" and one["severity"] in {"low", "medium", "high"}
    _, sp = scan_json(capsys, str(env["spdx"]), "--db", str(env["db"]))
    debian = {(f["package"]["name"], f["vulnerability_id"]) for f in cdx["findings"]
              if f["package"]["ecosystem"] == "Debian"}
    assert {(f["package"]["name"], f["vulnerability_id"]) for f in sp["findings"]} == debian


def test_openvex_suppresses_with_justification(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    vex = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.invalid/vex/1",
           "author": "tests", "timestamp": "2026-11-29T00:00:00Z", "version": 1,
           "statements": [{"vulnerability": {"name": "CVE-2023-6246"},
                           "products": [{"@id": "pkg:deb/debian/libc6"}, {"@id": "pkg:deb/debian/libc-bin"}],
                           "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
                           "impact_statement": "syslog is never called with untrusted input"}]}
    validate(vex, SCHEMAS / "openvex" / "openvex_json_schema.json")
    (env["dir"] / "vex.json").write_text(json.dumps(vex))
    _, out = scan_json(capsys, str(env["cdx"]), "--db", str(env["db"]), "--vex", str(env["dir"] / "vex.json"))
    hits = [f for f in out["findings"] if f["vulnerability_id"] == "CVE-2023-6246"]
    assert {f["package"]["name"]: f["suppressed"] for f in hits}["libc6"] is True
    libc6 = next(f for f in hits if f["package"]["name"] == "libc6")
    assert libc6["vex"]["justification"] == "vulnerable_code_not_in_execute_path"
    assert "syslog is never called" in libc6["suppression"]["reason"]
    assert all(f["suppressed"] for f in hits if f["package"]["name"] in ("libc6", "libc-bin"))
    assert not any(f["suppressed"] for f in out["findings"] if f["vulnerability_id"] != "CVE-2023-6246")


def test_cyclonedx_embedded_vex(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    pkgs = dpkg_packages(OLD_ROOTFS)
    ref = next(i for i, p in enumerate(pkgs) if p.name == "libgnutls30")
    vulns = [{"id": "CVE-2024-0553", "affects": [{"ref": f"ref-{ref}"}],
              "analysis": {"state": "resolved", "detail": "patched in our rebuild"}}]
    (env["dir"] / "vex.cdx.json").write_text(json.dumps(cyclonedx(pkgs, vulns)))
    _, out = scan_json(capsys, str(env["dir"] / "vex.cdx.json"), "--db", str(env["db"]))
    (hit,) = [f for f in out["findings"] if f["vulnerability_id"] == "CVE-2024-0553"]
    assert hit["suppressed"] and hit["vex"]["status"] == "resolved"


def test_filters_and_fail_on(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, everything = scan_json(capsys, str(env["cdx"]), "--db", str(env["db"]))
    code, high = scan_json(capsys, str(env["cdx"]), "--db", str(env["db"]), "--severity", "high,critical")
    assert {f["severity"] for f in high["findings"]} <= {"high", "critical"}
    assert len(high["findings"]) == sum(f["severity"] in ("high", "critical") for f in everything["findings"])
    code, _ = scan_json(capsys, str(env["cdx"]), "--db", str(env["db"]), "--fail-on", "critical")
    assert code == (1 if any(f["severity"] == "critical" for f in everything["findings"]) else 0)
    _, fixed_only = scan_json(capsys, str(env["cdx"]), "--db", str(env["db"]), "--ignore-unfixed")
    assert all(f["fixed_versions"] for f in fixed_only["findings"])


def test_sarif_output_is_valid(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["sbom", "scan", str(env["cdx"]), "--db", str(env["db"]), "--format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    validate(log, SCHEMAS / "sarif" / "sarif-schema-2.1.0.json")
    rule_ids = {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert {cve for _, cve in expected_pairs()} <= rule_ids


def test_table_output(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["sbom", "scan", str(env["cdx"]), "--db", str(env["db"])]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["PACKAGE", "INSTALLED", "VULNERABILITY", "SEVERITY", "FIXED", "IN",
                                           "STATUS"]
    assert any(line.split()[:3] == ["libgnutls30", "3.7.9-2+deb12u1", "CVE-2024-0553"] for line in out.splitlines())


def test_not_an_sbom_and_missing_db(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    other = env["dir"] / "other.json"
    other.write_text(json.dumps({"kind": "Pod"}))
    assert run(["sbom", "scan", str(other), "--db", str(env["db"])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"cloudward: error: {other}: not a CycloneDX or SPDX JSON SBOM") and "\n" not in err
    assert run(["sbom", "scan", str(env["cdx"]), "--db", str(env["dir"] / "none.db")]) == 2
    assert "no vulnerability database here" in capsys.readouterr().err


def test_reads_trivy_style_properties(tmp_path: Path) -> None:
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{
        "type": "library", "name": "libssl3", "version": "3.0.11-1~deb12u2",
        "purl": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.4",
        "properties": [{"name": "aquasecurity:trivy:SrcName", "value": "openssl"},
                       {"name": "aquasecurity:trivy:SrcVersion", "value": "3.0.11-1~deb12u2"},
                       {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:abc"}]}]}
    (tmp_path / "t.json").write_text(json.dumps(doc))
    (p,) = read_sbom(tmp_path / "t.json").packages
    assert (p.source_name, p.source_version, p.layer) == ("openssl", "3.0.11-1~deb12u2", "sha256:abc")
    assert p.distro is not None and (p.distro.id, p.distro.version_id) == ("debian", "12.4")
