"""The admission section of .cloudward.yaml and the AdmissionReview wire format."""

from __future__ import annotations

import base64
import json

import pytest

from cloudward.core.errors import ConfigError
from cloudward.deploy import AdmissionDecision, BadReview, FailureMode, Mode, encode_response, parse_policy
from cloudward.deploy.wire import parse_review
from cloudward.testing import admission_review


def test_shared_config_errors_keep_their_lines_after_an_admission_section() -> None:
    text = "admission:\n  failure_mode: open\n  rules:\n    default: audit\nrules:\n  bogus: 1\n"
    with pytest.raises(ConfigError) as e:
        parse_policy(text, "c.yaml")
    assert e.value.line == 6 and "bogus" in e.value.message


def test_admission_section_values() -> None:
    p = parse_policy("pss_version: v1.29\nadmission:\n  failure_mode: open\n  pss:\n    warn: restricted\n"
                     "  rules:\n    enforce: ['pod.image-*']\n", "c.yaml")
    assert p.failure_mode is FailureMode.OPEN
    assert p.pss_defaults.warn.display() == "restricted:v1.29"
    assert p.pss_defaults.enforce.display() == "baseline:v1.29"
    assert p.rule_mode("pod.image-digest") is Mode.ENFORCE and p.rule_mode("pod.liveness-probe") is Mode.WARN


@pytest.mark.parametrize(("text", "needle"), [
    ("admission:\n  pss:\n    enforce: strict\n", "admission.pss.enforce"),
    ("admission:\n  images:\n    allowed_registries: ['https://x']\n", "not a registry"),
    ("admission:\n  nope: 1\n", "unknown key 'nope'"),
    ("admission:\n  vulnerabilities: {}\n", r"c\.yaml:2:.*vulnerabilities needs 'cache'"),
    ("admission:\n  vulnerabilities:\n    cache: d\n    severity: huge\n", r"c\.yaml:4:.*severity"),
    ("admission:\n  vulnerabilities:\n    cache: d\n    missing: maybe\n", r"c\.yaml:4:.*missing"),
    ("admission:\n  signatures:\n    policy: no-such.yaml\n", r"c\.yaml:3:.*no-such\.yaml is not a file"),
    ("admission:\n  registry:\n    timeout: -1\n", r"c\.yaml:3:.*timeout must be a number"),
])
def test_admission_section_errors(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_policy(text, "c.yaml")


def test_response_encoding_follows_the_api() -> None:
    d = AdmissionDecision(uid="u", allowed=False, code=403, message="m", reason="Forbidden", warnings=("w",),
                          audit_annotations=(("decision", "denied"),), patch=b'[{"op":"add"}]')
    out = json.loads(encode_response(d, "admission.k8s.io/v1beta1"))
    assert out["apiVersion"] == "admission.k8s.io/v1beta1" and out["kind"] == "AdmissionReview"
    assert out["response"] == {"uid": "u", "allowed": False, "status": {"code": 403, "message": "m",
                                                                        "reason": "Forbidden"},
                               "warnings": ["w"], "auditAnnotations": {"decision": "denied"},
                               "patchType": "JSONPatch", "patch": base64.b64encode(b'[{"op":"add"}]').decode()}


def test_parse_rejects_bad_fields() -> None:
    doc = admission_review({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p"}})
    doc["request"]["operation"] = "PATCH"
    with pytest.raises(BadReview, match=r"request\.operation"):
        parse_review(json.dumps(doc))
    doc["request"]["operation"] = "CREATE"
    doc["request"]["object"] = "nope"
    with pytest.raises(BadReview, match=r"request\.object must be an object"):
        parse_review(json.dumps(doc))


def test_deeply_nested_update_is_a_bad_request_not_a_crash() -> None:
    from cloudward.deploy import answer, default_policy

    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"},
           "spec": {"x": "DEEP"}}
    text = json.dumps(admission_review(obj, operation="UPDATE", old=obj))
    deep = '{"a": ' * 1000 + "1" + "}" * 1000
    with pytest.raises(BadReview, match="nested too deeply"):
        answer(text.replace('"DEEP"', deep), default_policy())
