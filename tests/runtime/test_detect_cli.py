"""`cloudward detect` through its command module (the lead registers it in cli/main.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jsonschema
import pytest

import cloudward.runtime
from cloudward.cli import detect_cmd
from cloudward.core.errors import InputError
from tests.runtime.conftest import SHARED, TRACE


def run(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    detect_cmd.add_parser(sub)
    args = p.parse_args(["detect", *argv])
    return int(args.handler(args))


def test_public_api_is_pinned() -> None:
    assert cloudward.runtime.__all__ == ["Alert", "DetectPolicy", "DetectReport", "EventRecord", "Priority",
                                         "RuleSet", "detect", "detect_files", "load_rules_args", "load_ruleset"]


def test_json_report_lists_every_match(falco_k8s_rules: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    code = run(["audit", str(TRACE / "anonymous_creates_namespace_foo.json"), "--rules", str(falco_k8s_rules),
                "-f", "json", "-o", str(out)])
    doc = json.loads(out.read_text())
    assert code == 1  # Warning alerts, --fail-on defaults to warning
    assert [a["rule"] for a in doc["alerts"]] == ["Anonymous Request Allowed", "Create Disallowed Namespace",
                                                  "K8s Namespace Created"]
    first = doc["alerts"][0]
    assert {"rule", "priority", "output", "time", "tags", "source", "event", "fingerprint"} <= set(first)
    assert first["time"] == "2018-10-25T13:58:49.736141Z" and first["source"] == "k8s_audit"
    assert first["event"]["auditID"] == "841d3e6d-90d2-43df-8da4-684738bee3d5"
    assert doc["summary"]["events"] == 1


def test_fail_on_threshold(tmp_path: Path) -> None:
    args = ["audit", str(TRACE / "exec_pod.json"), "-f", "json", "-o", str(tmp_path / "o")]
    assert run(args) == 0  # Exec Into Pod is NOTICE, below the default 'warning'
    assert run([*args, "--fail-on", "notice"]) == 1
    with pytest.raises(InputError, match="unknown priority 'severe'"):
        run([*args, "--fail-on", "severe"])


def test_bad_rules_fail_before_any_event_is_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- rule: X\n  desc: d\n  condition: ka.verb = get and ka.nope = 1\n  output: o\n"
                   "  priority: INFO\n  source: k8s_audit\n")
    with pytest.raises(InputError) as e:
        run(["audit", str(tmp_path / "missing.log"), "--rules", str(bad)])  # the log is never opened
    assert str(e.value).startswith(f"{bad}:3: ") and "unknown field 'ka.nope'" in str(e.value)


def test_sarif_output_is_valid(tmp_path: Path) -> None:
    schema_path = SHARED / "schemas" / "sarif" / "sarif-schema-2.1.0.json"
    if not schema_path.is_file():
        pytest.skip("SARIF schema not in ../shared")
    out = tmp_path / "r.sarif"
    run(["audit", str(TRACE / "create_nginx_pod_privileged.json"), "-f", "sarif", "-o", str(out)])
    doc = json.loads(out.read_text())
    schema = json.loads(schema_path.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    [res] = doc["runs"][0]["results"]
    assert res["ruleId"] == "k8s-audit.privileged-container-created"
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_dedup_and_dry_run(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    lines = [(TRACE / "exec_pod.json").read_text().strip()] * 3
    log.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.json"
    run(["audit", str(log), "-f", "json", "-o", str(out)])
    assert len(json.loads(out.read_text())["alerts"]) == 3
    run(["audit", str(log), "-f", "json", "-o", str(out), "--dedup"])
    [a] = json.loads(out.read_text())["alerts"]
    assert a["count"] == 3
    assert run(["audit", str(log), "-f", "json", "-o", str(out), "--dry-run", "--fail-on", "debug"]) == 0
    doc = json.loads(out.read_text())
    assert doc["dry_run"] is True and doc["rules"][0] == {
        "rule": "Exec Into Pod", "priority": "Notice", "matches": 3, "suppressed": 0, "share_of_events": 1.0,
        "distinct_users": 1,
        "top_users": {"minikube-user": 3}, "first": "2018-10-26T13:38:34.902914Z",
        "last": "2018-10-26T13:38:34.902914Z"}


def test_falco_json_lines(tmp_path: Path) -> None:
    src = tmp_path / "falco.jsonl"
    src.write_text(json.dumps({"hostname": "n1", "output": "10:00:00: Notice Shell", "priority": "Notice",
                               "rule": "Terminal shell in container", "source": "syscall",
                               "tags": ["container", "T1059"], "time": "2026-11-29T10:00:00.000000000Z",
                               "output_fields": {"proc.name": "bash"}}) + "\nnot json\n")
    out = tmp_path / "o.json"
    assert run(["falco", str(src), "-f", "json", "-o", str(out), "--fail-on", "notice"]) == 1
    doc = json.loads(out.read_text())
    assert [(a["rule"], a["source"], a["mitre_attack"]) for a in doc["alerts"]] == [
        ("Terminal shell in container", "syscall", ["T1059"])]
    assert doc["problems"][0]["line"] == 2
