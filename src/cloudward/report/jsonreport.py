"""The JSON report: cloudward's own, versioned, machine-readable result format.

Its shape is pinned by ``report.schema.json`` (shipped beside this module) and its
``schema_version``; docs/report-formats.md says what may change in which version.
The output is deterministic — the same scan gives the same bytes — so reports can
be diffed and cached.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import cloudward
from cloudward.core.report import ScanReport
from cloudward.report._common import sorted_findings, sorted_problems, summarize

#: Bumped by the rules in docs/report-formats.md; the schema's ``const`` follows it.
SCHEMA_VERSION = "1.1"

_SCHEMA_RESOURCE = "report.schema.json"


def report_dict(report: ScanReport) -> dict[str, Any]:
    """The report as plain JSON-ready data, in the order the schema documents."""
    summary = summarize(report)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "cloudward", "version": cloudward.__version__},
        "summary": {
            "findings": summary.findings,
            "by_severity": {sev.value: n for sev, n in summary.by_severity.items()},
            "suppressed": summary.suppressed,
            "errors": summary.errors,
            "warnings": summary.warnings,
            "skipped": summary.skipped,
            "files_scanned": summary.files_scanned,
            "resources_scanned": summary.resources_scanned,
            "rules_evaluated": summary.rules_evaluated,
        },
        "findings": [f.to_dict() for f in sorted_findings(report)],
        "problems": [p.to_dict() for p in sorted_problems(report)],
    }


def render_json(report: ScanReport) -> str:
    """Indented JSON with a final newline: one finding and one problem per line.

    The layout is built here rather than with ``indent=``, because ``indent``
    switches the standard library to its pure-Python encoder, which made
    rendering the slowest step of a scan; each item is encoded by the C encoder.
    ASCII-only on purpose: file names that are not valid UTF-8 (kept as surrogate
    escapes by Python) and any other odd character still produce a writable report.
    """
    data = report_dict(report)
    lines = ["{"]
    keys = list(data)
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        value = data[key]
        if isinstance(value, list) and value:
            lines.append(f"  {_dump(key)}: [")
            lines.extend(f"    {_dump(item)}," for item in value[:-1])
            lines.append(f"    {_dump(value[-1])}")
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {_dump(key)}: {_dump(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the JSON report, read from package data."""
    text = resources.files("cloudward.report").joinpath(_SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
