"""JUnit XML: parses, counts right, one suite per file, survives hostile text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from cloudward.core.model import Problem, ProblemKind
from cloudward.report import ReportFormat, render
from cloudward.report.junit import xml_safe
from tests.report.reportkit import PRIVILEGED, RULES, WEB, finding, report, sample_report

COUNTS = ("tests", "failures", "errors", "skipped")


def _junit(rep: Any) -> ET.Element:
    text = render(rep, ReportFormat.JUNIT)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def _counts(el: ET.Element) -> dict[str, int]:
    return {key: int(el.attrib[key]) for key in COUNTS}


def test_totals_on_the_root() -> None:
    root = _junit(sample_report())
    assert root.tag == "testsuites"
    # 6 findings (4 active, 2 suppressed) + input and rule errors + 1 warning; the skip note is no test.
    assert _counts(root) == {"tests": 9, "failures": 4, "errors": 2, "skipped": 2}


def test_one_suite_per_file_in_file_order() -> None:
    suites = _junit(sample_report()).findall("testsuite")
    assert [(s.attrib["name"], _counts(s)) for s in suites] == [
        (".cloudward.yaml", {"tests": 1, "failures": 0, "errors": 0, "skipped": 0}),
        ("/abs/dir with space/pod.yaml", {"tests": 1, "failures": 1, "errors": 0, "skipped": 0}),
        ("<stdin>", {"tests": 1, "failures": 0, "errors": 0, "skipped": 1}),
        ("Dockerfile", {"tests": 1, "failures": 1, "errors": 0, "skipped": 0}),
        ("k8s/bad.yaml", {"tests": 1, "failures": 0, "errors": 1, "skipped": 0}),
        ("k8s/deploy.yaml", {"tests": 3, "failures": 1, "errors": 1, "skipped": 1}),
        ("k8s/rbac.yaml", {"tests": 1, "failures": 1, "errors": 0, "skipped": 0}),
    ]


def test_suite_counts_add_up_to_the_root_counts() -> None:
    root = _junit(sample_report())
    for key in COUNTS:
        assert sum(int(s.attrib[key]) for s in root.findall("testsuite")) == int(root.attrib[key])


def test_failure_names_rule_resource_path_and_severity() -> None:
    suite = next(s for s in _junit(sample_report()).findall("testsuite") if s.attrib["name"] == "k8s/deploy.yaml")
    case = suite.findall("testcase")[0]
    path = "$.spec.template.spec.containers[0].securityContext.privileged"
    assert case.attrib["classname"] == "pod.privileged"
    assert case.attrib["name"] == f"Deployment/prod/web {path}"
    assert case.attrib["file"] == "k8s/deploy.yaml"
    assert case.attrib["line"] == "12"
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib["message"] == 'container "app" sets securityContext.privileged: true'
    assert failure.attrib["type"] == "critical"
    assert failure.text is not None
    assert f"path: {path}" in failure.text
    assert "remediation: Remove securityContext.privileged" in failure.text


def test_suppressed_finding_is_skipped_with_its_reason() -> None:
    suite = next(s for s in _junit(sample_report()).findall("testsuite") if s.attrib["name"] == "k8s/deploy.yaml")
    skipped = suite.findall("testcase")[1].find("skipped")
    assert skipped is not None
    assert skipped.attrib["message"] == "suppressed: accepted: legacy image"


def test_problems_are_error_test_cases() -> None:
    suite = next(s for s in _junit(sample_report()).findall("testsuite") if s.attrib["name"] == "k8s/bad.yaml")
    case = suite.find("testcase")
    assert case is not None
    assert case.attrib["classname"] == "cloudward.input"
    error = case.find("error")
    assert error is not None
    assert error.attrib == {"message": "mapping values are not allowed here", "type": "input"}
    assert error.text == "k8s/bad.yaml:3:5: mapping values are not allowed here"


def test_warning_is_a_passing_test_case_with_output() -> None:
    suite = _junit(sample_report()).findall("testsuite")[0]
    case = suite.find("testcase")
    assert case is not None
    assert [child.tag for child in case] == ["system-out"]
    assert case[0].text == "warning: .cloudward.yaml:4: exception for pod.privileged expired on 2024-01-31"


def test_skip_notes_are_not_test_cases() -> None:
    rep = report(problems=(Problem(ProblemKind.SKIP, "no rules for kind ConfigMap", file="cm.yaml"),))
    root = _junit(rep)
    assert [s.attrib["name"] for s in root.findall("testsuite")] == ["cloudward"]
    assert root.find("testsuite/testcase/system-out") is not None  # the clean-scan test case


def test_problem_without_a_file_goes_to_the_run_suite() -> None:
    rep = report(problems=(Problem(ProblemKind.RULE, "rule crashed", rule_id="pod.privileged", resource=WEB),))
    suite = _junit(rep).find("testsuite")
    assert suite is not None
    assert suite.attrib["name"] == "cloudward"
    case = suite.find("testcase")
    assert case is not None
    assert (case.attrib["classname"], case.attrib["name"]) == ("pod.privileged", "Deployment/prod/web")
    assert "file" not in case.attrib


def test_clean_scan_is_one_passing_test() -> None:
    root = _junit(report(rules=RULES, files=3, resources=5))
    assert _counts(root) == {"tests": 1, "failures": 0, "errors": 0, "skipped": 0}
    out = root.find("testsuite/testcase/system-out")
    assert out is not None
    assert out.text == "no findings in 3 files / 5 resources, 4 rules evaluated"


@pytest.mark.parametrize("hostile", ["\x00", "\x1b[31m", "\x08\x0b\x0c", "\ufffe", "\udce9", "]]>", "&amp;<x/>"])
def test_hostile_text_still_gives_well_formed_xml(hostile: str) -> None:
    bad = finding(PRIVILEGED, f"dir/{hostile}.yaml", 1, message=f"value {hostile} here", resource=WEB,
                  evidence=hostile)
    root = _junit(report((bad,)))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.attrib["message"].startswith("value ")
    if hostile in ("]]>", "&amp;<x/>"):
        assert failure.attrib["message"] == f"value {hostile} here"


def test_xml_safe_escapes_only_what_xml_cannot_carry() -> None:
    assert xml_safe("a\x00b\x1bc") == "a\\x00b\\x1bc"
    assert xml_safe("tab\tnewline\ncr\r") == "tab\tnewline\ncr\r"
    assert xml_safe("\ufffe\udce9") == "\\ufffe\\udce9"
    assert xml_safe("café 😀") == "café 😀"


def test_newlines_in_a_message_survive_in_the_attribute() -> None:
    root = _junit(report((finding(PRIVILEGED, "a.yaml", 1, message="two\nlines"),)))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.attrib["message"] == "two\nlines"
