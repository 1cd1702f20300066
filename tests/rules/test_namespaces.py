"""Namespace rules: kube-system placement and its suppressions, namespaces without LimitRange/ResourceQuota,
and what the admission webhook makes of them (the set rules never run there, so they cannot deny)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cloudward.core.config import parse_config
from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import SuppressionSource
from cloudward.core.rules import RuleContext, RuleRegistry, Target
from cloudward.core.settings import ScanSettings
from cloudward.deploy import Mode, default_policy, parse_policy, parse_review, review
from cloudward.develop import scan
from cloudward.k8s.index import ObjectIndex
from cloudward.k8s.object import K8sObject
from cloudward.rules import builtin_rules, crossobject, namespaces
from cloudward.testing import admission_review

BY_ID = {r.id: r for r in namespaces.RULES}
SET_RULES = ("namespace.no-limitrange", "namespace.no-resourcequota")
GUARD = {"namespace.no-limitrange": "LimitRange", "namespace.no-resourcequota": "ResourceQuota"}


def obj(kind: str, name: str | None, namespace: str | None = None, *, api_version: str = "v1",
        line: int | None = None, **body: Any) -> K8sObject:
    md: dict[str, Any] = {} if name is None else {"name": name}
    if namespace is not None:
        md["namespace"] = namespace
    return K8sObject(data={"apiVersion": api_version, "kind": kind, "metadata": md, **body}, file="t.yaml", line=line)


def agent(namespace: str | None = "kube-system", **metadata: Any) -> dict[str, Any]:
    md: dict[str, Any] = {"name": "node-agent", **metadata}
    if namespace is not None:
        md["namespace"] = namespace
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": md,
            "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": {
                "metadata": {"labels": {"app": "a"}},
                "spec": {"containers": [{"name": "agent", "image": "registry.example.com/agent:1.0"}]}}}}


def where(rule_id: str, *objects: K8sObject) -> list[tuple[str, JsonPath]]:
    out = []
    for v in BY_ID[rule_id].check(ObjectIndex(objects), RuleContext()):
        assert isinstance(v.subject, K8sObject)
        out.append((f"{v.subject.kind}/{v.subject.name}", tuple(v.path)))
    return out


def test_registered_after_the_crossobject_rules_in_documentation_order() -> None:
    ids = builtin_rules().ids()
    last_cross = max(ids.index(r.id) for r in crossobject.RULES)
    assert [ids[last_cross + 1 + i] for i in range(len(namespaces.RULES))] == [r.id for r in namespaces.RULES]
    assert BY_ID["k8s.kube-system-workload"].target is Target.K8S_OBJECT
    assert all(BY_ID[r].target is Target.K8S_SET for r in SET_RULES)


# --- k8s.kube-system-workload ------------------------------------------------------------------


def _scan_one(tmp_path: Path, doc: dict[str, Any], config: str = "") -> list[tuple[str, str | None, Any]]:
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps(doc))
    settings = ScanSettings(config=parse_config(config, str(tmp_path / ".cloudward.yaml")))
    report = scan([str(manifest)], settings, RuleRegistry([BY_ID["k8s.kube-system-workload"]]))
    return [(f.rule_id, f.location.json_path, f.suppressed) for f in report.findings]


def test_kube_system_addon_is_accepted_by_a_config_exception(tmp_path: Path) -> None:
    config = ("exceptions:\n  - rule: k8s.kube-system-workload\n    kind: DaemonSet\n    namespace: kube-system\n"
              "    name: node-agent\n    reason: the CNI agent is a cluster add-on\n")
    [(rule_id, path, suppressed)] = _scan_one(tmp_path, agent(), config)
    assert (rule_id, path) == ("k8s.kube-system-workload", "$.metadata.namespace")
    assert suppressed is not None and suppressed.source is SuppressionSource.CONFIG
    assert suppressed.reason == "the CNI agent is a cluster add-on"


def test_kube_system_inline_ignore_works_on_the_object_not_on_the_pod_template(tmp_path: Path) -> None:
    ignore = {"cloudward.io/ignore": "k8s.kube-system-workload", "cloudward.io/ignore-reason": "add-on"}
    [(_, _, on_object)] = _scan_one(tmp_path, agent(annotations=ignore))
    assert on_object is not None and on_object.source is SuppressionSource.INLINE
    in_template = agent()
    in_template["spec"]["template"]["metadata"]["annotations"] = ignore
    [(_, _, on_template)] = _scan_one(tmp_path, in_template)
    assert on_template is None  # the finding is on metadata.namespace, outside the pod template


@pytest.mark.parametrize("namespace", [None, "kube-public", "kube-system-tools", "KUBE-SYSTEM"])
def test_only_an_explicit_kube_system_namespace_is_reported(namespace: str | None) -> None:
    found = BY_ID["k8s.kube-system-workload"].check(K8sObject(agent(namespace), "t.yaml"), RuleContext())
    assert list(found) == []


def test_a_workload_without_a_pod_spec_is_not_reported() -> None:
    broken = {**agent(), "spec": "oops"}
    assert list(BY_ID["k8s.kube-system-workload"].check(K8sObject(broken, "t.yaml"), RuleContext())) == []


# --- namespace.no-limitrange / namespace.no-resourcequota --------------------------------------


@pytest.mark.parametrize("rule_id", SET_RULES)
def test_only_namespace_objects_in_the_scan_are_reported_once_each(rule_id: str) -> None:
    kind = GUARD[rule_id]
    found = where(rule_id,
                  obj("Namespace", "shop"), obj("Namespace", "shop"),  # duplicates: once, on the first
                  obj("Namespace", "billing"), obj(kind, "guard", "billing"),
                  obj("Deployment", "orders", "orders", api_version="apps/v1"),  # named only: never reported
                  obj(kind, "guard", "elsewhere"))
    assert found == [("Namespace/shop", ("metadata", "name"))]


@pytest.mark.parametrize("rule_id", SET_RULES)
def test_unnamed_and_non_core_namespaces_and_custom_guards_are_not_counted(rule_id: str) -> None:
    kind = GUARD[rule_id]
    found = where(rule_id,
                  obj("Namespace", None), obj("Namespace", "team-a", api_version="tenancy.example.com/v1"),
                  obj("Namespace", "team-b"), obj(kind, "guard", "team-b", api_version="policy.example.com/v1"))
    assert found == [("Namespace/team-b", ("metadata", "name"))]


@pytest.mark.parametrize("rule_id", SET_RULES)
def test_a_guard_without_a_namespace_covers_none_and_the_message_points_at_it(rule_id: str) -> None:
    kind = GUARD[rule_id]
    index = ObjectIndex([obj("Namespace", "shop"), obj(kind, "defaults", line=7)])
    [v] = BY_ID[rule_id].check(index, RuleContext())
    assert v.message.startswith(f'namespace "shop" has no {kind} in the scanned files')
    assert f'{kind} "defaults" (t.yaml:7) sets no metadata.namespace' in v.message
    assert "set metadata.namespace: shop" in v.message


@pytest.mark.parametrize("rule_id", SET_RULES)
def test_the_namespace_finding_is_suppressed_by_an_annotation_on_the_namespace(rule_id: str, tmp_path: Path) -> None:
    manifest = tmp_path / "ns.yaml"
    manifest.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: sandbox\n  annotations:\n"
                        f"    cloudward.io/ignore: {rule_id}\n")
    report = scan([str(manifest)], ScanSettings(), RuleRegistry([BY_ID[rule_id]]))
    [finding] = report.findings
    assert finding.location.line == 4 and finding.suppressed is not None


# --- admission ---------------------------------------------------------------------------------

NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}


@pytest.mark.parametrize("policy_text", ["", "admission:\n  rules:\n    default: enforce\n"])
def test_admission_never_denies_a_namespace_for_missing_limitrange_or_quota(policy_text: str) -> None:
    policy = parse_policy(policy_text, "policy.yaml")
    decision = review(parse_review(json.dumps(admission_review(NAMESPACE))), policy, today=dt.date.today())
    assert decision.allowed and decision.error is None
    assert not [r for r in decision.results if r.rule_id.startswith("namespace.")]


def test_admission_warns_on_a_kube_system_workload_and_a_config_exception_lifts_an_enforced_one() -> None:
    request = parse_review(json.dumps(admission_review(agent(), namespace="kube-system")))
    decision = review(request, default_policy(), today=dt.date.today())
    hits = [r for r in decision.results if r.rule_id == "k8s.kube-system-workload"]
    assert [(r.mode, r.path) for r in hits] == [(Mode.WARN, "$.metadata.namespace")]
    enforced = parse_policy(
        "exceptions:\n  - rule: k8s.kube-system-workload\n    namespace: kube-system\n    name: node-agent\n"
        "    reason: CNI add-on\nadmission:\n  rules:\n    default: off\n    enforce: [k8s.kube-system-workload]\n",
        "policy.yaml")
    decision = review(request, enforced, today=dt.date.today())
    assert decision.allowed
    assert [(r.rule_id, r.excepted) for r in decision.results] == [("k8s.kube-system-workload", "CNI add-on")]
