"""RBAC rules on single roles and bindings: which grants are found, and where they point."""

from __future__ import annotations

from typing import Any

import pytest

from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import Violation
from cloudward.core.rules import RuleContext, Target
from cloudward.k8s.object import K8sObject
from cloudward.rules.rbac import RULES

BY_ID = {r.id: r for r in RULES}
RBAC = "rbac.authorization.k8s.io"


def role(*rules: Any, kind: str = "ClusterRole", api_version: str = f"{RBAC}/v1") -> K8sObject:
    md: dict[str, Any] = {"name": "r"}
    if kind == "Role":
        md["namespace"] = "team"
    return K8sObject(data={"apiVersion": api_version, "kind": kind, "metadata": md, "rules": list(rules)},
                     file="t.yaml")


def rule(groups: list[str] | None, resources: list[str], verbs: list[str], **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"resources": resources, "verbs": verbs, **extra}
    if groups is not None:
        out["apiGroups"] = groups
    return out


def binding(ref: Any, subjects: Any, kind: str = "ClusterRoleBinding", namespace: str | None = None) -> K8sObject:
    md: dict[str, Any] = {"name": "b"}
    if namespace:
        md["namespace"] = namespace
    data: dict[str, Any] = {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": md, "subjects": subjects}
    if ref is not None:
        data["roleRef"] = ref
    return K8sObject(data=data, file="t.yaml")


def ref(name: str, kind: str = "ClusterRole") -> dict[str, str]:
    return {"apiGroup": RBAC, "kind": kind, "name": name}


def violations(rule_id: str, obj: K8sObject) -> list[Violation]:
    return list(BY_ID[rule_id].check(obj, RuleContext()))


def paths(rule_id: str, obj: K8sObject) -> list[JsonPath]:
    return [v.path for v in violations(rule_id, obj)]


# --- wildcard verbs / resources ---------------------------------------------------------------


def test_wildcard_verb_points_at_the_star_entry() -> None:
    obj = role(rule([""], ["pods"], ["get"]), rule([""], ["configmaps"], ["get", "*"]))
    [v] = violations("rbac.wildcard-verbs", obj)
    assert v.path == ("rules", 1, "verbs", 1)
    assert '"configmaps"' in v.message


def test_wildcard_verb_on_non_resource_urls_is_reported_and_named() -> None:
    obj = role({"nonResourceURLs": ["/metrics"], "verbs": ["*"]})
    [v] = violations("rbac.wildcard-verbs", obj)
    assert v.path == ("rules", 0, "verbs", 0)
    assert '"/metrics"' in v.message


def test_explicit_verbs_are_not_wildcards() -> None:
    assert paths("rbac.wildcard-verbs", role(rule(["*"], ["*"], ["get", "list", "watch"]))) == []


def test_wildcard_resource_wins_over_wildcard_group_in_one_rule() -> None:
    obj = role(rule(["*"], ["pods", "*"], ["get"]))
    assert paths("rbac.wildcard-resources", obj) == [("rules", 0, "resources", 1)]


def test_wildcard_api_group_alone_is_reported_at_the_group() -> None:
    obj = role(rule(["", "*"], ["deployments"], ["get"]))
    [v] = violations("rbac.wildcard-resources", obj)
    assert v.path == ("rules", 0, "apiGroups", 1)
    assert '"deployments"' in v.message


def test_wildcard_non_resource_url_is_reported() -> None:
    obj = role({"nonResourceURLs": ["/healthz", "*"], "verbs": ["get"]})
    assert paths("rbac.wildcard-resources", obj) == [("rules", 0, "nonResourceURLs", 1)]


def test_subresource_wildcard_is_not_a_wildcard_resource() -> None:
    assert paths("rbac.wildcard-resources", role(rule(["apps"], ["*/scale"], ["update"]))) == []


# --- secrets ---------------------------------------------------------------------------------


def test_list_on_secrets_is_reported_at_the_resource() -> None:
    [v] = violations("rbac.secrets-read", role(rule([""], ["configmaps", "secrets"], ["list"])))
    assert v.path == ("rules", 0, "resources", 1)
    assert "list" in v.message


def test_secrets_read_through_wildcards_names_the_wildcard() -> None:
    [v] = violations("rbac.secrets-read", role(rule(["*"], ["*"], ["watch", "create"])))
    assert v.path == ("rules", 0, "resources", 0)
    assert "watch" in v.message and "create" not in v.message
    assert "'*'" in v.message


def test_exact_secrets_entry_is_preferred_over_star() -> None:
    assert paths("rbac.secrets-read", role(rule([""], ["*", "secrets"], ["get"]))) == [("rules", 0, "resources", 1)]


def test_wildcard_verb_on_secrets_reads_them() -> None:
    [v] = violations("rbac.secrets-read", role(rule([""], ["secrets"], ["*"]), kind="Role"))
    assert v.message.endswith("get, list, watch on secrets")


@pytest.mark.parametrize("r", [
    rule(["apps"], ["secrets"], ["get"]),  # secrets live in the core group only
    rule([""], ["secrets"], ["create", "update", "delete"]),  # writing is not reading
    rule([""], ["secrets"], ["get"], resourceNames=["tls"]),  # scoped to a named secret
    rule(None, ["secrets"], ["get"]),  # no apiGroups: rejected, grants nothing
    rule([""], ["secrets/status"], ["get"]),
])
def test_secrets_near_misses(r: dict[str, Any]) -> None:
    assert paths("rbac.secrets-read", role(r)) == []


# --- exec / attach ---------------------------------------------------------------------------


def test_exec_and_attach_are_reported_per_entry() -> None:
    obj = role(rule([""], ["pods/exec", "pods/attach"], ["get"]))
    assert paths("rbac.pods-exec", obj) == [("rules", 0, "resources", 0), ("rules", 0, "resources", 1)]


def test_star_resource_reports_exec_and_attach_once() -> None:
    [v] = violations("rbac.pods-exec", role(rule([""], ["*"], ["create"])))
    assert v.path == ("rules", 0, "resources", 0)
    assert "pods/exec" in v.message and "pods/attach" in v.message


def test_subresource_wildcard_grants_exec() -> None:
    assert paths("rbac.pods-exec", role(rule([""], ["*/exec"], ["create"]))) == [("rules", 0, "resources", 0)]


def test_exec_limited_to_named_pods_is_still_reported() -> None:
    obj = role(rule([""], ["pods/exec"], ["create"], resourceNames=["debug"]))
    assert paths("rbac.pods-exec", obj) == [("rules", 0, "resources", 0)]


@pytest.mark.parametrize("r", [
    rule([""], ["pods"], ["*"]),  # "pods" does not cover its subresources
    rule([""], ["pods/exec"], ["list", "watch"]),
    rule(["apps"], ["pods/exec"], ["create"]),
    rule([""], ["pods/log", "pods/portforward"], ["get", "create"]),
])
def test_exec_near_misses(r: dict[str, Any]) -> None:
    assert paths("rbac.pods-exec", role(r)) == []


# --- escalate / bind / impersonate -----------------------------------------------------------


def test_explicit_bind_and_escalate_point_at_each_verb() -> None:
    obj = role(rule([RBAC], ["clusterroles"], ["get", "bind", "escalate"]))
    assert paths("rbac.escalate-bind-impersonate", obj) == [("rules", 0, "verbs", 1), ("rules", 0, "verbs", 2)]


def test_bind_limited_to_named_roles_is_the_recommended_form() -> None:
    obj = role(rule([RBAC], ["clusterroles"], ["bind"], resourceNames=["view"]))
    assert paths("rbac.escalate-bind-impersonate", obj) == []


def test_impersonating_a_named_user_is_still_reported() -> None:
    obj = role(rule([""], ["users"], ["impersonate"], resourceNames=["alice"]))
    assert paths("rbac.escalate-bind-impersonate", obj) == [("rules", 0, "verbs", 0)]


def test_star_verb_on_roles_includes_escalate_and_bind() -> None:
    [v] = violations("rbac.escalate-bind-impersonate", role(rule([RBAC], ["roles"], ["*"])))
    assert v.path == ("rules", 0, "verbs", 0)
    assert "escalate/bind" in v.message and "impersonate" not in v.message


def test_star_verb_on_service_accounts_includes_impersonate() -> None:
    [v] = violations("rbac.escalate-bind-impersonate", role(rule([""], ["serviceaccounts"], ["*"])))
    assert "impersonate on serviceaccounts" in v.message


def test_star_everything_lists_both_powers() -> None:
    [v] = violations("rbac.escalate-bind-impersonate", role(rule(["*"], ["*"], ["*"])))
    assert "escalate/bind" in v.message and "users, groups, serviceaccounts, uids" in v.message


def test_star_verb_on_ordinary_resources_is_not_escalation() -> None:
    assert paths("rbac.escalate-bind-impersonate", role(rule([""], ["pods", "roles"], ["*"]))) == []


# --- create pods -----------------------------------------------------------------------------


def test_create_on_controllers_and_pods_is_reported_per_entry() -> None:
    obj = role(rule(["batch", ""], ["jobs", "pods", "services"], ["*"]))
    assert paths("rbac.create-pods", obj) == [("rules", 0, "resources", 0), ("rules", 0, "resources", 1)]


@pytest.mark.parametrize("r", [
    rule([""], ["pods"], ["get", "list"]),
    rule(["apps"], ["pods"], ["create"]),  # pods are in the core group
    rule(["apps"], ["deployments"], ["create"], resourceNames=["web"]),  # create cannot be limited by name
    rule(["apps"], ["deployments/scale"], ["create"]),
])
def test_create_pods_near_misses(r: dict[str, Any]) -> None:
    assert paths("rbac.create-pods", role(r)) == []


# --- nodes/proxy -----------------------------------------------------------------------------


def test_get_on_nodes_proxy_is_reported() -> None:
    assert paths("rbac.node-proxy", role(rule([""], ["nodes", "nodes/proxy"], ["get"]))) == [
        ("rules", 0, "resources", 1)]


def test_everything_includes_nodes_proxy() -> None:
    assert paths("rbac.node-proxy", role(rule(["*"], ["*"], ["*"]))) == [("rules", 0, "resources", 0)]


@pytest.mark.parametrize("r", [
    rule([""], ["nodes", "nodes/metrics", "nodes/stats"], ["get"]),
    rule([""], ["nodes/proxy"], ["list", "watch"]),
])
def test_node_proxy_near_misses(r: dict[str, Any]) -> None:
    assert paths("rbac.node-proxy", role(r)) == []


# --- bindings --------------------------------------------------------------------------------


def test_cluster_admin_binding_names_subjects_and_scope() -> None:
    obj = binding(ref("cluster-admin"), [{"kind": "ServiceAccount", "name": "ci", "namespace": "tools"},
                                         {"kind": "Group", "name": "system:masters"}])
    [v] = violations("rbac.cluster-admin-binding", obj)
    assert v.path == ("roleRef", "name")
    assert "ServiceAccount tools/ci" in v.message and "cluster-wide" in v.message
    assert "system:masters" not in v.message


def test_cluster_admin_in_a_rolebinding_is_scoped_to_its_namespace() -> None:
    obj = binding(ref("cluster-admin"), [{"kind": "User", "name": "bob"}], kind="RoleBinding", namespace="team")
    [v] = violations("rbac.cluster-admin-binding", obj)
    assert "in namespace team" in v.message and "User bob" in v.message


@pytest.mark.parametrize("obj", [
    binding(ref("cluster-admin"), [{"kind": "Group", "name": "system:masters"}]),  # the bootstrap binding
    binding(ref("cluster-admin", kind="Role"), [{"kind": "User", "name": "bob"}]),
    binding(ref("admin"), [{"kind": "User", "name": "bob"}]),
    binding(ref("cluster-admin"), []),
])
def test_cluster_admin_near_misses(obj: K8sObject) -> None:
    assert paths("rbac.cluster-admin-binding", obj) == []


def test_default_service_account_subject_is_reported_at_the_subject() -> None:
    obj = binding(ref("view"), [{"kind": "ServiceAccount", "name": "app", "namespace": "x"},
                                {"kind": "User", "name": "default"},
                                {"kind": "ServiceAccount", "name": "default", "namespace": "x"}])
    [v] = violations("rbac.default-sa-binding", obj)
    assert v.path == ("subjects", 2)
    assert "ServiceAccount x/default" in v.message and "view" in v.message


def test_role_kind_mismatch() -> None:
    assert paths("rbac.binding-role-kind-mismatch", binding(ref("reader", kind="Role"), [])) == [("roleRef", "kind")]
    bad_group = {"apiGroup": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "name": "view"}
    assert paths("rbac.binding-role-kind-mismatch", binding(bad_group, [])) == [("roleRef", "apiGroup")]
    assert paths("rbac.binding-role-kind-mismatch", binding(None, [])) == [("roleRef",)]
    ok = binding(ref("view"), [], kind="RoleBinding", namespace="a")
    assert paths("rbac.binding-role-kind-mismatch", ok) == []
    assert paths("rbac.binding-role-kind-mismatch", binding(ref("r", kind="Role"), [], kind="RoleBinding")) == []


# --- robustness ------------------------------------------------------------------------------


def test_aggregated_cluster_role_without_rules_yields_nothing() -> None:
    no_rules: list[list[Any] | None] = [[], None]
    for rules in no_rules:
        data: dict[str, Any] = {
            "apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "monitoring"},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/agg": "true"}}]},
        }
        if rules is not None:
            data["rules"] = rules
        obj = K8sObject(data=data, file="t.yaml")
        assert [v for r in RULES for v in r.check(obj, RuleContext())] == []


def test_a_custom_resource_called_role_is_not_rbac() -> None:
    obj = role(rule(["*"], ["*"], ["*"]), api_version="iam.example.com/v1")
    assert [v for r in RULES for v in r.check(obj, RuleContext())] == []


@pytest.mark.parametrize("data", [
    {"kind": "ClusterRole", "rules": "everything"},
    {"kind": "ClusterRole", "rules": ["x", None, {"verbs": "*", "resources": "*", "apiGroups": "*"}]},
    {"kind": "ClusterRole", "rules": [{"verbs": [1, None, "*"], "resources": [{"a": 1}], "apiGroups": [None]}]},
    {"kind": "Role", "metadata": "x", "rules": [{"verbs": ["*"], "resources": ["*"], "apiGroups": ["*"],
                                                 "resourceNames": "x"}]},
    {"kind": "ClusterRoleBinding", "roleRef": "cluster-admin", "subjects": "everyone"},
    {"kind": "RoleBinding", "roleRef": {"kind": ["Role"]}, "subjects": [None, "x", {"kind": 3}]},
])
def test_wrongly_typed_input_never_crashes(data: dict[str, Any]) -> None:
    obj = K8sObject(data={"apiVersion": f"{RBAC}/v1", **data}, file="t.yaml")
    for r in RULES:
        list(r.check(obj, RuleContext()))


def test_rule_metadata_is_complete() -> None:
    assert len(BY_ID) == len(RULES)
    for r in RULES:
        assert r.id.startswith("rbac.") and r.target is Target.K8S_OBJECT
        assert r.kinds <= {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
        assert r.description and r.remediation and r.references


def test_node_proxy_in_a_namespaced_role_grants_nothing() -> None:
    """Nodes are cluster-scoped: the RBAC authorizer never applies a Role's rule to them."""
    r = rule([""], ["nodes/proxy"], ["get"])
    assert paths("rbac.node-proxy", role(r, kind="Role")) == []
    assert paths("rbac.node-proxy", role(r, kind="ClusterRole")) == [("rules", 0, "resources", 0)]
