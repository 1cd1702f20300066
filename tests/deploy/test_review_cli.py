"""cloudward admission review: the webhook's code path from stdin, with documented exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from cloudward.testing import admission_review

from .conftest import DATA, fixture, run_cli
from .test_review import PRIVILEGED, deployment


def test_json_lines_in_order_with_exit_1_for_a_denial() -> None:
    docs = [admission_review(deployment(), uid="a"), admission_review(PRIVILEGED, uid="b"),
            admission_review(None, operation="DELETE", old=PRIVILEGED, uid="c")]
    r = run_cli("admission", "review", stdin="\n".join(json.dumps(d) for d in docs).encode())
    assert r.returncode == 1, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["response"]["uid"] for o in out] == ["a", "b", "c"]
    assert [o["response"]["allowed"] for o in out] == [True, False, True]


def test_single_pretty_printed_review_and_exit_0() -> None:
    r = run_cli("admission", "review", stdin=json.dumps(fixture("pod-create-kubectl.json"), indent=2).encode())
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["response"]["allowed"] is True


def test_namespaces_file_and_pss_enforce_flag() -> None:
    doc = json.dumps(admission_review(deployment(), namespace="prod")).encode()
    assert run_cli("admission", "review", stdin=doc).returncode == 0
    r = run_cli("admission", "review", "--namespaces", str(DATA / "namespaces.yaml"), stdin=doc)
    assert r.returncode == 1
    assert run_cli("admission", "review", "--pss-enforce", "restricted", stdin=doc).returncode == 1


def test_bad_input_is_one_line_with_the_line_number_and_exit_2() -> None:
    good = json.dumps(admission_review(deployment(), uid="ok"))
    r = run_cli("admission", "review", stdin=f"{good}\n{{not json\n".encode())
    assert r.returncode == 2
    assert r.stderr.decode().strip().startswith("cloudward: error: <stdin>:2: body is not valid JSON")
    assert "Traceback" not in r.stderr.decode()
    assert json.loads(r.stdout)["response"]["uid"] == "ok"


def test_config_errors_name_file_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / ".cloudward.yaml"
    cfg.write_text("rules:\n  disable: [pod.privileged]\nadmission:\n  failure_mode: sometimes\n")
    r = run_cli("admission", "review", "--config", str(cfg), stdin=b"{}")
    assert r.returncode == 2
    assert f"{cfg}:4:17: admission.failure_mode: 'sometimes' is not one of closed, open" in r.stderr.decode()
    cfg.write_text("admission:\n  signatures:\n    policy: x\n")
    r = run_cli("admission", "review", "--config", str(cfg), stdin=b"{}")
    assert r.returncode == 2
    assert f"{cfg}:3:13: admission.signatures.policy: {tmp_path / 'x'} is not a file" in r.stderr.decode()
    (tmp_path / "x").write_text("version: 1\npolicies: []\n")
    r = run_cli("admission", "review", "--config", str(cfg), stdin=b"{}")
    assert r.returncode == 2  # the verification policy itself is checked by the signing stage's loader
    assert "policies: must be a non-empty list" in r.stderr.decode() and "admission.signatures.policy" in \
        r.stderr.decode()


def test_config_is_found_upward_and_shared_with_scan(tmp_path: Path) -> None:
    (tmp_path / ".cloudward.yaml").write_text("rules:\n  disable: [pod.privileged]\n")
    r = run_cli("admission", "review", stdin=json.dumps(admission_review(PRIVILEGED)).encode(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "pod.privileged" not in r.stdout.decode()
