"""JUnit XML, so CI test dashboards (GitLab, Jenkins, Azure DevOps) show findings.

Layout, chosen for how those dashboards group results:

* one ``<testsuite>`` per scanned file — GitLab lists suites, so a reader sees
  which file is failing;
* one ``<testcase>`` per finding, ``classname`` = rule id and ``name`` = resource
  plus JSON path — Jenkins groups by ``classname`` (``pod.privileged`` shows as
  package ``pod``, class ``privileged``), so the same report also reads by rule;
* unsuppressed findings carry ``<failure>``, suppressed ones ``<skipped>``; input
  errors and crashed rules are ``<error>`` test cases, warnings passing test cases
  with the warning as ``<system-out>``; skip notes (a document no rule applies to)
  are left out, as they are no test at all;
* a scan with nothing to report is one passing test case, because some
  dashboards treat a report without any test as a broken build.

We only know what failed, not every (rule, resource) pair that passed, so passing
test cases are not listed. The tree is built with ElementTree; characters that
XML 1.0 cannot carry are written as visible ``\\xNN`` escapes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from cloudward.core.model import Finding, Problem, ProblemKind
from cloudward.core.report import ScanReport
from cloudward.report._common import problem_level, sorted_findings, sorted_problems, summarize

#: Suite for problems that belong to no file, and for the clean-scan test case.
RUN_SUITE = "cloudward"

# Everything outside XML 1.0's Char production (surrogates included).
_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """Replace characters XML 1.0 forbids with a visible escape, keeping the rest."""

    def escape(m: re.Match[str]) -> str:
        code = ord(m.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _INVALID_XML.sub(escape, text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_safe(text)
    return el


def _finding_name(finding: Finding) -> str:
    parts = [finding.resource.display()] if finding.resource else []
    if finding.location.json_path is not None:
        parts.append(finding.location.json_path)
    elif finding.location.line is not None:
        parts.append(f"line {finding.location.line}")
    return " ".join(parts) or finding.location.file


def _finding_details(finding: Finding) -> str:
    lines = [
        f"{finding.title}",
        f"rule: {finding.rule_id}",
        f"severity: {finding.severity.value}",
        f"location: {finding.location.display()}",
    ]
    if finding.resource is not None:
        lines.append(f"resource: {finding.resource.display()}")
    if finding.location.json_path is not None:
        lines.append(f"path: {finding.location.json_path}")
    if finding.evidence:
        lines.append(f"evidence: {finding.evidence}")
    if finding.remediation:
        lines.append(f"remediation: {finding.remediation}")
    return "\n".join(lines)


def _add_finding(suite: ET.Element, finding: Finding) -> None:
    case = _sub(suite, "testcase", classname=finding.rule_id, name=_finding_name(finding), file=finding.location.file)
    if finding.location.line is not None:
        case.set("line", str(finding.location.line))
    if finding.suppressed is not None:
        reason = finding.suppressed.reason or "no reason given"
        _sub(case, "skipped", message=f"suppressed: {reason}")
    else:
        _sub(case, "failure", _finding_details(finding), message=finding.message, type=finding.severity.value)


def _add_problem(suite: ET.Element, problem: Problem) -> None:
    classname = problem.rule_id or f"cloudward.{problem.kind.value}"
    name = problem.resource.display() if problem.resource else (problem.file or "scan")
    case = _sub(suite, "testcase", classname=classname, name=name)
    if problem.file is not None:
        case.set("file", xml_safe(problem.file))
    if problem.line is not None:
        case.set("line", str(problem.line))
    level = problem_level(problem.kind)
    if level == "error":
        _sub(case, "error", problem.display(), message=problem.message, type=problem.kind.value)
    else:
        _sub(case, "system-out", f"{level}: {problem.display()}")


def _count(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }


def junit_tree(report: ScanReport) -> ET.Element:
    """The ``<testsuites>`` element; ``render_junit`` serialises it."""
    by_file: dict[str, list[Finding | Problem]] = defaultdict(list)
    for finding in sorted_findings(report):
        by_file[finding.location.file].append(finding)
    for problem in sorted_problems(report):
        if problem.kind is ProblemKind.SKIP:
            continue
        by_file[problem.file if problem.file is not None else RUN_SUITE].append(problem)

    root = ET.Element("testsuites", {"name": "cloudward"})
    if not by_file:
        summary = summarize(report)
        suite = _sub(root, "testsuite", name=RUN_SUITE)
        case = _sub(suite, "testcase", classname="cloudward", name="scan")
        _sub(case, "system-out", f"no findings in {summary.files_scanned} files / {summary.resources_scanned} "
                                 f"resources, {summary.rules_evaluated} rules evaluated")
    for file in sorted(by_file):
        suite = _sub(root, "testsuite", name=file)
        for item in by_file[file]:
            if isinstance(item, Finding):
                _add_finding(suite, item)
            else:
                _add_problem(suite, item)

    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root.findall("testsuite"):
        counts = _count(suite)
        # ElementTree keeps attribute insertion order: name first, counts after.
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    return root


def render_junit(report: ScanReport) -> str:
    root = junit_tree(report)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
