"""Vulnerability reports: the core report formats plus the vulnerability fields of each finding.

JSON and SARIF go through the core renderers: each finding carries its
``vulnerability_id``, ``aliases``, ``package``, ``fixed_versions``, ``cvss``…
as ``Finding.extra`` (the JSON report schema documents them). The table is
package-centric, as users of Grype and Trivy expect.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloudward.core.model import Problem
from cloudward.core.report import ScanReport
from cloudward.distribute.match.findings import to_finding
from cloudward.distribute.match.model import VulnerabilityMatch


def build_report(matches: Sequence[VulnerabilityMatch], artifact: str, problems: Sequence[Problem] = (),
                 packages: int = 0) -> ScanReport:
    """The core report: one finding per match, carrying its vulnerability fields for JSON."""
    findings = tuple(to_finding(m, artifact) for m in matches)
    return ScanReport(findings=findings, problems=tuple(problems), rules=(), files_scanned=1,
                      resources_scanned=packages)


def render_table(matches: Sequence[VulnerabilityMatch], problems: Sequence[Problem] = ()) -> str:
    rows = [("PACKAGE", "INSTALLED", "VULNERABILITY", "SEVERITY", "FIXED IN", "STATUS")]
    for m in sorted(matches, key=lambda m: (-m.severity.rank, m.package.name, m.vulnerability_id)):
        status = ("suppressed: " + m.suppressed.reason()) if m.suppressed else \
            (m.distro_status.value if m.distro_status else "")
        rows.append((m.package.name, m.package.version, m.vulnerability_id, m.severity.value,
                     ", ".join(m.fixed_versions) or "-", status))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5] for r in rows]
    active = [m for m in matches if m.suppressed is None]
    lines.append("")
    lines.append(f"{len(active)} vulnerabilities ({len(matches) - len(active)} suppressed) in "
                 f"{len({m.package.purl for m in active})} packages")
    for p in problems:
        lines.append(f"{p.kind.value}: {p.display()}")
    return "\n".join(line.rstrip() for line in lines) + "\n"
