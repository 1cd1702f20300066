"""Report formats: one ``ScanReport`` in, the text of a table, JSON, SARIF or JUnit report out.

Rendering is pure — no terminal detection, no file writes — so the CLI decides
where the text goes and whether colour is wanted. The JSON report's schema is
package data: ``importlib.resources.files("cloudward.report") / "report.schema.json"``.
"""

from __future__ import annotations

import enum
from typing import assert_never

from cloudward.core.report import ScanReport
from cloudward.report.jsonreport import render_json, render_json_bytes
from cloudward.report.table import render_table

__all__ = ["ReportFormat", "render", "render_bytes"]


class ReportFormat(enum.StrEnum):
    """The formats ``--format`` accepts; the values are what users type."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"


def render(report: ScanReport, fmt: ReportFormat, *, color: bool = False) -> str:
    """Render ``report`` as ``fmt``; ``color`` adds ANSI colours to the table and nothing else.

    A plain string naming a format (``"sarif"``) is accepted too; an unknown one raises ``ValueError``.
    """
    fmt = ReportFormat(fmt)
    if fmt is ReportFormat.TABLE:
        return render_table(report, color=color)
    if fmt is ReportFormat.JSON:
        return render_json(report)
    if fmt is ReportFormat.SARIF:
        from cloudward.report.sarif import render_sarif  # imported when used: start-up counts for every scan

        return render_sarif(report)
    if fmt is ReportFormat.JUNIT:
        from cloudward.report.junit import render_junit

        return render_junit(report)
    assert_never(fmt)


def render_bytes(report: ScanReport, fmt: ReportFormat, *, color: bool = False) -> bytes:
    """``render`` as UTF-8 bytes, for writing: JSON skips a decode and re-encode of large reports."""
    if ReportFormat(fmt) is ReportFormat.JSON:
        return render_json_bytes(report)
    return render(report, fmt, color=color).encode("utf-8")
