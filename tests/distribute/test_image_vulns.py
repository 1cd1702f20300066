"""``image scan`` vulnerabilities: an image built from a real (old) Debian dpkg status, matched against a database
imported by ``cloudward db import`` from real Debian changelog fixes; plus the loud no-database default.

Expected (source, CVE) pairs and fixed versions come from the shared data's own
``expected-matches.tsv`` (computed by its author with ``dpkg --compare-versions``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest

from cloudward.report.jsonreport import json_schema
from tests.distribute.imagecli import run_cli
from tests.distribute.imagekit import Built, Item, build_image, files_from_host, write_layout
from tests.distribute.match.kit import OLD_ROOTFS, SHARED, need_shared
from tests.distribute.match.test_debian_expected import tracker_json_from_fixes

SARIF_SCHEMA = SHARED / "schemas" / "sarif" / "sarif-schema-2.1.0.json"
OPENVEX_SCHEMA = SHARED / "schemas" / "openvex" / "openvex_json_schema.json"


def expected_rows() -> dict[tuple[str, str], str]:
    """(source, CVE) → fixed version, from the shared expected-results file."""
    lines = (OLD_ROOTFS / "expected-matches.tsv").read_text().splitlines()
    rows = csv.DictReader((ln for ln in lines if not ln.startswith("#")), delimiter="\t")
    return {(r["source"], r["cve"]): r["fixed_version"] for r in rows}


@pytest.fixture(scope="module")
def old_debian(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Built, Path]:
    """(image reference, built image, vulnerability DB): os-release in one layer, the dpkg status in the next."""
    need_shared()
    tmp = tmp_path_factory.mktemp("vulns")
    built = build_image([files_from_host(OLD_ROOTFS / "etc" / "os-release", "etc/os-release"),
                         files_from_host(OLD_ROOTFS / "var" / "lib" / "dpkg" / "status", "var/lib/dpkg/status")],
                        config={"User": "1000", "Healthcheck": {"Test": ["CMD", "true"]}})
    layout = write_layout(tmp / "layout", built, "old")
    db = tmp / "vuln.db"
    r = run_cli("db", "import", str(tracker_json_from_fixes(tmp / "tracker.json")), "--db", str(db))
    assert r.returncode == 0, r.stderr
    return f"oci:{layout}:old", built, db


def _scan(image: str, *args: str, cwd: Path | None = None) -> tuple[int, dict, str]:
    r = run_cli("image", "scan", image, "--format", "json", *args, cwd=cwd)
    return r.returncode, json.loads(r.stdout) if r.stdout else {}, r.stderr


def vulns(doc: dict) -> list[dict]:
    return [f for f in doc["findings"] if "vulnerability_id" in f]


def test_expected_cves_with_package_fixed_versions_and_layer(old_debian: tuple[str, Built, Path]) -> None:
    image, built, db = old_debian
    code, doc, err = _scan(image, "--db", str(db))
    assert code == 1, err
    jsonschema.validate(doc, json_schema())
    found = vulns(doc)
    expected = expected_rows()
    assert {(f["package"]["matched_name"], f["vulnerability_id"]) for f in found} == set(expected)
    for f in found:
        key = (f["package"]["matched_name"], f["vulnerability_id"])
        assert f["fixed_versions"] == [expected[key]], key
        assert f["layer"] == built.layer_digests[1]  # the layer holding /var/lib/dpkg/status
        assert f["file"] == image
        assert f["package"]["purl"].startswith(f"pkg:deb/debian/{f['package']['name']}@")
        assert f["suppressed"] is False
    # each binary of a vulnerable source is its own finding, at the binary's own version
    libc = {f["package"]["name"]: f["package"]["version"] for f in found if f["vulnerability_id"] == "CVE-2023-6246"}
    assert set(libc) >= {"libc6", "libc-bin"} and libc["libc6"] == "2.36-9+deb12u3"
    assert doc["problems"] == []  # checked: no "not checked" problem


def test_sarif_and_sbom_scan_agree_and_validate(old_debian: tuple[str, Built, Path], tmp_path: Path) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SARIF_SCHEMA} (../shared is absent)")
    image, _, db = old_debian
    r = run_cli("image", "scan", image, "--db", str(db), "--format", "sarif")
    assert r.returncode == 1, r.stderr
    sarif = json.loads(r.stdout)
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    from_image = {res["ruleId"] for res in sarif["runs"][0]["results"] if res["ruleId"].startswith("CVE-")}
    assert from_image == {cve for _, cve in expected_rows()}
    # the SBOM of the same image, scanned by 'sbom scan', finds the same vulnerabilities; both reports validate
    sbom = tmp_path / "bom.cdx.json"
    r = run_cli("image", "sbom", image, "--format", "cyclonedx-json", "--output", str(sbom))
    assert r.returncode == 0, r.stderr
    r = run_cli("sbom", "scan", str(sbom), "--db", str(db), "--format", "json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, json_schema())
    assert {(f["package"]["matched_name"], f["vulnerability_id"]) for f in doc["findings"]} == set(expected_rows())
    r = run_cli("sbom", "scan", str(sbom), "--db", str(db), "--format", "sarif")
    jsonschema.validate(json.loads(r.stdout), json.loads(SARIF_SCHEMA.read_text()))


def test_without_a_database_the_other_checks_run_and_the_exit_is_2(old_debian: tuple[str, Built, Path],
                                                                    tmp_path: Path) -> None:
    image, _, _ = old_debian
    risky = build_image([[Item("etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
                          Item("usr/bin/helper", b"#!/bin/sh\n", mode=0o4755)]])
    layout = write_layout(tmp_path / "risky", risky, "v1")
    code, doc, err = _scan(f"oci:{layout}:v1", cwd=tmp_path)
    assert code == 2
    jsonschema.validate(doc, json_schema())
    assert {f["rule_id"] for f in doc["findings"]} >= {"image.setuid-binary", "image.user-root"}
    (problem,) = doc["problems"]
    assert problem["kind"] == "input" and "vulnerabilities were not checked" in problem["message"]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cloudward: warning:"), err
    assert "cloudward db update" in lines[0] and "cloudward db import" in lines[0] and "--db" in lines[0]
    # even an image with nothing else to report is not "clean" while vulnerabilities are unchecked
    code, _, _ = _scan(image, cwd=tmp_path)
    assert code == 2
    # opting out explicitly gives the exit code of the other findings, and the report still says so
    code, doc, err = _scan(image, "--skip-vulnerabilities", cwd=tmp_path)
    assert code == 0 and err == ""
    assert [p["kind"] for p in doc["problems"]] == ["warning"]


def test_a_named_database_must_exist(old_debian: tuple[str, Built, Path], tmp_path: Path) -> None:
    image, _, db = old_debian
    r = run_cli("image", "scan", image, "--db", str(tmp_path / "missing.db"))
    assert r.returncode == 2 and r.stdout == ""
    assert "no vulnerability database" in r.stderr and "cloudward db" in r.stderr
    r = run_cli("image", "scan", image, "--db", str(db), "--skip-vulnerabilities")
    assert r.returncode == 2 and "contradict" in r.stderr


def test_severity_filter_and_vex(old_debian: tuple[str, Built, Path], tmp_path: Path) -> None:
    image, _, db = old_debian
    _, full, _ = _scan(image, "--db", str(db))
    high = {(f["package"]["name"], f["vulnerability_id"]) for f in vulns(full) if f["severity"] == "high"}
    assert high and len(high) < len(vulns(full))
    _, doc, _ = _scan(image, "--db", str(db), "--severity", "high")
    assert {(f["package"]["name"], f["vulnerability_id"]) for f in vulns(doc)} == high
    vex = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "tests",
           "timestamp": "2026-01-01T00:00:00Z", "version": 1,
           "statements": [{"vulnerability": {"name": "CVE-2024-0553"}, "status": "not_affected",
                           "justification": "vulnerable_code_not_in_execute_path"}]}
    if OPENVEX_SCHEMA.is_file():
        jsonschema.validate(vex, json.loads(OPENVEX_SCHEMA.read_text()))
    (tmp_path / "vex.json").write_text(json.dumps(vex))
    _, doc, _ = _scan(image, "--db", str(db), "--vex", str(tmp_path / "vex.json"))
    marked = {f["vulnerability_id"]: f for f in vulns(doc) if f["suppressed"]}
    assert set(marked) == {"CVE-2024-0553"}
    assert marked["CVE-2024-0553"]["suppression"]["source"] == "vex"
    assert "vulnerable_code_not_in_execute_path" in marked["CVE-2024-0553"]["suppression"]["reason"]


def test_stale_database_warns_or_fails(old_debian: tuple[str, Built, Path]) -> None:
    image, _, db = old_debian
    r = run_cli("image", "scan", image, "--db", str(db), "--max-db-age", "0", "--format", "json")
    assert r.returncode == 1 and "last updated" in r.stderr and vulns(json.loads(r.stdout))
    r = run_cli("image", "scan", image, "--db", str(db), "--max-db-age", "0", "--require-fresh-db")
    assert r.returncode == 2 and r.stdout == "" and "cloudward db update" in r.stderr
