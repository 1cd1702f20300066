"""The JSON report: content, order, and agreement with its own shipped JSON Schema."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

import cloudward
from cloudward.core.model import Problem, ProblemKind
from cloudward.report import ReportFormat, render
from cloudward.report.jsonreport import SCHEMA_VERSION, json_schema
from tests.report.reportkit import PRIVILEGED, RUN_AS_NON_ROOT, finding, report, sample_report


def _validator() -> jsonschema.protocols.Validator:
    schema = json_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _render(rep: Any) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(render(rep, ReportFormat.JSON))
    return out


def test_schema_is_draft_2020_12_and_pins_the_current_version() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION == "1.2"


def test_sample_report_validates_against_the_schema() -> None:
    _validator().validate(_render(sample_report()))


def test_empty_report_validates_against_the_schema() -> None:
    _validator().validate(_render(report()))


@pytest.mark.parametrize("kind", list(ProblemKind))
def test_every_problem_kind_validates(kind: ProblemKind) -> None:
    _validator().validate(_render(report(problems=(Problem(kind, "m"),))))


def test_header_names_tool_and_version() -> None:
    out = _render(sample_report())
    assert out["schema_version"] == "1.2"
    assert out["tool"] == {"name": "cloudward", "version": cloudward.__version__}


def test_summary_counts_unsuppressed_findings_by_severity() -> None:
    assert _render(sample_report())["summary"] == {
        "findings": 4,
        "by_severity": {"critical": 2, "high": 1, "medium": 0, "low": 1, "info": 0},
        "suppressed": 2,
        "errors": 2,
        "warnings": 1,
        "skipped": 1,
        "files_scanned": 7,
        "resources_scanned": 9,
        "rules_evaluated": 4,
    }


def test_findings_are_ordered_by_file_then_line_then_rule() -> None:
    order = [(f["file"], f["line"], f["rule_id"]) for f in _render(sample_report())["findings"]]
    assert order == [
        ("/abs/dir with space/pod.yaml", 5, "pod.privileged"),
        ("<stdin>", 3, "pod.run-as-non-root"),
        ("Dockerfile", 7, "dockerfile.user-root"),
        ("k8s/deploy.yaml", 12, "pod.privileged"),
        ("k8s/deploy.yaml", 30, "pod.run-as-non-root"),
        ("k8s/rbac.yaml", 4, "rbac.wildcard-verbs"),
    ]


def test_same_line_findings_are_ordered_by_rule_id_then_message() -> None:
    findings = (
        finding(RUN_AS_NON_ROOT, "x.yaml", 4, message="a"),
        finding(PRIVILEGED, "x.yaml", 4, message="b"),
        finding(PRIVILEGED, "x.yaml", 4, message="a"),
        finding(RUN_AS_NON_ROOT, "x.yaml", 2),
    )
    out = _render(report(findings))
    assert [(f["line"], f["rule_id"], f["message"]) for f in out["findings"]] == [
        (2, "pod.run-as-non-root", "bad"),
        (4, "pod.privileged", "a"),
        (4, "pod.privileged", "b"),
        (4, "pod.run-as-non-root", "a"),
    ]


def test_problems_are_ordered_by_file() -> None:
    files = [p["file"] for p in _render(sample_report())["problems"]]
    assert files == [".cloudward.yaml", "k8s/bad.yaml", "k8s/deploy.yaml", "logo.png"]


def test_suppressed_finding_carries_its_suppression() -> None:
    out = _render(sample_report())
    suppressed = [f for f in out["findings"] if f["suppressed"]]
    assert [f["suppression"] for f in suppressed] == [
        {"source": "config", "reason": None, "expires": None},
        {"source": "inline", "reason": "accepted: legacy image", "expires": "2030-01-31"},
    ]


def test_finding_fields_come_from_the_model() -> None:
    first = _render(sample_report())["findings"][3]
    assert first["json_path"] == "$.spec.template.spec.containers[0].securityContext.privileged"
    assert first["column"] == 9
    assert first["resource"] == {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "prod", "name": "web"}
    assert first["controls"]["pss"] == {"level": "baseline", "control": "Privileged Containers"}
    assert first["controls"]["mitre_attack"] == ["T1611"]


def test_output_is_ascii_even_for_undecodable_file_names() -> None:
    text = render(report((finding(PRIVILEGED, "caf\udce9.yaml", 1),)), ReportFormat.JSON)
    text.encode("ascii")
    assert json.loads(text)["findings"][0]["file"] == "caf\udce9.yaml"


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda d: d.update(extra=1), "unknown top-level key"),
        (lambda d: d["findings"][0].update(severity="severe"), "unknown severity"),
        (lambda d: d["findings"][1].update(suppression=None), "suppressed without a suppression"),
        (lambda d: d["findings"][0].update(line=0), "line numbers are 1-based"),
        (lambda d: d["summary"]["by_severity"].pop("info"), "every severity is counted"),
        (lambda d: d["findings"][4]["suppression"].update(expires="31/01/2030"), "expires is an ISO date"),
        (lambda d: d["problems"][0].update(kind="fatal"), "unknown problem kind"),
    ],
)
def test_schema_rejects_drift(mutate: Any, why: str) -> None:
    doc = copy.deepcopy(_render(sample_report()))
    mutate(doc)
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(doc)
