"""What every report format shares: one ordering, one summary, one notion of "error".

Keeping these in one place is what makes the formats agree with each other: the
table, the JSON and the SARIF of one run list the same findings in the same order
and count them the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, assert_never

from cloudward.core.model import Finding, Problem, ProblemKind
from cloudward.core.report import ScanReport
from cloudward.core.severity import Severity

#: Most severe first: the order summaries and tables present severities in.
SEVERITIES_DESCENDING: tuple[Severity, ...] = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))

#: Problems that mean the scan is incomplete or wrong (warnings and skips are not).
ERROR_KINDS: frozenset[ProblemKind] = frozenset({ProblemKind.INPUT, ProblemKind.RULE})

ProblemLevel = Literal["error", "warning", "note"]


def problem_level(kind: ProblemKind) -> ProblemLevel:
    """How loudly each format shows a problem; the names are SARIF's notification levels."""
    if kind is ProblemKind.INPUT or kind is ProblemKind.RULE:
        return "error"
    if kind is ProblemKind.WARNING:
        return "warning"
    if kind is ProblemKind.SKIP:
        return "note"
    assert_never(kind)


def finding_sort_key(finding: Finding) -> tuple[str, int, str, int, str, str, str]:
    """(file, line, rule id, column, resource, JSON path, message): total and stable.

    Findings without a line (file-level ones) sort first in their file; the last
    fields only break ties so that two runs over the same input print identical bytes.
    """
    loc = finding.location
    resource = finding.resource.display() if finding.resource else ""
    return (loc.file, loc.line or 0, finding.rule_id, loc.column or 0, resource, loc.json_path or "",
            finding.message)


def problem_sort_key(problem: Problem) -> tuple[str, int, int, str, str, str]:
    """(file, line, column, rule id, kind, message); problems without a file sort first."""
    return (problem.file or "", problem.line or 0, problem.column or 0, problem.rule_id or "",
            problem.kind.value, problem.message)


def sorted_findings(report: ScanReport) -> list[Finding]:
    return sorted(report.findings, key=finding_sort_key)


def sorted_problems(report: ScanReport) -> list[Problem]:
    return sorted(report.problems, key=problem_sort_key)


@dataclasses.dataclass(frozen=True, slots=True)
class Summary:
    """Counts a reader wants before the details; suppressed findings are counted apart."""

    by_severity: dict[Severity, int]
    suppressed: int
    errors: int
    warnings: int
    skipped: int
    files_scanned: int
    resources_scanned: int
    rules_evaluated: int

    @property
    def findings(self) -> int:
        return sum(self.by_severity.values())


def summarize(report: ScanReport) -> Summary:
    by_severity = dict.fromkeys(SEVERITIES_DESCENDING, 0)
    suppressed = 0
    for finding in report.findings:
        if finding.suppressed is None:
            by_severity[finding.severity] += 1
        else:
            suppressed += 1
    return Summary(
        by_severity=by_severity,
        suppressed=suppressed,
        errors=sum(1 for p in report.problems if p.kind in ERROR_KINDS),
        warnings=sum(1 for p in report.problems if p.kind is ProblemKind.WARNING),
        skipped=sum(1 for p in report.problems if p.kind is ProblemKind.SKIP),
        files_scanned=report.files_scanned,
        resources_scanned=report.resources_scanned,
        rules_evaluated=len({r.id for r in report.rules}),
    )
