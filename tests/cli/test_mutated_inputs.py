"""Mutated real inputs through the real CLI: every outcome is a report or a one-line error, never a traceback.

Hypothesis edits the bytes of a valid input (replace, delete, insert JSON/YAML
punctuation and invalid bytes) and runs ``cloudward`` in-process; the command must
return a documented exit code (0, 1 or 2) with nothing escaping ``main()``. These
found the control-character traceback in ``.cloudward.yaml``; the deep-nesting
cases (segfaults, RecursionError) are pinned in test_deep_input.py.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudward.cli.main import main
from cloudward.distribute.vulndb import import_paths
from tests.cli.conftest import ROOT

TOKENS = [b'"', b"{", b"}", b"[", b"]", b":", b",", b"\n", b"- ", b"&a ", b"*a", b"!!binary ", b"null", b"1e999",
          b"-1", b"\xff", b"\x00", b"\x1a", b"#", b"\\", b"  "]

edits = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(["replace", "delete", "insert"]),
                           st.integers(0, 255), st.sampled_from(TOKENS)), min_size=1, max_size=6)


def mutate(data: bytes, plan: list[tuple[float, str, int, bytes]]) -> bytes:
    b = bytearray(data)
    for where, op, byte, token in plan:
        i = int(where * len(b)) if b else 0
        if op == "replace" and b:
            b[i] = byte
        elif op == "delete" and b:
            del b[i:i + 1 + byte % 8]
        else:
            b[i:i] = token
    return bytes(b)


def run(argv: list[str], cwd: Path | None = None) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(cwd or Path.cwd()):
        try:
            code = main(argv)
        except SystemExit as e:
            code = int(e.code or 0)
    assert "Traceback" not in err.getvalue(), err.getvalue()
    return code


SBOM = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
    {"type": "library", "name": "fancylib", "version": "1.5", "purl": "pkg:pypi/fancylib@1.5",
     "properties": [{"name": "aquasecurity:trivy:SrcName", "value": "fancylib"}]},
    {"type": "library", "name": "bash", "version": "5.2-1", "purl": "pkg:deb/debian/bash@5.2-1?distro=debian-12"}],
    "vulnerabilities": [{"id": "CVE-2026-1", "analysis": {"state": "not_affected"},
                         "affects": [{"ref": "pkg:pypi/fancylib@1.5"}]}]}).encode()
OSV = json.dumps({"id": "PYSEC-2026-1", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-2026-1"],
                  "upstream": ["CVE-2026-2", "CVE-2026-3"],
                  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                  "affected": [{"package": {"ecosystem": "PyPI", "name": "fancylib"},
                                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
                                "versions": ["1.5"]}]}).encode()
CONFIG = (b"fail_on: high\npss: restricted\nexceptions:\n  - rule: pod.privileged\n    kind: Deployment\n"
          b"    name: web\n    reason: legacy\n    expires: 2027-01-01\nadmission:\n  rules:\n    default: warn\n"
          b"detect:\n  thresholds:\n    - rule: Forbidden API Request\n      count: 3\n      window: 10\n"
          b"      distinct: namespace\n")
MANIFEST = (ROOT / "examples" / "k8s" / "shop-frontend.yaml").read_bytes()
DOCKERFILE = (ROOT / "examples" / "docker" / "Dockerfile").read_bytes()
REVIEW = (ROOT / "examples" / "admission" / "privileged-pod.json").read_bytes()
AUDIT = (ROOT / "examples" / "audit" / "audit.log").read_bytes()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("db")
    (d / "osv.json").write_bytes(OSV)
    import_paths(d / "v.db", [str(d / "osv.json")])
    return d / "v.db"


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(edits)
def test_mutated_sbom(db: Path, tmp_path: Path, plan: list[tuple[float, str, int, bytes]]) -> None:
    (tmp_path / "bom.json").write_bytes(mutate(SBOM, plan))
    assert run(["sbom", "scan", str(tmp_path / "bom.json"), "--db", str(db), "--format", "json",
                "--max-db-age", "100000"]) in (0, 1, 2)


@FUZZ
@given(edits)
def test_mutated_osv_record(tmp_path: Path, plan: list[tuple[float, str, int, bytes]]) -> None:
    (tmp_path / "rec.json").write_bytes(mutate(OSV, plan))
    assert run(["db", "import", str(tmp_path / "rec.json"), "--db", str(tmp_path / "v.db")]) in (0, 2)


@FUZZ
@given(edits, st.sampled_from(["scan", "config", "review", "detect"]))
def test_mutated_config(tmp_path: Path, plan: list[tuple[float, str, int, bytes]], command: str) -> None:
    (tmp_path / ".cloudward.yaml").write_bytes(mutate(CONFIG, plan))
    (tmp_path / "pod.yaml").write_bytes(MANIFEST)
    argv = {"scan": ["scan", "pod.yaml"], "config": ["config", "show"],
            "review": ["admission", "review", "--config", ".cloudward.yaml", str(ROOT / "examples" / "admission" /
                                                                                 "privileged-pod.json")],
            "detect": ["detect", "audit", str(ROOT / "examples" / "audit" / "audit.log")]}[command]
    assert run(argv, cwd=tmp_path) in (0, 1, 2)


@FUZZ
@given(edits, st.sampled_from(["manifest", "dockerfile", "review", "audit"]))
def test_mutated_scan_admission_and_audit_inputs(tmp_path: Path, plan: list[tuple[float, str, int, bytes]],
                                                  kind: str) -> None:
    seed, name, argv = {"manifest": (MANIFEST, "m.yaml", ["scan", "m.yaml", "--format", "sarif"]),
                        "dockerfile": (DOCKERFILE, "Dockerfile", ["scan", "Dockerfile", "--format", "json"]),
                        "review": (REVIEW, "r.json", ["admission", "review", "r.json"]),
                        "audit": (AUDIT, "a.log", ["detect", "audit", "a.log", "--format", "json"])}[kind]
    (tmp_path / name).write_bytes(mutate(seed, plan))
    assert run(argv, cwd=tmp_path) in (0, 1, 2)
