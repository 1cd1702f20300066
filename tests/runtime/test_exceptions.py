"""`.cloudward.yaml` exceptions for detect alerts: selectors, reasons, expiry; suppressed alerts stay in reports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cloudward.core.errors import ConfigError
from cloudward.runtime import detect_files, load_rules_args
from cloudward.runtime.events.builder import audit_event
from cloudward.runtime.events.model import EventRecord
from cloudward.runtime.events.webhook import Metrics
from cloudward.runtime.live import policy_run
from cloudward.runtime.policy import parse_detect_section
from cloudward.runtime.serve import Dispatcher, run_events
from tests.runtime.conftest import TRACE
from tests.runtime.test_burst import ListSink, detect_node, requests, write_log
from tests.runtime.test_detect_cli import run

EXEC_CONFIG = """\
detect:
  exceptions:
    - rule: Exec Into Pod
      user: minikube-*
      namespace: {ns}
      reason: developers debug their own pods in the dev cluster
      expires: {expires}
"""


def project(tmp_path: Path, ns: str = "default", expires: str = "2999-12-31") -> Path:
    """A project dir holding a copy of a real captured exec event and a .cloudward.yaml."""
    (tmp_path / ".cloudward.yaml").write_text(EXEC_CONFIG.format(ns=ns, expires=expires))
    log = tmp_path / "audit.log"
    log.write_bytes((TRACE / "exec_pod.json").read_bytes())
    return log


def test_exception_suppresses_but_reports(tmp_path: Path) -> None:
    log = project(tmp_path)
    out = tmp_path / "r.json"
    assert run(["audit", str(log), "-f", "json", "-o", str(out), "--fail-on", "notice"]) == 0
    doc = json.loads(out.read_text())
    assert doc["summary"]["alerts"] == 0 and doc["summary"]["suppressed"] == 1
    assert {a["rule"] for a in doc["alerts"]} == {"Exec Into Pod"}
    assert doc["alerts"][0]["suppressed"] == {
        "source": "config", "reason": "developers debug their own pods in the dev cluster", "expires": "2999-12-31",
        "exception": f"{tmp_path / '.cloudward.yaml'}:3"}


def test_selector_near_miss_does_not_suppress(tmp_path: Path) -> None:
    log = project(tmp_path, ns="prod-*")  # the exec happened in 'default'
    out = tmp_path / "r.json"
    assert run(["audit", str(log), "-f", "json", "-o", str(out), "--fail-on", "notice"]) == 1
    doc = json.loads(out.read_text())
    assert doc["summary"]["suppressed"] == 0 and all(a["suppressed"] is None for a in doc["alerts"])


def test_sarif_carries_suppressions(tmp_path: Path) -> None:
    log = project(tmp_path)
    out = tmp_path / "r.sarif"
    run(["audit", str(log), "-f", "sarif", "-o", str(out)])
    results = json.loads(out.read_text())["runs"][0]["results"]
    assert len(results) == 1
    for r in results:
        [sup] = r["suppressions"]
        assert sup["status"] == "accepted" and sup["kind"] == "external"
        assert sup["justification"].startswith("developers debug their own pods")


def test_expired_exception_warns_and_stops_suppressing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = project(tmp_path, expires="2020-01-31")
    log.write_bytes(log.read_bytes() * 2)  # two matching alerts: the warning still comes once
    out = tmp_path / "r.json"
    assert run(["audit", str(log), "-f", "json", "-o", str(out), "--fail-on", "notice"]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / '.cloudward.yaml'}:3: exception for Exec Into Pod expired on 2020-01-31" in err
    assert err.count("exception for") == 1  # once, not once per alert
    doc = json.loads(out.read_text())
    assert doc["summary"]["suppressed"] == 0 and doc["summary"]["alerts"] == 2
    assert any("expired" in p["message"] for p in doc["problems"])


def test_explicit_config_and_sinks_get_only_unsuppressed(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "audit.log"
    log.parent.mkdir()
    log.write_bytes((TRACE / "exec_pod.json").read_bytes())
    cfg = tmp_path / "policy.yaml"
    cfg.write_text(EXEC_CONFIG.format(ns="default", expires="2999-12-31"))
    sink = tmp_path / "alerts.jsonl"
    assert run(["audit", str(log), "--config", str(cfg), "--sink", f"jsonl:{sink}", "-o", str(tmp_path / "t")]) == 0
    assert sink.read_text() == ""  # accepted alerts never reach a sink
    assert "0 alert(s) from 1 event(s); 1 suppressed by exceptions" in (tmp_path / "t").read_text()


def test_bad_exception_is_a_config_error_with_line(tmp_path: Path) -> None:
    (tmp_path / ".cloudward.yaml").write_text("detect:\n  exceptions:\n    - rule: Exec Into Pod\n      user: bob\n")
    log = tmp_path / "audit.log"
    log.write_text("")
    with pytest.raises(ConfigError, match="needs a 'reason'") as e:
        run(["audit", str(log)])
    assert e.value.line == 3


def policy(text: str) -> Any:
    return parse_detect_section(detect_node("detect:\n  exceptions:\n" + text), "cfg.yaml")


@pytest.mark.parametrize(("selector", "hit", "miss"), [
    ("user: 'system:serviceaccount:ci:*'", {"user": "system:serviceaccount:ci:runner"},
     {"user": "system:serviceaccount:prod:runner"}),
    ("group: 'oncall-*'", {"groups": ["system:authenticated", "oncall-eu"]}, {"groups": ["system:authenticated"]}),
    ("user_agent: 'kubectl/*'", {}, {"user_agent": "curl/8.5.0"}),
    ("namespace: 'dev-?'", {"namespace": "dev-1"}, {"namespace": "dev-12"}),
    ("name: 'debug-*'", {"name": "debug-x"}, {"name": "web-0"}),
    ("subresource: exec", {}, {"subresource": "attach"}),
    ("resource: pods", {}, None),
])
def test_selectors(selector: str, hit: dict[str, Any], miss: dict[str, Any] | None, tmp_path: Path) -> None:
    pol = policy(f"    - rule: '*'\n      {selector}\n      reason: r\n")
    base: dict[str, Any] = {"verb": "create", "resource": "pods", "name": "web-0", "subresource": "exec",
                            "stage": "ResponseStarted"}
    rs = load_rules_args([])
    events = [audit_event(**(base | hit))] + ([audit_event(**(base | miss), time="2026-11-29T10:00:01Z")]
                                              if miss is not None else [])
    report = detect_files([write_log(tmp_path / "a.log", events)], rs, policy=pol)
    first = [a for a in report.alerts if a.event is report.alerts[0].event]
    assert first and all(a.suppressed is not None for a in first), [a.rule for a in first]
    rest = [a for a in report.alerts if a.event is not report.alerts[0].event]
    assert all(a.suppressed is None for a in rest)
    if miss is not None:
        assert rest, "the near-miss event should still alert"


def test_verb_selector(tmp_path: Path) -> None:
    pol = policy("    - rule: Forbidden API Request\n      verb: 'l*'\n      reason: r\n")
    events = requests([{"at": 0, "user": "bob", "code": 403}])
    events.append(audit_event("get", "secrets", user="bob", code=403, time="2026-11-29T10:00:01Z"))
    report = detect_files([write_log(tmp_path / "a.log", events)], load_rules_args([]), policy=pol)
    assert [(a.event["verb"], a.suppressed is not None) for a in report.alerts] == [("list", True), ("get", False)]


def test_rule_matched_by_slug_glob_and_burst_alerts_can_be_excepted(tmp_path: Path) -> None:
    pol = policy("    - rule: k8s-audit.burst-of-*\n      user: scanner\n      reason: our weekly RBAC audit job\n")
    events = requests([{"at": 0, "user": "scanner", "code": 403, "repeat": [10, 1]},
                       {"at": 0.5, "user": "mallory", "code": 403, "repeat": [10, 1]}])
    report = detect_files([write_log(tmp_path / "a.log", events)], load_rules_args([]), policy=pol)
    bursts = {a.event["user"]["username"]: a.suppressed for a in report.alerts if a.rule.startswith("Burst")}
    assert set(bursts) == {"scanner", "mallory"}
    assert bursts["scanner"] is not None and bursts["scanner"].reason == "our weekly RBAC audit job"
    assert bursts["mallory"] is None


def test_suppressed_403s_do_not_feed_thresholds(tmp_path: Path) -> None:
    pol = policy("    - rule: Forbidden API Request\n      user_agent: 'kube-probe/*'\n      reason: probes\n")
    events = requests([{"at": 0, "user": "mallory", "code": 403, "repeat": [10, 1]}])
    for e in events[:2]:
        e["userAgent"] = "kube-probe/1.30"
    report = detect_files([write_log(tmp_path / "a.log", events)], load_rules_args([]), policy=pol)
    assert not [a for a in report.alerts if a.rule.startswith("Burst")]  # 8 counted, threshold 10
    assert sum(a.suppressed is not None for a in report.alerts) == 2


def test_live_dispatcher_counts_and_holds_back_suppressed() -> None:
    pol = policy("    - rule: Exec Into Pod\n      user: alice\n      reason: r\n      expires: 2999-01-01\n")
    rs = load_rules_args([])
    sink, metrics = ListSink(), Metrics()
    d = Dispatcher([sink], metrics=metrics, policy=policy_run(pol, rs, today=dt.date(2026, 1, 1)))
    evs = [audit_event("create", "pods", name="w", subresource="exec", stage="ResponseStarted", user=u)
           for u in ("alice", "bob")]
    run_events([EventRecord(e) for e in evs], rs, d)
    d.close()
    assert [a.event["user"]["username"] for a in sink.alerts] == ["bob"]
    assert metrics.values["cloudward_detect_alerts_suppressed_total"] == 1
