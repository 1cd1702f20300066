"""review(): the decisions, judged on real and built AdmissionReviews without a server."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudward.core.model import Controls
from cloudward.core.rules import Rule, RuleRegistry, Target
from cloudward.core.settings import ScanSettings
from cloudward.core.severity import Severity
from cloudward.deploy import (
    AdmissionDecision,
    Mode,
    NamespaceStore,
    answer,
    default_policy,
    parse_policy,
    parse_review,
    review,
)
from cloudward.develop import scan
from cloudward.testing import admission_review

from .conftest import DATA, fixture

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
       "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0"}]}}


def deployment(**container: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "app", "image": "nginx:1.25", **container}]}}}}


PRIVILEGED = deployment(securityContext={"privileged": True})


def decide(doc: dict[str, Any], config: str = "", namespaces: NamespaceStore | None = None,
           **kw: Any) -> AdmissionDecision:
    policy = parse_policy(config, "test.yaml", **kw) if config or kw else default_policy()
    return review(parse_review(json.dumps(doc)), policy, namespaces, today=dt.date(2026, 1, 1))


def denied_ids(d: AdmissionDecision) -> set[str]:
    return {r.rule_id for r in d.violations(Mode.ENFORCE)}


def warned_ids(d: AdmissionDecision) -> set[str]:
    return {r.rule_id for r in d.violations(Mode.WARN)}


# -- one policy, every stage ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["pod-create-kubectl.json", "replicaset-update-argocd.json"])
def test_same_rules_paths_and_messages_as_cloudward_scan(name: str, tmp_path: Path) -> None:
    obj = fixture(name)["request"]["object"]
    manifest = tmp_path / "object.json"
    manifest.write_text(json.dumps(obj))
    report = scan([str(manifest)], ScanSettings())
    per_object = {r.id for r in report.rules if r.target is Target.K8S_OBJECT}  # cross-object rules need the set
    from_scan = {(f.rule_id, f.location.json_path, f.message) for f in report.findings if f.rule_id in per_object}
    decision = decide(fixture(name))
    from_admission = {(r.rule_id, r.path, r.message) for r in decision.results}
    assert from_scan  # the captured objects do have findings
    assert from_admission == from_scan


def test_captured_pod_meets_baseline_and_is_warned_about_restricted() -> None:
    d = decide(fixture("pod-create-kubectl.json"))
    assert d.allowed and d.uid == "2ec4911a-8a9d-4c8d-8aa5-2d3709877fd0"
    assert {"pod.run-as-non-root", "pod.seccomp-restricted", "pod.capabilities-restricted",
            "pod.privilege-escalation"} <= warned_ids(d)
    assert dict(d.audit_annotations)["pss-enforce"] == "baseline:latest"
    assert all(len(w) <= 120 for w in d.warnings)


def test_privileged_deployment_is_denied_with_rule_and_field() -> None:
    d = decide(admission_review(PRIVILEGED))
    assert not d.allowed and d.code == 403
    assert denied_ids(d) == {"pod.privileged"}
    assert d.message.startswith("cloudward denied Deployment shop/web: pod.privileged at "
                                "$.spec.template.spec.containers[0].securityContext.privileged: ")
    assert dict(d.audit_annotations)["enforce-violations"] == "pod.privileged"


# -- namespaces: PSA labels ----------------------------------------------------------------

@pytest.fixture
def namespaces() -> NamespaceStore:
    from cloudward.deploy import load_namespaces

    return load_namespaces(DATA / "namespaces.yaml")


def test_restricted_namespace_denies_what_baseline_allows(namespaces: NamespaceStore) -> None:
    doc = fixture("pod-create-kubectl.json")
    doc["request"]["namespace"] = "prod"
    d = decide(doc, namespaces=namespaces)
    assert not d.allowed
    assert {"pod.run-as-non-root", "pod.seccomp-restricted", "pod.capabilities-restricted",
            "pod.privilege-escalation"} <= denied_ids(d)
    assert dict(d.audit_annotations)["pss-enforce"] == "restricted:latest"


def test_privileged_namespace_allows_with_warnings(namespaces: NamespaceStore) -> None:
    d = decide(admission_review(PRIVILEGED, namespace="legacy"), namespaces=namespaces)
    assert d.allowed
    assert "pod.privileged" in warned_ids(d)


def test_invalid_enforce_label_fails_closed_to_restricted(namespaces: NamespaceStore) -> None:
    d = decide(admission_review(deployment(), namespace="typo"), namespaces=namespaces)
    ann = dict(d.audit_annotations)
    assert ann["pss-enforce"] == "restricted:latest"
    assert "restrictd" in ann["namespace-label-errors"]
    assert "pod.run-as-non-root" in denied_ids(d)


def test_pss_enforce_flag_sets_the_default_level() -> None:
    d = decide(admission_review(deployment()), pss_enforce="restricted")
    assert "pod.run-as-non-root" in denied_ids(d)
    d = decide(admission_review(PRIVILEGED), pss_enforce="privileged")
    assert d.allowed and "pod.privileged" in warned_ids(d)


def test_policy_version_pins_checks_like_psa() -> None:
    # PSA's restricted seccomp check exists from v1.19 on; before that only baseline's applies
    pod = deployment(securityContext={"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                      "capabilities": {"drop": ["ALL"]}})
    old = decide(admission_review(pod), "admission:\n  pss:\n    enforce: restricted\n    enforce_version: v1.18\n")
    new = decide(admission_review(pod), "admission:\n  pss:\n    enforce: restricted\n")
    assert "pod.seccomp-restricted" not in denied_ids(old)
    assert "pod.seccomp-restricted" in denied_ids(new)


# -- operations and subresources ------------------------------------------------------------

def test_delete_connect_and_status_are_not_evaluated() -> None:
    for doc in (admission_review(None, operation="DELETE", old=PRIVILEGED),
                admission_review(POD, operation="CONNECT", sub_resource="exec"),
                admission_review(PRIVILEGED, operation="UPDATE", old=PRIVILEGED, sub_resource="status")):
        d = decide(doc)
        assert d.allowed and not d.results
        assert dict(d.audit_annotations)["decision"] == "skipped"


def test_ephemeral_container_subresource_is_judged_as_a_pod_update() -> None:
    old = copy.deepcopy(POD)
    new = copy.deepcopy(POD)
    new["spec"]["ephemeralContainers"] = [{"name": "debug", "image": "busybox:1.36",
                                           "securityContext": {"privileged": True}}]
    d = decide(admission_review(new, operation="UPDATE", old=old, sub_resource="ephemeralcontainers"))
    assert not d.allowed
    assert any(r.path.startswith("$.spec.ephemeralContainers[0]") for r in d.violations(Mode.ENFORCE))


def test_update_denies_introduced_violations() -> None:
    d = decide(admission_review(PRIVILEGED, operation="UPDATE", old=deployment()))
    assert not d.allowed and denied_ids(d) == {"pod.privileged"}
    assert not next(r for r in d.results if r.rule_id == "pod.privileged").kept


def test_update_that_keeps_a_violation_and_changes_the_spec_is_denied() -> None:
    new = copy.deepcopy(PRIVILEGED)
    new["spec"]["replicas"] = 3
    d = decide(admission_review(new, operation="UPDATE", old=PRIVILEGED))
    assert not d.allowed
    assert next(r for r in d.results if r.rule_id == "pod.privileged").kept


def test_metadata_only_update_of_an_existing_violation_only_warns() -> None:
    new = copy.deepcopy(PRIVILEGED)
    new["metadata"]["labels"] = {"team": "a"}
    new["metadata"]["finalizers"] = []
    d = decide(admission_review(new, operation="UPDATE", old=PRIVILEGED))
    assert d.allowed
    assert "pod.privileged" in warned_ids(d)


def test_captured_update_reports_kept_violations() -> None:
    d = decide(fixture("replicaset-update-argocd.json"))
    assert d.allowed
    latest = next(r for r in d.results if r.rule_id == "pod.image-tag-latest")
    assert latest.kept and latest.mode is Mode.WARN


def test_unknown_kinds_are_allowed_unevaluated() -> None:
    d = decide(admission_review({"apiVersion": "example.com/v1", "kind": "Widget",
                                 "metadata": {"name": "w", "namespace": "shop"}}))
    assert d.allowed and dict(d.audit_annotations)["skipped"] == "no rules for kind Widget"


# -- exemptions, exceptions, modes -------------------------------------------------------------

EXEMPT = """admission:
  exemptions:
    namespaces: [shop]
    usernames: [system:serviceaccount:ci:deployer]
    runtime_classes: [kata]
"""


def test_exemptions_like_psa() -> None:
    assert dict(decide(admission_review(PRIVILEGED), EXEMPT).audit_annotations)["exempt"] == "namespace"
    other = admission_review(PRIVILEGED, namespace="other", username="system:serviceaccount:ci:deployer")
    assert dict(decide(other, EXEMPT).audit_annotations)["exempt"] == "user"
    kata = copy.deepcopy(PRIVILEGED)
    kata["spec"]["template"]["spec"]["runtimeClassName"] = "kata"
    d = decide(admission_review(kata, namespace="other"), EXEMPT)
    assert d.allowed and dict(d.audit_annotations)["exempt"] == "runtimeClass"
    assert not decide(admission_review(PRIVILEGED, namespace="other"), EXEMPT).allowed


def test_config_exception_lifts_a_denial_until_it_expires() -> None:
    cfg = ("exceptions:\n  - rule: pod.privileged\n    namespace: shop\n    name: web\n"
           "    reason: CNI agent needs it\n    expires: {}\n")
    d = decide(admission_review(PRIVILEGED), cfg.format("2026-06-30"))
    assert d.allowed
    assert dict(d.audit_annotations)["excepted"] == "pod.privileged"
    policy = parse_policy(cfg.format("2025-06-30"), "c.yaml")
    for _ in range(2):  # every request that meets the expired exception says so, not just the first
        expired = review(parse_review(json.dumps(admission_review(PRIVILEGED))), policy, today=dt.date(2026, 1, 1))
        assert not expired.allowed
        assert any("expired on 2025-06-30" in w for w in expired.warnings)


def test_inline_annotation_lifts_warnings_but_never_a_denial() -> None:
    obj = copy.deepcopy(PRIVILEGED)
    obj["metadata"]["annotations"] = {"cloudward.io/ignore": "pod.*", "cloudward.io/ignore-reason": "trust me"}
    d = decide(admission_review(obj))
    assert not d.allowed and denied_ids(d) == {"pod.privileged"}
    assert not any(w.startswith("pod.") for w in d.warnings)


def test_rule_modes_from_config() -> None:
    cfg = "admission:\n  rules:\n    default: audit\n    enforce: [pod.image-pull-policy]\n    off: [pod.liveness-*]\n"
    d = decide(admission_review(deployment()), cfg)
    assert denied_ids(d) == {"pod.image-pull-policy"}
    ann = dict(d.audit_annotations)
    assert "pod.readiness-probe" in ann["audit-violations"].split(",")
    assert all(not r.rule_id.startswith("pod.liveness") for r in d.results)
    assert not d.warnings


def test_namespace_label_sets_the_rules_mode() -> None:
    store = NamespaceStore({"shop": {"cloudward.io/rules-mode": "enforce"}})
    d = decide(admission_review(deployment()), namespaces=store)
    assert "pod.liveness-probe" in denied_ids(d)


def test_image_gates() -> None:
    cfg = "admission:\n  images:\n    allowed_registries: [registry.example.com, ghcr.io/acme/]\n"
    d = decide(admission_review(deployment()), cfg)
    assert denied_ids(d) == {"pod.image-registry"}
    assert "docker.io/library/nginx" in d.message
    ok = decide(admission_review(deployment(image="ghcr.io/acme/web:2")), cfg)
    assert "pod.image-registry" not in denied_ids(ok)
    not_acme = decide(admission_review(deployment(image="ghcr.io/acmex/web:2")), cfg)
    assert "pod.image-registry" in denied_ids(not_acme)
    digest = decide(admission_review(deployment()), "admission:\n  images:\n    require_digest: true\n")
    assert denied_ids(digest) == {"pod.image-digest"}


def test_dry_run_is_judged_the_same_and_marked() -> None:
    d = decide(admission_review(PRIVILEGED, dry_run=True))
    assert not d.allowed and d.dry_run
    assert dict(d.audit_annotations)["dry-run"] == "true"


# -- failure mode ------------------------------------------------------------------------------

def _crashing_registry() -> RuleRegistry:
    def boom(obj: Any, ctx: Any) -> Iterator[Any]:
        raise RuntimeError("bug in rule")

    return RuleRegistry([Rule(id="pod.boom", title="t", severity=Severity.LOW, target=Target.K8S_OBJECT, check=boom,
                              description="d", remediation="r", kinds=frozenset({"Deployment"}),
                              controls=Controls())])


@pytest.mark.parametrize(("mode", "allowed", "code"), [("closed", False, 500), ("open", True, 200)])
def test_internal_errors_follow_the_failure_mode(mode: str, allowed: bool, code: int) -> None:
    policy = parse_policy(f"admission:\n  failure_mode: {mode}\n", "p.yaml")
    ans = answer(json.dumps(admission_review(deployment(), uid="x")), policy, registry=_crashing_registry())
    response = json.loads(ans.body)["response"]
    assert response["allowed"] is allowed and response["uid"] == "x"
    assert response["auditAnnotations"]["decision"] == "error"
    assert "pod.boom" in response["auditAnnotations"]["error"]
    if allowed:
        assert "failure_mode: open" in response["warnings"][0]
    else:
        assert response["status"]["code"] == code and "fails closed" in response["status"]["message"]
