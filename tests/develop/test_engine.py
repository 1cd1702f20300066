"""The scan engine with small rules defined here: positions, suppressions, crashes, selection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from cloudward.core.config import parse_config
from cloudward.core.model import Controls, ProblemKind, PSSLevel, SuppressionSource, Violation
from cloudward.core.rules import Rule, RuleContext, RuleRegistry, Target
from cloudward.core.settings import ScanSettings
from cloudward.core.severity import Severity
from cloudward.develop import scan
from cloudward.develop.engine import Scanner, select_rules
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, pod_spec


def _privileged(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    pod = pod_spec(obj)
    for c in pod.containers() if pod else ():
        if c.security_context.get("privileged") is True:
            yield Violation(f"container {c.name!r} is privileged", (*c.path, "securityContext", "privileged"),
                            container=c.name)


def _boom(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    raise KeyError("surprise")


PRIV = Rule("test.privileged", "Privileged", Severity.HIGH, Target.K8S_OBJECT, _privileged, "d", "r",
            kinds=WORKLOAD_KINDS, controls=Controls(pss_level=PSSLevel.BASELINE, pss_control="Privileged Containers"))
CRASH = Rule("test.crash", "Crash", Severity.LOW, Target.K8S_OBJECT, _boom, "d", "r", kinds=frozenset({"Service"}))
HARDEN = Rule("test.harden", "Harden", Severity.LOW, Target.K8S_OBJECT, lambda o, c: [Violation("x", ("spec",))],
              "d", "r", kinds=frozenset({"Deployment"}))

MANIFEST = """\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    namespace: prod
    annotations:
      cloudward.io/ignore.sidecar: test.privileged
      cloudward.io/ignore-reason: sidecar needs it for iptables
  spec:
    template:
      metadata:
        annotations:
          cloudward.io/ignore.helper: test.*
      spec:
        containers:
        - name: app
          securityContext: {privileged: true}
        - name: sidecar
          securityContext: {privileged: true}
        - name: helper
          securityContext: {privileged: true}
"""


def _write(tmp_path: Path, text: str, name: str = "m.yaml") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_findings_carry_file_line_path_resource_and_inline_suppressions(tmp_path: Path) -> None:
    f = _write(tmp_path, MANIFEST)
    report = scan([f], ScanSettings(), RuleRegistry([PRIV]))
    got = [(x.location.line, x.location.json_path, x.resource.display() if x.resource else None,
            x.suppressed.source if x.suppressed else None, x.suppressed.reason if x.suppressed else None)
           for x in report.findings]
    path = "$.items[0].spec.template.spec.containers[{}].securityContext.privileged"
    assert got == [
        (20, path.format(0), "Deployment/prod/web", None, None),
        (22, path.format(1), "Deployment/prod/web", SuppressionSource.INLINE, "sidecar needs it for iptables"),
        (24, path.format(2), "Deployment/prod/web", SuppressionSource.INLINE, None),
    ]
    assert report.exit_code(Severity.HIGH) == 1
    assert report.exit_code(Severity.CRITICAL) == 0


def test_inline_suppressions_can_be_forbidden(tmp_path: Path) -> None:
    f = _write(tmp_path, MANIFEST)
    report = scan([f], ScanSettings(inline_suppressions=False), RuleRegistry([PRIV]))
    assert [x.suppressed for x in report.findings] == [None, None, None]


def test_config_exceptions_and_expiry(tmp_path: Path) -> None:
    f = _write(tmp_path, MANIFEST)
    cfg = parse_config(
        "exceptions:\n"
        "  - rule: test.privileged\n    name: web\n    container: app\n    reason: accepted\n    expires: 2030-01-01\n"
        "  - rule: test.privileged\n    kind: Deployment\n    reason: old\n    expires: 2020-01-01\n",
        "cfg.yaml")
    settings = ScanSettings(config=cfg, inline_suppressions=False)
    report = scan([f], settings, RuleRegistry([PRIV]), today=dt.date(2026, 11, 29))
    assert [x.suppressed.reason if x.suppressed else None for x in report.findings] == ["accepted", None, None]
    warnings = report.problems_of(ProblemKind.WARNING)
    assert len(warnings) == 1
    assert warnings[0].file == "cfg.yaml" and warnings[0].line == 7 and "expired on 2020-01-01" in warnings[0].message


def test_a_crashing_rule_is_an_error_naming_rule_and_resource(tmp_path: Path) -> None:
    f = _write(tmp_path, "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: n}\n")
    report = scan([f], ScanSettings(), RuleRegistry([CRASH, PRIV]))
    (problem,) = report.problems_of(ProblemKind.RULE)
    assert problem.rule_id == "test.crash" and "Service/n/s" in problem.message and "KeyError" in problem.message
    assert report.exit_code(Severity.INFO) == 3


def test_input_errors_exit_2_and_other_files_are_still_scanned(tmp_path: Path) -> None:
    bad = _write(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n", "bad.yaml")
    good = _write(tmp_path, MANIFEST, "good.yaml")
    report = scan([bad, good], ScanSettings(inline_suppressions=False), RuleRegistry([PRIV]))
    assert len(report.findings) == 3 and report.files_scanned == 2
    (err,) = report.problems_of(ProblemKind.INPUT)
    assert err.file == bad and err.line == 4
    assert report.exit_code(Severity.INFO) == 2


def test_selection_by_pss_level_and_config(tmp_path: Path) -> None:
    registry = RuleRegistry([PRIV, CRASH, HARDEN])
    assert [r.id for r in select_rules(registry, ScanSettings(pss=PSSLevel.BASELINE))] == ["test.privileged"]
    assert [r.id for r in select_rules(registry, ScanSettings(pss=PSSLevel.RESTRICTED))] == ["test.privileged"]
    cfg = parse_config("rules:\n  disable: [test.crash]\n", "c.yaml")
    assert [r.id for r in select_rules(registry, ScanSettings(config=cfg))] == ["test.privileged", "test.harden"]
    cfg = parse_config("rules:\n  enable_only: [test.harden]\n", "c.yaml")
    assert [r.id for r in select_rules(registry, ScanSettings(config=cfg))] == ["test.harden"]


def test_severity_override_from_config(tmp_path: Path) -> None:
    cfg = parse_config("rules:\n  severity:\n    test.privileged: critical\n", "c.yaml")
    f = _write(tmp_path, MANIFEST)
    report = scan([f], ScanSettings(config=cfg, inline_suppressions=False), RuleRegistry([PRIV]))
    assert {x.severity for x in report.findings} == {Severity.CRITICAL}


def test_objects_can_be_checked_without_files() -> None:
    """The path admission control will use: one object, no file, no positions."""
    scanner = Scanner([PRIV], ScanSettings())
    obj = K8sObject({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"containers": [{"name": "c", "securityContext": {"privileged": True}}]}}, "<request>")
    (finding,) = scanner.add_object(obj)
    assert finding.location.json_path == "$.spec.containers[0].securityContext.privileged"
    assert finding.location.line is None


def test_unknown_kinds_get_a_skip_note_not_an_error(tmp_path: Path) -> None:
    f = _write(tmp_path, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")
    report = scan([f], ScanSettings(), RuleRegistry([PRIV]))
    (note,) = report.problems_of(ProblemKind.SKIP)
    assert "Widget" in note.message
    assert report.exit_code(Severity.INFO) == 0


def test_unrendered_templates_warn_instead_of_failing(tmp_path: Path) -> None:
    f = _write(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n  x: {{- if .a }}\n")
    report = scan([f], ScanSettings(), RuleRegistry([PRIV]))
    (warning,) = report.problems_of(ProblemKind.WARNING)
    assert "unrendered template" in warning.message and warning.file == f
    assert report.exit_code(Severity.INFO) == 0
