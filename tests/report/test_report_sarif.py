"""SARIF output: valid against the official 2.1.0 schema, and shaped for GitHub code scanning."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cloudward.core.model import Problem, ProblemKind
from cloudward.report import ReportFormat, render
from cloudward.report.sarif import artifact_location, rule_name
from tests.report.reportkit import (
    PRIVILEGED,
    RULES,
    RUN_AS_NON_ROOT,
    SAMPLE_PROBLEMS,
    WEB,
    finding,
    report,
    sample_report,
)

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = REPO / ".." / "shared" / "schemas" / "sarif" / "sarif-schema-2.1.0.json"


def _sarif(rep: Any) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(render(rep, ReportFormat.SARIF))
    return out


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"official SARIF schema not found at {SARIF_SCHEMA}: the shared/ directory beside the repo "
                    "is absent")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)  # draft-04
    cls.check_schema(schema)
    # The draft-04 checker knows no "uri-reference", which artifactLocation.uri uses: check every known format.
    checker = jsonschema.FormatChecker()
    assert {"uri", "uri-reference", "date-time"} <= set(checker.checkers), "install jsonschema[format-nongpl]"
    return cls(schema, format_checker=checker)


def test_sample_report_is_valid_sarif(validator: jsonschema.protocols.Validator) -> None:
    validator.validate(_sarif(sample_report()))


def test_empty_report_is_valid_sarif(validator: jsonschema.protocols.Validator) -> None:
    validator.validate(_sarif(report(rules=())))


def test_format_checking_is_live(validator: jsonschema.protocols.Validator) -> None:
    doc = _sarif(sample_report())
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "a b.yaml"
    with pytest.raises(jsonschema.ValidationError, match="uri-reference"):
        validator.validate(doc)


def test_log_header_and_driver() -> None:
    doc = _sarif(sample_report())
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-schema-2.1.0.json")
    assert len(doc["runs"]) == 1
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "cloudward"
    assert driver["informationUri"].startswith("https://")


def test_every_evaluated_rule_is_described_in_id_order() -> None:
    rules = _sarif(sample_report())["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        "dockerfile.user-root", "pod.privileged", "pod.run-as-non-root", "rbac.wildcard-verbs"]
    assert [r["name"] for r in rules] == ["DockerfileUserRoot", "PodPrivileged", "PodRunAsNonRoot", "RbacWildcardVerbs"]
    assert [r["defaultConfiguration"]["level"] for r in rules] == ["error", "error", "warning", "note"]
    assert [r["properties"]["security-severity"] for r in rules] == ["8.0", "9.5", "5.5", "3.0"]


def test_rule_descriptor_carries_descriptions_help_and_controls() -> None:
    rules = {r["id"]: r for r in _sarif(sample_report())["runs"][0]["tool"]["driver"]["rules"]}
    priv = rules["pod.privileged"]
    assert priv["shortDescription"] == {"text": "Privileged container"}
    assert priv["fullDescription"] == {"text": PRIVILEGED.description}
    assert priv["helpUri"] == PRIVILEGED.references[0]
    assert "Remove securityContext.privileged" in priv["help"]["text"]
    assert "**Remediation:** Remove securityContext.privileged" in priv["help"]["markdown"]
    assert "https://attack.mitre.org/techniques/T1611/" in priv["help"]["markdown"]
    assert PRIVILEGED.references[0] in priv["help"]["text"]
    tags = priv["properties"]["tags"]
    assert tags[0] == "security"
    assert {"kubernetes", "PSS:baseline", "CIS-5.2.2", "ATTACK-T1611", "NIST-800-190-4.4.3"} <= set(tags)
    assert rules["dockerfile.user-root"]["helpUri"] == "https://docs.docker.com/reference/dockerfile/#user"
    assert "dockerfile" in rules["dockerfile.user-root"]["properties"]["tags"]
    assert "helpUri" not in rules["pod.run-as-non-root"]


def test_rule_name_is_camel_case_of_the_id() -> None:
    assert rule_name("image.latest-tag") == "ImageLatestTag"
    assert rule_name("pod.host-pid") == "PodHostPid"


def test_results_point_at_their_rule_by_index() -> None:
    run = _sarif(sample_report())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == 6
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_result_for_a_finding_in_a_relative_file() -> None:
    result = _sarif(sample_report())["runs"][0]["results"][3]
    assert result["ruleId"] == "pod.privileged"
    assert result["level"] == "error"
    assert result["message"] == {"text": 'container "app" sets securityContext.privileged: true'}
    location = result["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "k8s/deploy.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 9},
    }
    path = "$.spec.template.spec.containers[0].securityContext.privileged"
    assert location["logicalLocations"] == [
        {"name": "web", "fullyQualifiedName": "Deployment/prod/web", "kind": "resource"},
        {"name": path, "fullyQualifiedName": f"Deployment/prod/web:{path}", "kind": "property"},
    ]
    assert "suppressions" not in result


def test_suppressions_say_where_the_suppression_lives() -> None:
    results = _sarif(sample_report())["runs"][0]["results"]
    by_file = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in results}
    assert by_file["%3Cstdin%3E"]["suppressions"] == [{"kind": "external", "status": "accepted"}]
    inline = [r for r in results if r["ruleId"] == "pod.run-as-non-root" and r is not by_file["%3Cstdin%3E"]]
    assert inline[0]["suppressions"] == [{"kind": "inSource", "status": "accepted",
                                          "justification": "accepted: legacy image",
                                          "properties": {"expires": "2030-01-31"}}]


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("k8s/deploy.yaml", {"uri": "k8s/deploy.yaml", "uriBaseId": "%SRCROOT%"}),
        ("./k8s//deploy.yaml", {"uri": "k8s/deploy.yaml", "uriBaseId": "%SRCROOT%"}),
        ("my dir/a#b?.yaml", {"uri": "my%20dir/a%23b%3F.yaml", "uriBaseId": "%SRCROOT%"}),
        ("a:b.yaml", {"uri": "a%3Ab.yaml", "uriBaseId": "%SRCROOT%"}),
        ("caf\udce9.yaml", {"uri": "caf%E9.yaml", "uriBaseId": "%SRCROOT%"}),
        ("café.yaml", {"uri": "caf%C3%A9.yaml", "uriBaseId": "%SRCROOT%"}),
        ("/abs/dir with space/pod.yaml", {"uri": "file:///abs/dir%20with%20space/pod.yaml"}),
        ("C:\\scan\\a b.yaml", {"uri": "file:///C:/scan/a%20b.yaml"}),
        ("<stdin>", {"uri": "%3Cstdin%3E"}),
        ("-", {"uri": "%3Cstdin%3E"}),
    ],
)
def test_artifact_location_is_a_valid_uri_reference(file: str, expected: dict[str, str]) -> None:
    loc = artifact_location(file)
    assert loc == expected
    assert jsonschema.FormatChecker().conforms(loc["uri"], "uri-reference")


def _fingerprint(rep: Any) -> str:
    fp: dict[str, str] = _sarif(rep)["runs"][0]["results"][0]["partialFingerprints"]
    assert list(fp) == ["cloudward/v1"]
    return fp["cloudward/v1"]


def test_fingerprint_survives_line_moves_but_not_a_different_field() -> None:
    path = ("spec", "containers", 0, "securityContext", "privileged")
    base = _fingerprint(report((finding(PRIVILEGED, "p.yaml", 10, path=path, resource=WEB),)))
    moved = _fingerprint(report((finding(PRIVILEGED, "p.yaml", 42, column=3, path=path, resource=WEB),)))
    other_field = _fingerprint(report((finding(PRIVILEGED, "p.yaml", 10, path=(*path[:-1], "x"), resource=WEB),)))
    other_rule = _fingerprint(report((finding(RUN_AS_NON_ROOT, "p.yaml", 10, path=path, resource=WEB),)))
    other_resource = _fingerprint(report((finding(PRIVILEGED, "p.yaml", 10, path=path,
                                                  resource=dataclasses.replace(WEB, name="api")),)))
    assert base == moved
    assert len({base, other_field, other_rule, other_resource}) == 4


def test_file_level_finding_points_at_line_one() -> None:
    result = _sarif(report((finding(PRIVILEGED, "p.yaml", None, column=4),)))["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert "logicalLocations" not in result["locations"][0]


def test_rule_problem_marks_the_invocation_unsuccessful() -> None:
    invocation = _sarif(sample_report())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert [(n["level"], n["properties"]["kind"]) for n in notes] == [
        ("warning", "warning"), ("error", "input"), ("error", "rule"), ("note", "skip")]
    assert notes[1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 5}
    assert notes[2]["associatedRule"] == {"id": "pod.privileged", "index": 1}
    assert notes[2]["message"]["text"] == SAMPLE_PROBLEMS[1].message


def test_input_problems_alone_leave_the_invocation_successful() -> None:
    rep = report(problems=(Problem(ProblemKind.INPUT, "bad yaml", file="x.yaml"),))
    invocation = _sarif(rep)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    assert len(invocation["toolExecutionNotifications"]) == 1


def test_clean_run_has_no_results_and_no_notifications() -> None:
    run = _sarif(report(rules=RULES))["runs"][0]
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert len(run["tool"]["driver"]["rules"]) == 4


def test_finding_of_an_unlisted_rule_still_gets_a_descriptor(validator: jsonschema.protocols.Validator) -> None:
    doc = _sarif(report((finding(PRIVILEGED, "p.yaml", 2),), rules=()))
    validator.validate(doc)
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["pod.privileged"]
    assert run["results"][0]["ruleIndex"] == 0


def test_help_uri_is_the_first_reference_that_is_a_url(validator: jsonschema.protocols.Validator) -> None:
    prose = "CIS Docker Benchmark v1.6.0 4.9: Ensure that COPY is used instead of ADD"
    mixed = dataclasses.replace(PRIVILEGED, references=(prose, "https://example.org/add"))
    only_prose = dataclasses.replace(RUN_AS_NON_ROOT, references=(prose,))
    doc = _sarif(report(rules=(mixed, only_prose)))
    validator.validate(doc)
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["pod.privileged"]["helpUri"] == "https://example.org/add"
    assert f"- {prose}\n- <https://example.org/add>" in rules["pod.privileged"]["help"]["markdown"]
    assert "helpUri" not in rules["pod.run-as-non-root"]
    assert prose in rules["pod.run-as-non-root"]["help"]["text"]


def test_every_suppression_source_and_image_layers_render_valid_sarif(
        validator: jsonschema.protocols.Validator) -> None:
    """A VEX-suppressed vulnerability in an image layer: suppression kind external, layer kept."""
    from cloudward.core.model import Location, Suppression, SuppressionSource

    base = sample_report()
    rule = base.rules[0]
    layer = "sha256:" + "ab" * 32
    extra = []
    for source in SuppressionSource:
        f = finding(rule, "registry.example.com/app:1.0", None, suppressed=Suppression(source, f"{source.value} why"))
        extra.append(dataclasses.replace(f, location=Location(f.location.file, layer=layer)))
    doc = _sarif(dataclasses.replace(base, findings=base.findings + tuple(extra)))
    validator.validate(doc)
    results = [r for r in doc["runs"][0]["results"]
               if "registry.example.com" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]]
    assert sorted(r["suppressions"][0]["kind"] for r in results) == ["external", "external", "inSource"]
    assert {r["locations"][0]["properties"]["layer"] for r in results} == {layer}
