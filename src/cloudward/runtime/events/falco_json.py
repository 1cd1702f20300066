"""Falco's JSON output lines (``json_output: true``), so Falco's syscall alerts join our alerting and reports."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from cloudward.core import jsonsafe
from cloudward.runtime.alerts.model import Alert, fingerprint_fields
from cloudward.runtime.events.audit_file import MAX_LINE, ProblemSink, open_log, read_lines
from cloudward.runtime.events.model import SourceProblem
from cloudward.runtime.rules.model import Priority


def read_falco_alerts(target: str, on_problem: ProblemSink, max_line: int = MAX_LINE) -> Iterator[Alert]:
    """Alerts from a file of Falco JSON lines, or ``-`` for standard input."""
    name = "<stdin>" if target == "-" else target
    fh = sys.stdin.buffer if target == "-" else open_log(Path(target))
    try:
        for n, raw in read_lines(fh, max_line):
            if raw is None:
                on_problem(SourceProblem(f"skipped: line longer than {max_line} bytes", name, n))
                continue
            if not raw.strip():
                continue
            alert, why = parse_falco_line(raw, name, n)
            if alert is None:
                on_problem(SourceProblem(f"skipped: {why}", name, n))
            else:
                yield alert
    finally:
        if target != "-":
            fh.close()


def parse_falco_line(raw: bytes, file: str, line: int) -> tuple[Alert | None, str]:
    try:
        d = jsonsafe.loads(raw)
    except ValueError:
        return None, "not JSON (is Falco's json_output enabled?)"
    if not isinstance(d, dict) or not isinstance(d.get("rule"), str) or "priority" not in d:
        return None, "not a Falco alert (needs 'rule' and 'priority')"
    try:
        prio = Priority.parse(str(d["priority"]))
    except ValueError as e:
        return None, str(e)
    fields = d.get("output_fields") if isinstance(d.get("output_fields"), dict) else {}
    assert isinstance(fields, dict)
    tags = tuple(str(t) for t in d.get("tags") or ())
    return Alert(rule=d["rule"], priority=prio, output=str(d.get("output", "")), time=str(d.get("time", "")),
                 tags=tags, source=str(d.get("source", "syscall")), event={"falco": d},
                 fingerprint=fingerprint_fields(d["rule"], fields), output_fields=fields, file=file,
                 line=line), ""
