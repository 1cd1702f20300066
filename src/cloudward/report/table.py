"""The human report: findings grouped by file, problems after them, one summary line.

Everything printed comes from scanned files, which an attacker may control, so
terminal control characters and bidirectional-override characters are shown
escaped: a manifest must not be able to recolour, rewrite or hide report lines.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from cloudward.core.model import Finding, Problem, ProblemKind
from cloudward.core.report import ScanReport
from cloudward.core.severity import Severity
from cloudward.report._common import Summary, problem_level, sorted_findings, sorted_problems, summarize

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_SEVERITY_COLOR = {
    Severity.CRITICAL: "\x1b[1;31m",  # bold red
    Severity.HIGH: "\x1b[31m",  # red
    Severity.MEDIUM: "\x1b[33m",  # yellow
    Severity.LOW: "\x1b[34m",  # blue
    Severity.INFO: "\x1b[36m",  # cyan
}
_ERROR_COLOR = "\x1b[31m"
_WARNING_COLOR = "\x1b[33m"

# C0 and C1 controls, DEL, the Unicode bidi marks/embeddings/overrides/isolates, and lone
# surrogates (undecodable bytes in file names), which no output encoding can write.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def terminal_safe(text: str) -> str:
    """One line of plain text: control and bidi characters replaced by visible escapes."""

    def escape(m: re.Match[str]) -> str:
        ch = m.group()
        if ch in _NAMED:
            return _NAMED[ch]
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(escape, text)


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _suppression_note(finding: Finding) -> str:
    sup = finding.suppressed
    if sup is None:
        return ""
    details = [sup.reason] if sup.reason else []
    if sup.expires is not None:
        details.append(f"expires {sup.expires.isoformat()}")
    return f" (suppressed: {', '.join(details)})" if details else " (suppressed)"


def _rows(findings: Sequence[Finding]) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            str(f.location.line) if f.location.line is not None else "-",
            f.severity.value.upper(),
            terminal_safe(f.rule_id),
            _resource_cell(f),
            terminal_safe(f.message + _suppression_note(f)),
        )
        for f in findings
    ]


def _resource_cell(f: Finding) -> str:
    """The resource, without repeating the file heading when the resource is the file itself."""
    if f.resource is None:
        return "-"
    if f.resource.name == f.location.file:
        return terminal_safe(f.resource.kind)
    return terminal_safe(f.resource.display())


def _file_block(file: str, findings: Sequence[Finding], widths: Sequence[int], color: bool) -> list[str]:
    rows = _rows(findings)
    out = [_paint(terminal_safe(file), _BOLD, color)]
    for finding, (line, sev, rule, resource, message) in zip(findings, rows, strict=True):
        sev_cell = sev.ljust(widths[1])
        if finding.suppressed is None:
            sev_cell = _paint(sev_cell, _SEVERITY_COLOR[finding.severity], color)
        text = f"  {line.rjust(widths[0])}  {sev_cell}  {rule.ljust(widths[2])}  {resource.ljust(widths[3])}  {message}"
        out.append(_paint(text, _DIM, color) if finding.suppressed is not None else text)
    return out


_PROBLEM_LABEL = {"error": ("error", _ERROR_COLOR), "warning": ("warn", _WARNING_COLOR), "note": ("note", _DIM)}


def _problem_line(problem: Problem, color: bool) -> str:
    label, code = _PROBLEM_LABEL[problem_level(problem.kind)]
    label_cell = _paint(label.ljust(5), code, color)
    tags = [f"{problem.kind.value} {problem.rule_id}" if problem.rule_id is not None else problem.kind.value]
    if problem.resource is not None:
        tags.append(problem.resource.display())
    return f"  {label_cell}  {terminal_safe(problem.display())} [{terminal_safe(', '.join(tags))}]"


def summary_line(summary: Summary) -> str:
    """``N findings (C critical, H high, …), S suppressed, in F files / R resources``."""
    counts = ", ".join(f"{n} {sev.value}" for sev, n in summary.by_severity.items())
    return (
        f"{_plural(summary.findings, 'finding')} ({counts}), {summary.suppressed} suppressed, "
        f"in {_plural(summary.files_scanned, 'file')} / {_plural(summary.resources_scanned, 'resource')}"
    )


def render_table(report: ScanReport, *, color: bool = False) -> str:
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in sorted_findings(report):
        by_file[finding.location.file].append(finding)
    # Columns line up across the whole report, not only within one file.
    all_rows = _rows(report.findings)
    widths = [max((len(row[i]) for row in all_rows), default=0) for i in range(4)]
    blocks = [_file_block(file, by_file[file], widths, color) for file in sorted(by_file)]

    # Skip notes (documents no rule applies to) are debug detail: counted in the summary only.
    problems = [p for p in sorted_problems(report) if p.kind is not ProblemKind.SKIP]
    if problems:
        blocks.append([_paint("Problems", _BOLD, color)] + [_problem_line(p, color) for p in problems])

    summary = summarize(report)
    tail = [_paint(summary_line(summary), _BOLD, color)]
    notes = []
    if summary.errors:
        notes.append(_plural(summary.errors, "error") + " (results are incomplete)")
    if summary.warnings:
        notes.append(_plural(summary.warnings, "warning"))
    if summary.skipped:
        notes.append(f"{summary.skipped} skipped")
    if notes:
        tail.append(", ".join(notes))
    blocks.append(tail)
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
