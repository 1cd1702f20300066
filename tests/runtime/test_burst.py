"""Threshold rules across events: bursts of 403s (discovery, ATT&CK T1613/T1087) as one alert with a count."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudward.core.errors import ConfigError
from cloudward.runtime import detect_files, load_rules_args
from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.events.builder import audit_event
from cloudward.runtime.events.model import EventRecord
from cloudward.runtime.live import policy_run
from cloudward.runtime.policy import DetectPolicy, parse_detect_section
from cloudward.runtime.serve import Dispatcher, run_events
from tests.runtime.conftest import DATA

BURST = "Burst of Forbidden API Requests"
T0 = dt.datetime(2026, 11, 29, 10, 0, 0, tzinfo=dt.UTC)


def requests(spec: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Expand a burst_cases.yaml request list into audit events, in time order."""
    out = []
    for r in spec:
        n, step = r.get("repeat", [1, 0])
        for i in range(n):
            t = (T0 + dt.timedelta(seconds=r["at"] + i * step)).isoformat().replace("+00:00", "Z")
            out.append(audit_event("list", "secrets", namespace="kube-system", user=r["user"], code=r["code"],
                                   time=t))
    return sorted(out, key=lambda e: e["stageTimestamp"])


def write_log(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def detect_node(text: str) -> Any:
    """The ``detect:`` node of a config text, as ``Config.section("detect")`` hands it over."""
    root = yaml.compose(text)
    assert isinstance(root, yaml.MappingNode)
    return root.value[0][1]


CASES = yaml.safe_load((DATA / "burst_cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_builtin_burst_threshold(case: dict[str, Any], tmp_path: Path) -> None:
    log = write_log(tmp_path / "audit.log", requests(case["requests"]))
    report = detect_files([log], load_rules_args([]))
    bursts = [a for a in report.alerts if a.rule == BURST]
    assert [[a.event["user"]["username"], a.count] for a in bursts] == case["bursts"]
    for a in bursts:
        assert a.rule_id == "k8s-audit.burst-of-forbidden-api-requests"
        assert {"T1613", "T1087"} <= set(a.attack) and a.priority.value == "Warning"
        assert a.output.startswith(f"{a.count} x 'Forbidden API Request' within 60s (user=")
    # every 403 is still its own alert (one to one with Falco's per-event view)
    forbidden = sum(1 for r in case["requests"] if r["code"] == 403 and not r["user"].startswith("system:kube")
                    for _ in range(r.get("repeat", [1])[0]))
    assert sum(1 for a in report.alerts if a.rule == "Forbidden API Request") == forbidden


def test_burst_sits_where_the_threshold_was_crossed_and_fails_the_run(tmp_path: Path) -> None:
    events = requests([{"at": 0, "user": "mallory", "code": 403, "repeat": [10, 1]}])
    report = detect_files([write_log(tmp_path / "a.log", events)], load_rules_args([]))
    assert [a.rule for a in report.alerts] == ["Forbidden API Request"] * 10 + [BURST]
    burst = report.alerts[-1]
    assert burst.time == events[0]["stageTimestamp"] and burst.last_time == events[-1]["stageTimestamp"]
    assert burst.output_fields["burst.count"] == 10 and burst.output_fields["burst.user"] == "mallory"
    from cloudward.runtime.rules.model import Priority
    assert report.exit_code(Priority.WARNING) == 1  # single 403s are Notice; the burst is Warning


def test_out_of_order_and_skewed_events_only_count_with_their_neighbours(tmp_path: Path) -> None:
    now = requests([{"at": 3600, "user": "mallory", "code": 403, "repeat": [5, 1]}])
    skewed = requests([{"at": 0, "user": "mallory", "code": 403, "repeat": [5, 1]}])  # an hour behind
    interleaved = [e for pair in zip(now, skewed, strict=True) for e in pair]  # file order, not time order
    report = detect_files([write_log(tmp_path / "a.log", interleaved)], load_rules_args([]))
    assert not [a for a in report.alerts if a.rule == BURST]  # near miss: never 10 within 60 s
    more = requests([{"at": 3605, "user": "mallory", "code": 403, "repeat": [5, 1]}])
    report = detect_files([write_log(tmp_path / "b.log", interleaved + more)], load_rules_args([]))
    assert [a.count for a in report.alerts if a.rule == BURST] == [10]  # the 10 near 11:00 (hit)


def test_thresholds_from_config(tmp_path: Path) -> None:
    cfg = tmp_path / ".cloudward.yaml"
    cfg.write_text("detect:\n  thresholds:\n    - rule: Forbidden API Request\n      name: Namespace Probe\n"
                   "      count: 3\n      window: 5\n      by: [user, namespace]\n      priority: error\n")
    policy = parse_detect_section(detect_node(cfg.read_text()), str(cfg))
    events = requests([{"at": 0, "user": "eve", "code": 403, "repeat": [3, 2]},  # 3 within 4 s: hit
                       {"at": 100, "user": "eve", "code": 403, "repeat": [3, 3]}])  # 3 within 6 s: near miss
    report = detect_files([write_log(tmp_path / "a.log", events)], load_rules_args([]), policy=policy)
    hits = [a for a in report.alerts if a.rule == "Namespace Probe"]
    assert [(a.count, a.priority.value, a.output_fields["burst.namespace"]) for a in hits] == [(3, "Error",
                                                                                              "kube-system")]
    assert not any(a.rule == BURST for a in report.alerts)  # a configured list replaces the built-in one


def test_threshold_naming_an_unknown_rule_is_a_config_error(tmp_path: Path) -> None:
    text = "detect:\n  thresholds:\n    - rule: Forbiden API Request\n      count: 3\n      window: 5\n"
    policy = parse_detect_section(detect_node(text), "cfg.yaml")
    with pytest.raises(ConfigError, match="Forbiden API Request") as e:
        detect_files([write_log(tmp_path / "a.log", [])], load_rules_args([]), policy=policy)
    assert e.value.line == 3


@pytest.mark.parametrize(("text", "message", "line"), [
    ("detect:\n  thresholds:\n    - rule: X\n      count: 0\n      window: 5\n", "count must be a positive whole", 4),
    ("detect:\n  thresholds:\n    - rule: X\n      count: 3\n", "needs 'window'", 3),
    ("detect:\n  thresholds:\n    - rule: X\n      count: 3\n      window: 5\n      by: [who]\n", "unknown key 'who'",
     6),
    ("detect:\n  thresholds:\n    - {rule: X, count: 3, window: 5, priority: loud}\n", "unknown priority 'loud'", 3),
])
def test_bad_threshold_config(text: str, message: str, line: int) -> None:
    with pytest.raises(ConfigError, match=message) as e:
        parse_detect_section(detect_node(text), "cfg.yaml")
    assert e.value.file == "cfg.yaml" and e.value.line == line


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def close(self) -> None:
        pass


def test_live_burst_is_sent_when_it_opens_and_its_total_when_it_closes() -> None:
    rs = load_rules_args([])
    sink = ListSink()
    d = Dispatcher([sink], policy=policy_run(DetectPolicy(), rs))
    events = requests([{"at": 0, "user": "mallory", "code": 403, "repeat": [14, 1]},
                       {"at": 300, "user": "alice", "code": 200}])  # later traffic closes mallory's burst
    run_events([EventRecord(e) for e in events[:10]], rs, d)
    assert [(a.rule, a.count) for a in sink.alerts if a.rule == BURST] == [(BURST, 10)]  # sent at the 10th
    run_events([EventRecord(e) for e in events[10:]], rs, d)
    # alice's alert (secrets listed in kube-system) is 300 s later: mallory's burst has closed, its total follows
    assert [(a.rule, a.count) for a in sink.alerts if a.rule == BURST] == [(BURST, 10), (BURST, 14)]
    d.close()
    assert len([a for a in sink.alerts if a.rule == BURST]) == 2  # nothing left to report at shutdown


SPREAD = "Secrets Listed In Many Namespaces"


def listings(user: str, namespaces: list[str], start: int = 0, step: int = 10) -> list[dict[str, Any]]:
    """One successful ``list secrets`` per namespace, ``step`` seconds apart."""
    return [audit_event("list", "secrets", namespace=ns, user=user, code=200,
                        time=(T0 + dt.timedelta(seconds=start + i * step)).isoformat().replace("+00:00", "Z"))
            for i, ns in enumerate(namespaces)]


def test_builtin_distinct_threshold_counts_namespaces_not_requests(tmp_path: Path) -> None:
    """Five namespaces' secrets within 300 s is collection (T1552.007); twenty listings of two namespaces is not."""
    hit = listings("dave", ["shop", "billing", "auth", "search", "payments"])
    again = listings("dave", ["shop", "ops"], start=45)  # within the burst: one new namespace
    busy = listings("erin", ["shop", "billing"] * 10, step=5)  # near miss: many requests, two namespaces
    slow = listings("frank", ["a", "b", "c", "d", "e"], step=100)  # near miss: five namespaces over 400 s
    events = sorted(hit + again + busy + slow, key=lambda e: e["stageTimestamp"])
    report = detect_files([write_log(tmp_path / "a.log", events)], load_rules_args([]))
    spread = [a for a in report.alerts if a.rule == SPREAD]
    assert [(a.event["user"]["username"], a.count) for a in spread] == [("dave", 6)]
    (alert,) = spread
    assert alert.output_fields["burst.namespaces"] == ["auth", "billing", "ops", "payments", "search", "shop"]
    assert alert.output.startswith("'Secrets Listed In Namespace By Human' in 6 distinct namespace values within "
                                   "300s (user=dave)")
    assert alert.rule_id == "k8s-audit.secrets-listed-in-many-namespaces" and "T1552.007" in alert.attack


def test_a_threshold_over_several_rules_and_distinct_keys_from_config(tmp_path: Path) -> None:
    text = ("detect:\n  thresholds:\n    - rule: [Secrets Listed In Namespace By Human, Forbidden API Request]\n"
            "      name: Credential Hunt\n      count: 3\n      window: 60\n      distinct: namespace\n")
    policy = parse_detect_section(detect_node(text), "cfg.yaml")
    (th,) = policy.thresholds
    assert th.rules == ("Secrets Listed In Namespace By Human", "Forbidden API Request") and th.distinct == "namespace"
    # two successful listings and one refused one, three namespaces: the two rules count together
    refused = audit_event("list", "secrets", namespace="auth", user="gina", code=403,
                          time=(T0 + dt.timedelta(seconds=30)).isoformat().replace("+00:00", "Z"))
    events = [*listings("gina", ["shop", "billing"]), refused]
    report = detect_files([write_log(tmp_path / "a.log", events)], load_rules_args([]), policy=policy)
    assert [(a.rule, a.count) for a in report.alerts if a.rule == "Credential Hunt"] == [("Credential Hunt", 3)]


@pytest.mark.parametrize(("text", "message", "line"), [
    ("detect:\n  thresholds:\n    - {rule: X, count: 3, window: 5, distinct: user}\n", "'user' is also in 'by'", 3),
    ("detect:\n  thresholds:\n    - {rule: X, count: 3, window: 5, distinct: pod}\n", "distinct", 3),
    ("detect:\n  thresholds:\n    - {rule: [], count: 3, window: 5}\n", "name at least one rule", 3),
])
def test_bad_distinct_threshold_config(text: str, message: str, line: int) -> None:
    with pytest.raises(ConfigError, match=message) as e:
        parse_detect_section(detect_node(text), "cfg.yaml")
    assert e.value.line == line


def test_a_threshold_over_a_list_naming_an_unknown_rule_names_it(tmp_path: Path) -> None:
    text = ("detect:\n  thresholds:\n    - rule: [Forbidden API Request, Secrets Listd]\n      count: 3\n"
            "      window: 5\n")
    policy = parse_detect_section(detect_node(text), "cfg.yaml")
    with pytest.raises(ConfigError, match="'Secrets Listd'"):
        detect_files([write_log(tmp_path / "a.log", [])], load_rules_args([]), policy=policy)
