"""Reports of a detection run: JSON (``{"alerts": [...]}``), a table, SARIF, and the dry-run tuning report."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from cloudward.core.model import Controls, Finding, Location, ResourceRef, Suppression, SuppressionSource, Violation
from cloudward.core.report import ScanReport
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.events.model import SourceProblem
from cloudward.runtime.policy import Threshold
from cloudward.runtime.rules.model import Priority
from cloudward.runtime.rules.ruleset import RuleSet


@dataclasses.dataclass(frozen=True, slots=True)
class DetectReport:
    """What one ``detect`` run found: alerts, skipped input, and what was evaluated."""

    alerts: tuple[Alert, ...]
    problems: tuple[SourceProblem, ...]
    ruleset: RuleSet | None
    events: int = 0
    thresholds: tuple[Threshold, ...] = ()

    def exit_code(self, fail_on: Priority) -> int:
        """1 when an unsuppressed alert is at or above ``fail_on``, else 0 (input/operational errors raise instead)."""
        return 1 if any(a.priority.rank >= fail_on.rank for a in self.alerts if a.suppressed is None) else 0

    @property
    def active(self) -> tuple[Alert, ...]:
        """The alerts no exception accepted: what sinks receive and the table lists."""
        return tuple(a for a in self.alerts if a.suppressed is None)


def render_json(report: DetectReport) -> str:
    rs = report.ruleset
    active = report.active
    doc = {
        "alerts": [a.to_dict() for a in report.alerts],
        "summary": {
            "events": report.events,
            "alerts": len(active),
            "suppressed": len(report.alerts) - len(active),
            "by_priority": dict(Counter(a.priority.value for a in active)),
            "skipped": len(report.problems),
        },
        "rules": {"evaluated": len(rs.rules) if rs else 0, "kept_for_other_sources": rs.other_sources if rs else {},
                  "files": list(rs.definitions.files) if rs else [],
                  "thresholds": [{"name": t.name, "rule": t.rule, "rules": list(t.rules), "count": t.count,
                                  "window": t.window, "by": list(t.by), "distinct": t.distinct}
                                 for t in report.thresholds]},
        "problems": [{"message": p.message, "file": p.file, "line": p.line} for p in report.problems],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_table(report: DetectReport) -> str:
    lines = []
    active = report.active
    for a in active:
        count = f" x{a.count}" if a.count > 1 else ""
        lines.append(f"{a.time}  {a.priority.value.upper():<13} {a.rule}{count}\n    {a.output}")
    suppressed = len(report.alerts) - len(active)
    lines.append(f"{len(active)} alert(s) from {report.events} event(s)"
                 + (f"; {suppressed} suppressed by exceptions (see --format json)" if suppressed else "")
                 + (f"; {len(report.problems)} warning(s)" if report.problems else ""))
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
    for t in report.thresholds:
        tags = t.tags or (report.ruleset.by_name(t.rules[0]).definition.tags if report.ruleset else ())
        counted = f"alerts with {t.count} or more distinct {t.distinct} values" if t.distinct else \
            f"{t.count} or more alerts"
        rules[t.slug] = Rule(id=t.slug, title=t.name, severity=t.priority.severity, target=Target.K8S_OBJECT,
                             check=_no_check, description=f"'{t.rule}' {counted} for one "
                             f"{'+'.join(t.by)} within {t.window:g}s",
                             remediation="Find out whose credential this is and what it was probing; if expected, "
                             "add a detect.exceptions entry in .cloudward.yaml.",
                             kinds=frozenset({"audit.k8s.io/Event"}),
                             controls=Controls(attack=tuple(x for x in tags if x[:1] == "T" and x[1:5].isdigit())))
    findings = []
    for a in report.alerts:
        ref = a.event.get("objectRef") if isinstance(a.event.get("objectRef"), dict) else {}
        assert isinstance(ref, dict)
        resource = ResourceRef(kind=str(ref.get("resource") or "request"), name=str(ref.get("name") or ""),
                               namespace=ref.get("namespace"), api_version=ref.get("apiVersion"))
        findings.append(Finding(rule_id=a.rule_id or a.rule, severity=a.priority.severity, title=a.rule,
                                message=a.output + (f" (x{a.count})" if a.count > 1 else ""),
                                location=Location(a.file or "<webhook>", a.line), resource=resource,
                                controls=Controls(attack=a.attack), evidence=str(a.event.get("auditID") or ""),
                                suppressed=_suppression(a)))
    return ScanReport(findings=tuple(findings), problems=(), rules=tuple(rules.values()),
                      files_scanned=len({a.file for a in report.alerts if a.file}), resources_scanned=report.events)


def _suppression(a: Alert) -> Suppression | None:
    s = a.suppressed
    return None if s is None else Suppression(SuppressionSource.CONFIG, f"{s.reason} ({s.origin})", s.expires)


def tuning_report(alerts: Sequence[Alert], ruleset: RuleSet | None, events: int,
                  thresholds: Sequence[Threshold] = ()) -> dict[str, Any]:
    """``--dry-run``: how often each rule would fire, and for whom, so noisy rules are tuned before enabling."""
    by_rule: dict[str, list[Alert]] = {}
    for a in alerts:
        by_rule.setdefault(a.rule, []).append(a)
    rows = []
    named = [(r.name, r.priority) for r in ruleset.rules] if ruleset else []
    named += [(t.name, t.priority) for t in thresholds]
    for name, priority in named:
        hits = by_rule.get(name, [])
        users = Counter(str((a.event.get("user") or {}).get("username", "<none>")) for a in hits)
        rows.append({"rule": name, "priority": priority.value, "matches": len(hits),
                     "suppressed": sum(1 for a in hits if a.suppressed is not None),
                     "share_of_events": round(len(hits) / events, 6) if events else 0.0,
                     "distinct_users": len(users), "top_users": dict(users.most_common(5)),
                     "first": min((a.time for a in hits), default=None),
                     "last": max((a.time for a in hits), default=None)})
    rows.sort(key=lambda row: (-len(by_rule.get(str(row["rule"]), [])), str(row["rule"])))
    return {"dry_run": True, "events": events, "alerts": len(alerts), "rules": rows}


def render_tuning(doc: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc, indent=2) + "\n"
    lines = [f"{'MATCHES':>8}  {'SUPPR':>5}  {'USERS':>5}  {'PRIORITY':<13} RULE"]
    for row in doc["rules"]:
        lines.append(f"{row['matches']:>8}  {row['suppressed']:>5}  {row['distinct_users']:>5}  {row['priority']:<13} "
                     f"{row['rule']}")
    lines.append(f"dry run: {doc['alerts']} alert(s) would fire on {doc['events']} event(s); nothing was sent")
    return "\n".join(lines) + "\n"
