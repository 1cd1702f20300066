"""Cross-object rules: what they find across a set of objects, and on which object they report."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import Violation
from cloudward.core.rules import RuleContext, Target
from cloudward.k8s.index import ObjectIndex
from cloudward.k8s.object import K8sObject
from cloudward.rules.crossobject import RULES, LabelSelector, SelectorIndex, parse_selector

BY_ID = {r.id: r for r in RULES}
RBAC = "rbac.authorization.k8s.io/v1"


def make(kind: str, name: str, namespace: str | None = None, *, api_version: str = "v1", file: str = "t.yaml",
         line: int | None = None, **body: Any) -> K8sObject:
    md: dict[str, Any] = {"name": name}
    if namespace is not None:
        md["namespace"] = namespace
    return K8sObject(data={"apiVersion": api_version, "kind": kind, "metadata": md, **body}, file=file, line=line)


def deployment(name: str, namespace: str | None, labels: dict[str, Any] | None = None, **kw: Any) -> K8sObject:
    template: dict[str, Any] = {"spec": {"containers": [{"name": "c", "image": "i"}]}}
    if labels is not None:
        template["metadata"] = {"labels": labels}
    return make("Deployment", name, namespace, api_version="apps/v1", spec={"template": template}, **kw)


def netpol(name: str, namespace: str | None, selector: Any = None) -> K8sObject:
    spec = {} if selector is None else {"podSelector": selector}
    return make("NetworkPolicy", name, namespace, api_version="networking.k8s.io/v1", spec=spec)


def run(rule_id: str, *objects: K8sObject) -> list[Violation]:
    return list(BY_ID[rule_id].check(ObjectIndex(objects), RuleContext()))


def where(rule_id: str, *objects: K8sObject) -> list[tuple[str, JsonPath]]:
    """(kind/name of the subject, path) of each violation."""
    out = []
    for v in run(rule_id, *objects):
        assert isinstance(v.subject, K8sObject)
        out.append((f"{v.subject.kind}/{v.subject.name}", v.path))
    return out


# --- netpol.namespace-uncovered ---------------------------------------------------------------


def test_uncovered_namespace_is_reported_once_on_its_namespace_object() -> None:
    found = run("netpol.namespace-uncovered",
                make("Namespace", "prod"), deployment("web", "prod"), deployment("api", "prod"),
                deployment("x", "dev"), netpol("deny", "dev"))
    [v] = found
    assert v.subject.kind == "Namespace" and v.subject.name == "prod"
    assert v.path == ("metadata", "name")
    assert 'namespace "prod"' in v.message and "2 workload(s)" in v.message


def test_without_namespace_object_the_first_workload_carries_the_finding() -> None:
    assert where("netpol.namespace-uncovered", deployment("a", "staging"), deployment("b", "staging")) == [
        ("Deployment/a", ("metadata", "namespace"))]


def test_unspecified_namespace_is_its_own_namespace() -> None:
    assert where("netpol.namespace-uncovered", deployment("a", None), netpol("p", None)) == []
    [v] = run("netpol.namespace-uncovered", deployment("a", None), netpol("p", "default"))
    assert v.path == ("metadata",)
    assert "unspecified namespace" in v.message


@pytest.mark.parametrize("extra", [
    make("GlobalNetworkPolicy", "deny-all", api_version="crd.projectcalico.org/v1"),
    make("CiliumNetworkPolicy", "p", "prod", api_version="cilium.io/v2"),
])
def test_other_policy_engines_count(extra: K8sObject) -> None:
    assert run("netpol.namespace-uncovered", deployment("web", "prod"), extra) == []


def test_pod_templates_and_non_workloads_do_not_need_policies() -> None:
    objs = (make("PodTemplate", "t", "prod", template={}), make("ConfigMap", "c", "prod"), make("Namespace", "prod"))
    assert run("netpol.namespace-uncovered", *objs) == []


# --- netpol.pod-uncovered ---------------------------------------------------------------------


def test_workload_outside_every_selector_is_reported_at_its_pod_labels() -> None:
    found = where("netpol.pod-uncovered",
                  netpol("web", "prod", {"matchLabels": {"app": "web"}}),
                  deployment("web", "prod", {"app": "web", "tier": "fe"}),
                  deployment("api", "prod", {"app": "api"}))
    assert found == [("Deployment/api", ("spec", "template", "metadata", "labels"))]


def test_empty_or_missing_pod_selector_covers_every_pod() -> None:
    for pol in (netpol("all", "prod", {}), netpol("all", "prod")):
        assert run("netpol.pod-uncovered", pol, deployment("api", "prod", {"app": "api"})) == []


def test_expressions_are_evaluated() -> None:
    pol = netpol("p", "prod", {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]},
                                                    {"key": "legacy", "operator": "DoesNotExist"}]})
    found = where("netpol.pod-uncovered", pol,
                  deployment("a", "prod", {"app": "a"}),
                  deployment("b-legacy", "prod", {"app": "b", "legacy": "yes"}),
                  deployment("c", "prod", {"app": "c"}))
    assert found == [("Deployment/b-legacy", ("spec", "template", "metadata", "labels")),
                     ("Deployment/c", ("spec", "template", "metadata", "labels"))]


def test_pod_and_cronjob_label_paths() -> None:
    pod = make("Pod", "p", "prod", spec={"containers": []})
    pod.data["metadata"]["labels"] = {"app": "x"}
    cron = make("CronJob", "cj", "prod", api_version="batch/v1",
                spec={"jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}})
    found = where("netpol.pod-uncovered", netpol("p", "prod", {"matchLabels": {"app": "web"}}), pod, cron)
    assert found == [("Pod/p", ("metadata", "labels")),
                     ("CronJob/cj", ("spec", "jobTemplate", "spec", "template", "metadata"))]


def test_namespaces_without_policies_are_left_to_the_namespace_rule() -> None:
    assert run("netpol.pod-uncovered", netpol("p", "a", {"matchLabels": {"x": "y"}}), deployment("w", "b", {})) == []


def test_malformed_selector_selects_nothing() -> None:
    found = where("netpol.pod-uncovered", netpol("p", "prod", {"matchLabels": "app=web"}),
                  deployment("web", "prod", {"app": "web"}))
    assert found == [("Deployment/web", ("spec", "template", "metadata", "labels"))]


def test_namespaces_with_foreign_policies_are_not_evaluated() -> None:
    cilium = make("CiliumNetworkPolicy", "c", "prod", api_version="cilium.io/v2", spec={"endpointSelector": {}})
    objs = (netpol("p", "prod", {"matchLabels": {"app": "web"}}), cilium, deployment("api", "prod", {"app": "api"}))
    assert run("netpol.pod-uncovered", *objs) == []


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ({}, {}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),  # absent key passes NotIn
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {}, False),
    ({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1"}, False),
])
def test_label_selector_semantics(selector: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    parsed = parse_selector(selector)
    assert parsed is not None and parsed.matches(labels) is expected


@pytest.mark.parametrize("selector", [
    "x", {"matchLabels": {"a": 1}}, {"matchExpressions": "x"},
    {"matchExpressions": [{"key": "a", "operator": "In"}]},  # In needs values
    {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["1"]}]},
    {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["1"]}]},
])
def test_invalid_selectors_are_rejected(selector: Any) -> None:
    assert parse_selector(selector) is None


_KEYS = st.sampled_from(["a", "b"])
_VALUES = st.sampled_from(["1", "2"])
_EXPR = st.one_of(
    st.builds(lambda k, vs: (k, "In", frozenset(vs)), _KEYS, st.sets(_VALUES, min_size=1)),
    st.builds(lambda k, vs: (k, "NotIn", frozenset(vs)), _KEYS, st.sets(_VALUES, min_size=1)),
    st.builds(lambda k: (k, "Exists", frozenset()), _KEYS),
    st.builds(lambda k: (k, "DoesNotExist", frozenset()), _KEYS),
)
_SELECTOR = st.builds(lambda ml, ex: LabelSelector(tuple(ml.items()), tuple(ex)),
                      st.dictionaries(_KEYS, _VALUES, max_size=2), st.lists(_EXPR, max_size=2))


@settings(max_examples=400)
@given(st.lists(_SELECTOR, max_size=4), st.dictionaries(_KEYS, _VALUES, max_size=2))
def test_selector_index_agrees_with_trying_every_selector(selectors: list[LabelSelector],
                                                          labels: dict[str, str]) -> None:
    index = SelectorIndex()
    for s in selectors:
        index.add(s)
    assert index.matches_any(labels) == any(s.matches(labels) for s in selectors)


# --- k8s.duplicate-resource -------------------------------------------------------------------


def test_later_duplicates_name_the_first_definition() -> None:
    first = deployment("web", "prod", file="a.yaml", line=1)
    second = deployment("web", "prod", file="b.yaml", line=7)
    third = deployment("web", "prod", file="c.yaml")
    found = run("k8s.duplicate-resource", first, second, third)
    assert [(v.subject, v.path) for v in found] == [(second, ("metadata", "name")), (third, ("metadata", "name"))]
    assert all("a.yaml:1" in v.message for v in found)


def test_cluster_scoped_kinds_ignore_a_stray_namespace() -> None:
    a = make("ClusterRole", "reader", None, api_version=RBAC, file="a.yaml", line=3)
    b = make("ClusterRole", "reader", "kube-system", api_version=RBAC, file="b.yaml", line=1)
    assert [v.subject for v in run("k8s.duplicate-resource", a, b)] == [b]


@pytest.mark.parametrize("pair", [
    (deployment("web", "prod"), make("Service", "web", "prod")),  # different kinds
    (deployment("web", "prod"), deployment("web", "dev")),  # different namespaces
    (deployment("web", None), deployment("web", "default")),  # unspecified is not "default"
    (make("Certificate", "c", "n", api_version="cert-manager.io/v1"),
     make("Certificate", "c", "n", api_version="example.com/v1")),  # different API groups
])
def test_distinct_resources_are_not_duplicates(pair: tuple[K8sObject, K8sObject]) -> None:
    assert run("k8s.duplicate-resource", *pair) == []


def test_generate_name_and_nameless_objects_are_never_duplicates() -> None:
    a = K8sObject(data={"kind": "Job", "metadata": {"generateName": "run-"}}, file="t.yaml")
    b = K8sObject(data={"kind": "Job", "metadata": {"generateName": "run-"}}, file="t.yaml")
    c = K8sObject(data={"kind": "Job", "metadata": "x"}, file="t.yaml")
    assert run("k8s.duplicate-resource", a, b, c, c) == []


def test_api_versions_of_one_group_are_the_same_resource() -> None:
    a = make("HorizontalPodAutoscaler", "h", "n", api_version="autoscaling/v1")
    b = make("HorizontalPodAutoscaler", "h", "n", api_version="autoscaling/v2")
    assert [v.subject for v in run("k8s.duplicate-resource", a, b)] == [b]


# --- rbac.binding-missing-role ----------------------------------------------------------------


def rolebinding(name: str, namespace: str | None, role_kind: str, role_name: str,
                kind: str = "RoleBinding") -> K8sObject:
    return make(kind, name, namespace, api_version=RBAC,
                roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
                subjects=[{"kind": "User", "name": "u"}])


def test_rolebinding_must_find_its_role_in_its_own_namespace() -> None:
    objs = (make("Role", "reader", "a", api_version=RBAC),
            rolebinding("ok", "a", "Role", "reader"),
            rolebinding("other-ns", "b", "Role", "reader"),
            rolebinding("typo", "a", "Role", "raeder"))
    found = run("rbac.binding-missing-role", *objs)
    assert [(v.subject.name, v.path) for v in found] == [("other-ns", ("roleRef", "name")),
                                                       ("typo", ("roleRef", "name"))]
    assert 'namespace "a"' in found[0].message and "own namespace" in found[0].message
    assert "exists in" not in found[1].message


def test_bindings_to_roles_defined_elsewhere_are_not_reported() -> None:
    assert run("rbac.binding-missing-role", rolebinding("b", "a", "Role", "external")) == []
    crb = rolebinding("c", None, "ClusterRole", "external", kind="ClusterRoleBinding")
    assert run("rbac.binding-missing-role", crb, make("ClusterRole", "system:foo", api_version=RBAC)) == []


def test_cluster_role_bindings_when_the_set_defines_cluster_roles() -> None:
    objs = (make("ClusterRole", "mine", api_version=RBAC),
            rolebinding("builtin", None, "ClusterRole", "view", kind="ClusterRoleBinding"),
            rolebinding("system", None, "ClusterRole", "system:auth-delegator", kind="ClusterRoleBinding"),
            rolebinding("found", None, "ClusterRole", "mine", kind="ClusterRoleBinding"),
            rolebinding("missing", "ns", "ClusterRole", "mien"))
    assert where("rbac.binding-missing-role", *objs) == [("RoleBinding/missing", ("roleRef", "name"))]


# --- service.selector-no-match ----------------------------------------------------------------


def service(name: str, namespace: str | None, selector: Any, **spec: Any) -> K8sObject:
    return make("Service", name, namespace, spec={"selector": selector, **spec})


def test_service_selector_must_match_a_pod_template() -> None:
    objs = (deployment("web", "prod", {"app": "web", "tier": "fe"}),
            deployment("db", "prod", {"app": "db", "tier": "be"}),
            service("web", "prod", {"app": "web"}),
            service("both", "prod", {"app": "web", "tier": "fe"}),
            service("mixed", "prod", {"app": "web", "tier": "be"}))
    found = run("service.selector-no-match", *objs)
    assert [(v.subject.name, v.path) for v in found] == [("mixed", ("spec", "selector"))]
    assert "app=web, tier=be" in found[0].message and "2 workload(s)" in found[0].message


@pytest.mark.parametrize("svc", [
    service("s", "other", {"app": "x"}),  # no workloads in its namespace
    service("s", "prod", {}),  # no selector: hand-managed endpoints
    service("s", "prod", {"app": "x"}, type="ExternalName"),
    service("s", "prod", "app=x"),
])
def test_service_near_misses(svc: K8sObject) -> None:
    assert run("service.selector-no-match", deployment("web", "prod", {"app": "web"}), svc) == []


# --- all set rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("rule_id", sorted(BY_ID))
def test_set_rules_survive_wrongly_typed_objects(rule_id: str) -> None:
    junk = [K8sObject(data=d, file="t.yaml") for d in (
        {}, {"kind": 3}, {"kind": "Deployment", "metadata": {"namespace": 5}, "spec": "x"},
        {"kind": "NetworkPolicy", "metadata": {"namespace": "n"}, "spec": {"podSelector": [1]}},
        {"kind": "Service", "metadata": {"namespace": "n"}, "spec": {"selector": {"a": None}}},
        {"kind": "RoleBinding", "apiVersion": RBAC, "roleRef": {"kind": "Role", "name": 1}},
        {"kind": "Role", "apiVersion": RBAC, "metadata": {"name": ["x"]}},
        {"kind": "Pod", "metadata": {"namespace": "n", "labels": "x"}, "spec": {}},
    )]
    list(BY_ID[rule_id].check(ObjectIndex(junk), RuleContext()))


def test_set_rule_metadata() -> None:
    for r in RULES:
        assert r.target is Target.K8S_SET and r.description and r.remediation and r.kinds


# --- scale: a generated set of 4,000+ objects -------------------------------------------------


def generated_set() -> list[K8sObject]:
    """100 namespaces of 20 Deployments; policies in the even ones; 1,000 Roles and 1,000 bindings."""
    objs: list[K8sObject] = []
    for n in range(100):
        ns = f"ns{n}"
        if n < 10:
            objs.append(make("Namespace", ns))
        for w in range(20):
            objs.append(deployment(f"w{w}", ns, {"app": f"w{w}"}, file=f"{ns}.yaml", line=w + 1))
        if n % 2 == 0:
            objs.append(netpol("first-ten", ns, {"matchExpressions": [
                {"key": "app", "operator": "In", "values": [f"w{i}" for i in range(10)]}]}))
    for r in range(1000):
        ns = f"ns{r % 100}"
        objs.append(make("Role", f"role{r}", ns, api_version=RBAC))
        target = f"missing{r}" if r % 10 == 0 else f"role{r}"
        objs.append(rolebinding(f"bind{r}", ns, "Role", target))
    objs.extend(deployment("w3", f"ns{n}", {"app": "w3"}, file="dup.yaml") for n in range(5))
    return objs


def test_generated_set_produces_exactly_the_expected_findings() -> None:
    index = ObjectIndex(generated_set())
    ctx = RuleContext()

    def names(rule_id: str) -> list[str]:
        out = []
        for v in BY_ID[rule_id].check(index, ctx):
            assert isinstance(v.subject, K8sObject)
            out.append(f"{v.subject.kind}/{v.subject.namespace or ''}/{v.subject.name}")
        return out

    odd = range(1, 100, 2)
    assert names("netpol.namespace-uncovered") == [
        f"Namespace//ns{n}" if n < 10 else f"Deployment/ns{n}/w0" for n in odd]
    even_uncovered = [f"Deployment/ns{n}/w{w}" for n in range(0, 100, 2) for w in range(10, 20)]
    assert len(even_uncovered) == 500
    assert names("netpol.pod-uncovered") == even_uncovered
    assert names("rbac.binding-missing-role") == [f"RoleBinding/ns{r % 100}/bind{r}" for r in range(0, 1000, 10)]
    assert names("k8s.duplicate-resource") == [f"Deployment/ns{n}/w3" for n in range(5)]
    assert names("service.selector-no-match") == []
