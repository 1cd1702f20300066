"""Vulnerability reports: the core report formats plus the vulnerability fields of each finding.

JSON findings are the core finding object with ``vulnerability_id``,
``aliases``, ``package``, ``fixed_versions``, ``cvss``, ``layer``… added; SARIF
goes through the core renderer (one rule per vulnerability id); the table is
package-centric, as users of Grype and Trivy expect.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cloudward.core.model import Finding, Problem
from cloudward.core.report import ScanReport
from cloudward.distribute.match.findings import to_finding
from cloudward.distribute.match.model import VulnerabilityMatch


def build_report(matches: Sequence[VulnerabilityMatch], artifact: str, problems: Sequence[Problem] = (),
                 packages: int = 0) -> tuple[ScanReport, dict[int, VulnerabilityMatch]]:
    """The core report and a map from each finding (by identity) back to its match."""
    findings: list[Finding] = []
    back: dict[int, VulnerabilityMatch] = {}
    for m in matches:
        f = to_finding(m, artifact)
        findings.append(f)
        back[id(f)] = m
    return ScanReport(findings=tuple(findings), problems=tuple(problems), rules=(), files_scanned=1,
                      resources_scanned=packages), back


def render_json(report: ScanReport, back: dict[int, VulnerabilityMatch]) -> str:
    from cloudward.report._common import sorted_findings
    from cloudward.report.jsonreport import report_dict

    data = report_dict(report)
    findings = [dict(f.to_dict(), **back[id(f)].to_dict()) for f in sorted_findings(report)]
    problems = data.pop("problems")
    del data["findings"]
    # one item per line with the C encoder: ``indent=`` switches json to its pure-Python encoder (10x slower)
    head = json.dumps(data, indent=2, ensure_ascii=True)[:-2]
    return "\n".join([head + ",", _array("findings", findings) + ",", _array("problems", problems), "}"]) + "\n"


def _array(key: str, items: list[dict[str, object]]) -> str:
    if not items:
        return f'  "{key}": []'
    body = ",\n".join("    " + json.dumps(i, ensure_ascii=True) for i in items)
    return f'  "{key}": [\n{body}\n  ]'


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
