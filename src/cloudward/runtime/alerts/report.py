"""Reports of a detection run: JSON (``{"alerts": [...]}``), a table, SARIF, and the dry-run tuning report."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from cloudward.core.model import Controls, Finding, Location, ResourceRef, Violation
from cloudward.core.report import ScanReport
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.events.model import SourceProblem
from cloudward.runtime.rules.model import Priority
from cloudward.runtime.rules.ruleset import RuleSet


@dataclasses.dataclass(frozen=True, slots=True)
class DetectReport:
    """What one ``detect`` run found: alerts, skipped input, and what was evaluated."""

    alerts: tuple[Alert, ...]
    problems: tuple[SourceProblem, ...]
    ruleset: RuleSet | None
    events: int = 0

    def exit_code(self, fail_on: Priority) -> int:
        """1 when an alert is at or above ``fail_on``, else 0 (input/operational errors raise instead)."""
        return 1 if any(a.priority.rank >= fail_on.rank for a in self.alerts) else 0


def render_json(report: DetectReport) -> str:
    rs = report.ruleset
    doc = {
        "alerts": [a.to_dict() for a in report.alerts],
        "summary": {
            "events": report.events,
            "alerts": len(report.alerts),
            "by_priority": dict(Counter(a.priority.value for a in report.alerts)),
            "skipped": len(report.problems),
        },
        "rules": {"evaluated": len(rs.rules) if rs else 0, "kept_for_other_sources": rs.other_sources if rs else {},
                  "files": list(rs.definitions.files) if rs else []},
        "problems": [{"message": p.message, "file": p.file, "line": p.line} for p in report.problems],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_table(report: DetectReport) -> str:
    lines = []
    for a in report.alerts:
        count = f" x{a.count}" if a.count > 1 else ""
        lines.append(f"{a.time}  {a.priority.value.upper():<13} {a.rule}{count}\n    {a.output}")
    lines.append(f"{len(report.alerts)} alert(s) from {report.events} event(s)"
                 + (f"; {len(report.problems)} input line(s) skipped" if report.problems else ""))
    return "\n".join(lines) + "\n"


def _no_check(_subject: Any, _ctx: RuleContext) -> Iterable[Violation]:
    return ()


def to_scan_report(report: DetectReport) -> ScanReport:
    """Alerts as shared-model findings, so the SARIF (and any other) report format applies unchanged."""
    rules: dict[str, Rule] = {}
    for r in report.ruleset.rules if report.ruleset else ():
        d = r.definition
        rules[r.slug] = Rule(id=r.slug, title=d.name, severity=d.priority.severity, target=Target.K8S_OBJECT,
                             check=_no_check, description=d.desc or d.name,
                             remediation="Investigate the request in the audit event; if it is expected, add a Falco "
                             "'exceptions' entry for this rule in a later rules file.",
                             kinds=frozenset({"audit.k8s.io/Event"}), controls=Controls(attack=d.attack))
    findings = []
    for a in report.alerts:
        ref = a.event.get("objectRef") if isinstance(a.event.get("objectRef"), dict) else {}
        assert isinstance(ref, dict)
        resource = ResourceRef(kind=str(ref.get("resource") or "request"), name=str(ref.get("name") or ""),
                               namespace=ref.get("namespace"), api_version=ref.get("apiVersion"))
        findings.append(Finding(rule_id=a.rule_id or a.rule, severity=a.priority.severity, title=a.rule,
                                message=a.output + (f" (x{a.count})" if a.count > 1 else ""),
                                location=Location(a.file or "<webhook>", a.line), resource=resource,
                                controls=Controls(attack=a.attack), evidence=str(a.event.get("auditID") or "")))
    return ScanReport(findings=tuple(findings), problems=(), rules=tuple(rules.values()),
                      files_scanned=len({a.file for a in report.alerts if a.file}), resources_scanned=report.events)


def tuning_report(alerts: Sequence[Alert], ruleset: RuleSet | None, events: int) -> dict[str, Any]:
    """``--dry-run``: how often each rule would fire, and for whom, so noisy rules are tuned before enabling."""
    by_rule: dict[str, list[Alert]] = {}
    for a in alerts:
        by_rule.setdefault(a.rule, []).append(a)
    rows = []
    for r in ruleset.rules if ruleset else ():
        hits = by_rule.get(r.name, [])
        users = Counter(str((a.event.get("user") or {}).get("username", "<none>")) for a in hits)
        rows.append({"rule": r.name, "priority": r.priority.value, "matches": len(hits),
                     "share_of_events": round(len(hits) / events, 6) if events else 0.0,
                     "distinct_users": len(users), "top_users": dict(users.most_common(5)),
                     "first": min((a.time for a in hits), default=None),
                     "last": max((a.time for a in hits), default=None)})
    rows.sort(key=lambda row: (-len(by_rule.get(str(row["rule"]), [])), str(row["rule"])))
    return {"dry_run": True, "events": events, "alerts": len(alerts), "rules": rows}


def render_tuning(doc: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc, indent=2) + "\n"
    lines = [f"{'MATCHES':>8}  {'USERS':>5}  {'PRIORITY':<13} RULE"]
    for row in doc["rules"]:
        lines.append(f"{row['matches']:>8}  {row['distinct_users']:>5}  {row['priority']:<13} {row['rule']}")
    lines.append(f"dry run: {doc['alerts']} alert(s) would fire on {doc['events']} event(s); nothing was sent")
    return "\n".join(lines) + "\n"
