"""The result of a run, as every report format receives it."""

from __future__ import annotations

import dataclasses

from cloudward.core.model import Finding, Problem, ProblemKind
from cloudward.core.rules import Rule
from cloudward.core.severity import Severity


@dataclasses.dataclass(frozen=True, slots=True)
class ScanReport:
    """Findings (suppressed ones included), problems, and what was looked at.

    ``rules`` are the rules that were evaluated, so formats such as SARIF can
    describe every rule, not only those that fired.
    """

    findings: tuple[Finding, ...]
    problems: tuple[Problem, ...]
    rules: tuple[Rule, ...]
    files_scanned: int = 0
    resources_scanned: int = 0

    @property
    def active_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.suppressed is None)

    def problems_of(self, kind: ProblemKind) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.kind is kind)

    def exit_code(self, fail_on: Severity) -> int:
        """3 if a rule crashed, 2 on input errors, 1 on unsuppressed findings >= fail_on, else 0."""
        if self.problems_of(ProblemKind.RULE):
            return 3
        if self.problems_of(ProblemKind.INPUT):
            return 2
        if any(f.severity >= fail_on for f in self.active_findings):
            return 1
        return 0
