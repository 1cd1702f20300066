"""Vulnerabilities of an image's packages: the SBOM from the same walk, matched against the local database.

A scan that could not check vulnerabilities must never read as "no
vulnerabilities": the caller passes either a ``VulnerabilityCheck`` (a database
to match against) or a ``VulnerabilitiesNotChecked`` (why not, and whether that
is an input error), and the report always carries the second as a problem.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from cloudward.core.model import Finding, Problem, ProblemKind
from cloudward.distribute.match import MatchOptions, VexIndex, VulnerabilityMatch, match, to_finding
from cloudward.distribute.packages import Package
from cloudward.distribute.vulndb import VulnDB


@dataclasses.dataclass(frozen=True, slots=True)
class VulnerabilityCheck:
    """Match the image's packages against ``db`` with these filters and VEX statements."""

    db: VulnDB
    options: MatchOptions = MatchOptions()
    vex: VexIndex | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class VulnerabilitiesNotChecked:
    """Vulnerabilities were deliberately or unavoidably not checked.

    ``error`` makes the report's problem an input error (exit 2): the default when
    no database exists, so a pipeline cannot pass an unchecked image by accident.
    """

    reason: str
    error: bool = True

    def problem(self, image: str) -> Problem:
        kind = ProblemKind.INPUT if self.error else ProblemKind.WARNING
        return Problem(kind, f"vulnerabilities were not checked: {self.reason}", file=image)


def match_packages(packages: Sequence[Package], check: VulnerabilityCheck, image: str
                   ) -> tuple[list[VulnerabilityMatch], list[Finding], list[Problem]]:
    """Matches, their findings (located at the image and the package's layer) and matcher warnings."""
    problems: list[Problem] = []
    matches = list(match(packages, check.db, check.options, check.vex,
                         warn=lambda m: problems.append(Problem(ProblemKind.WARNING, m, file=image))))
    return matches, [to_finding(m, image) for m in matches], problems
