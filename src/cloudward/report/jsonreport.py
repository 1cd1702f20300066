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

import orjson

import cloudward
from cloudward.core.report import ScanReport
from cloudward.report._common import sorted_findings, sorted_problems, summarize

#: Bumped by the rules in docs/report-formats.md; the schema's ``const`` follows it.
SCHEMA_VERSION = "1.2"

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
    """Indented JSON with a final newline (see ``render_json_bytes``)."""
    return render_json_bytes(report).decode("utf-8")


def render_json_bytes(report: ScanReport) -> bytes:
    """Indented UTF-8 JSON with a final newline, ready to write.

    Encoded by orjson (an order of magnitude faster than the standard library,
    whose ``indent=`` switches to a pure-Python encoder and made rendering the
    slowest step of a scan) and kept as bytes: a 15k-finding vulnerability report
    is ~20 MB, and decoding it to text only to encode it again cost more than
    encoding it. Text that is not valid UTF-8 — a file name kept as surrogate
    escapes by Python — falls back to the standard library with ASCII escapes, so
    such a report is still written.
    """
    data = report_dict(report)
    try:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError: surrogates in a string
        return (json.dumps(data, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the JSON report, read from package data."""
    text = resources.files("cloudward.report").joinpath(_SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
