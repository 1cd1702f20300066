"""Rules that look across the objects of one scan: coverage, duplicates, dangling references.

Every check here reads an ``ObjectIndex`` and runs in time linear in the number
of objects (plus the size of the candidate sets a selector index returns):
nothing compares every object with every other.

Namespaces: an object without ``metadata.namespace`` lands in the namespace
``kubectl`` targets when applied, which a scan of files cannot know. These
rules treat "unspecified" as a namespace of its own: workloads without a
namespace are covered by NetworkPolicies without one, a RoleBinding without a
namespace finds a Role without one, and so on. They never equate it with
``"default"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.index import CLUSTER_SCOPED_KINDS, Namespace, ObjectIndex, api_group
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, as_dict, pod_spec

#: Kinds that run pods; a PodTemplate only describes one.
RUNNING_KINDS: frozenset[str] = WORKLOAD_KINDS - {"PodTemplate"}
#: Namespaced policy kinds of the common enforcement engines (Kubernetes, Calico, Cilium).
NAMESPACED_POLICY_KINDS = ("NetworkPolicy", "CiliumNetworkPolicy")
#: Cluster-wide policy kinds whose namespace selectors this scanner does not evaluate; when
#: any is present, coverage is unknown and the NetworkPolicy rules stay silent.
CLUSTER_POLICY_KINDS = ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "GlobalNetworkPolicy",
                        "CiliumClusterwideNetworkPolicy")
_NETWORKING_GROUP = "networking.k8s.io"
_RBAC_GROUP = "rbac.authorization.k8s.io"
#: ClusterRoles every cluster creates itself; bindings to them never dangle.
_BUILTIN_CLUSTER_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})

SetCheck = Callable[[ObjectIndex, RuleContext], Iterator[Violation]]


def _ns_text(namespace: Namespace) -> str:
    return f'namespace "{namespace}"' if namespace else "the unspecified namespace (no metadata.namespace)"


def _where(obj: K8sObject) -> str:
    return f"{obj.file}:{obj.line}" if obj.line is not None else obj.file


def _running(index: ObjectIndex) -> tuple[K8sObject, ...]:
    return index.of_kind(*RUNNING_KINDS)


# --- label selectors ---------------------------------------------------------------------------

Requirement = tuple[str, str, frozenset[str]]  # key, operator, values


@dataclasses.dataclass(frozen=True, slots=True)
class LabelSelector:
    """A metav1.LabelSelector: every matchLabels pair and every expression must hold."""

    match_labels: tuple[tuple[str, str], ...]
    expressions: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.match_labels):
            return False
        for key, op, values in self.expressions:
            present = key in labels
            if op == "In" and not (present and labels[key] in values):
                return False
            if op == "NotIn" and present and labels[key] in values:
                return False
            if op == "Exists" and not present:
                return False
            if op == "DoesNotExist" and present:
                return False
        return True


def parse_selector(value: Any) -> LabelSelector | None:
    """The selector, or ``None`` when it is malformed (the API server rejects it: it selects nothing).

    ``None`` (a missing selector) is the empty selector, which selects everything.
    """
    value = {} if value is None else value
    if not isinstance(value, dict):
        return None
    raw_labels = value.get("matchLabels") or {}
    raw_exprs = value.get("matchExpressions") or []
    if not isinstance(raw_labels, dict) or not isinstance(raw_exprs, list):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in raw_labels.items()):
        return None
    expressions: list[Requirement] = []
    for expr in raw_exprs:
        expr = as_dict(expr)
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if not isinstance(key, str) or not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return None
        if not ((op in ("In", "NotIn") and values) or (op in ("Exists", "DoesNotExist") and not values)):
            return None
        expressions.append((key, str(op), frozenset(values)))
    return LabelSelector(tuple(raw_labels.items()), tuple(expressions))


class SelectorIndex:
    """Selectors filed under one label they require, so a pod is tested only against candidates.

    A selector that requires a label pair (matchLabels, or In) or a key (Exists) is
    filed under it; only selectors made purely of NotIn/DoesNotExist must be tried
    on every pod. Built per check call; never shared between runs.
    """

    def __init__(self) -> None:
        self.count = 0
        self._select_all = False
        self._by_pair: dict[tuple[str, str], list[LabelSelector]] = {}
        self._by_key: dict[str, list[LabelSelector]] = {}
        self._unanchored: list[LabelSelector] = []

    def add(self, selector: LabelSelector | None) -> None:
        self.count += 1
        if selector is None:
            return
        if selector.match_labels:
            self._by_pair.setdefault(selector.match_labels[0], []).append(selector)
            return
        for key, op, values in selector.expressions:
            if op == "In":
                for v in values:
                    self._by_pair.setdefault((key, v), []).append(selector)
                return
        for key, op, _ in selector.expressions:
            if op == "Exists":
                self._by_key.setdefault(key, []).append(selector)
                return
        if selector.expressions:
            self._unanchored.append(selector)
        else:
            self._select_all = True

    def matches_any(self, labels: Mapping[str, str]) -> bool:
        if self._select_all or any(s.matches(labels) for s in self._unanchored):
            return True
        for key, value in labels.items():
            if any(s.matches(labels) for s in self._by_pair.get((key, value), ())):
                return True
            if any(s.matches(labels) for s in self._by_key.get(key, ())):
                return True
        return False


def string_labels(labels: Mapping[Any, Any]) -> dict[str, str]:
    """Labels with string keys and values; others are invalid and match nothing."""
    return {k: v for k, v in labels.items() if isinstance(k, str) and isinstance(v, str)}


def format_labels(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items())


# --- network policies --------------------------------------------------------------------------


def _check_namespace_uncovered(index: ObjectIndex, ctx: RuleContext) -> Iterator[Violation]:
    if index.has_kind(*CLUSTER_POLICY_KINDS):
        return
    covered = {p.namespace for p in index.of_kind(*NAMESPACED_POLICY_KINDS)}
    workloads: dict[Namespace, list[K8sObject]] = {}
    for obj in _running(index):
        if obj.namespace not in covered:
            workloads.setdefault(obj.namespace, []).append(obj)
    for namespace, objs in workloads.items():
        names = ", ".join(f"{o.kind}/{o.name}" for o in objs[:3]) + (", …" if len(objs) > 3 else "")
        message = (f"{_ns_text(namespace)} has {len(objs)} workload(s) ({names}) but no NetworkPolicy: "
                   "all traffic to and from its pods is allowed")
        ns_obj = index.get("Namespace", None, namespace) if namespace else None
        if ns_obj is not None:
            yield Violation(message, ("metadata", "name"), subject=ns_obj)
        else:
            first = objs[0]
            path = ("metadata", "namespace") if namespace else ("metadata",)
            yield Violation(message, path, subject=first)


def _check_pod_uncovered(index: ObjectIndex, ctx: RuleContext) -> Iterator[Violation]:
    if index.has_kind(*CLUSTER_POLICY_KINDS):
        return
    by_ns: dict[Namespace, SelectorIndex] = {}
    opaque: set[Namespace] = set()  # namespaces with policies whose selectors we cannot evaluate
    for policy in index.of_kind(*NAMESPACED_POLICY_KINDS):
        if policy.kind != "NetworkPolicy" or api_group(policy) not in (_NETWORKING_GROUP, ""):
            opaque.add(policy.namespace)
            continue
        spec = policy.data.get("spec")
        if not isinstance(spec, dict):
            continue  # rejected by the API server: it selects nothing
        # podSelector is required; a missing one decodes as the empty selector, which selects all.
        by_ns.setdefault(policy.namespace, SelectorIndex()).add(parse_selector(spec.get("podSelector", {})))
    for obj in _running(index):
        selectors = by_ns.get(obj.namespace)
        pod = pod_spec(obj)
        if selectors is None or obj.namespace in opaque or pod is None:
            continue
        labels = string_labels(pod.labels)
        if not selectors.matches_any(labels):
            has_labels = isinstance(pod.metadata.get("labels"), dict)
            path = (*pod.metadata_path, "labels") if has_labels else pod.metadata_path
            yield Violation(f"pod labels {{{format_labels(labels)}}} are selected by none of the "
                            f"{selectors.count} NetworkPolicies of {_ns_text(obj.namespace)}: its traffic is "
                            "unrestricted", path, subject=obj)


# --- identity and references -------------------------------------------------------------------


def _check_duplicate_resource(index: ObjectIndex, ctx: RuleContext) -> Iterator[Violation]:
    first_seen: dict[tuple[str, str, Namespace, str], K8sObject] = {}
    for obj in index:
        name = obj.metadata.get("name")
        if not obj.kind or not isinstance(name, str) or not name:
            continue  # generateName objects get unique names on creation
        namespace = None if obj.kind in CLUSTER_SCOPED_KINDS else obj.namespace
        first = first_seen.setdefault((api_group(obj), obj.kind, namespace, name), obj)
        if first is not obj:
            shown = f"{namespace}/{name}" if namespace else name
            yield Violation(f"{obj.kind} {shown} is already defined at {_where(first)}; applying both keeps only "
                            "the last definition, silently dropping the other's settings",
                            ("metadata", "name"), subject=obj)


def _check_binding_missing_role(index: ObjectIndex, ctx: RuleContext) -> Iterator[Violation]:
    cluster_roles = {o.name for o in index.of_kind("ClusterRole")}
    own_cluster_roles = any(not _builtin_cluster_role(n) for n in cluster_roles)
    role_namespaces: dict[str, list[Namespace]] = {}
    for role in index.of_kind("Role"):
        role_namespaces.setdefault(role.name, []).append(role.namespace)
    for binding in index.of_kind("RoleBinding", "ClusterRoleBinding"):
        if api_group(binding) not in (_RBAC_GROUP, ""):
            continue
        ref = as_dict(binding.data.get("roleRef"))
        kind, name = ref.get("kind"), ref.get("name")
        if not isinstance(name, str):
            continue
        if kind == "ClusterRole":
            # Only when the set defines its own ClusterRoles: otherwise the roles live elsewhere.
            if own_cluster_roles and name not in cluster_roles and not _builtin_cluster_role(name):
                yield Violation(f"roleRef names ClusterRole {name!r}, which is not defined in the scanned files: "
                                "the binding grants nothing now, and whatever a later role of that name grants",
                                ("roleRef", "name"), subject=binding)
        elif kind == "Role" and binding.kind == "RoleBinding" and role_namespaces:
            elsewhere = role_namespaces.get(name, [])
            if binding.namespace in elsewhere:
                continue
            hint = ""
            if elsewhere:
                hint = "; a Role of that name exists in " + ", ".join(_ns_text(n) for n in elsewhere) + \
                    ", but a RoleBinding can only refer to a Role of its own namespace"
            yield Violation(f"roleRef names Role {name!r}, which is not defined in {_ns_text(binding.namespace)}"
                            f"{hint}", ("roleRef", "name"), subject=binding)


def _builtin_cluster_role(name: str) -> bool:
    return name in _BUILTIN_CLUSTER_ROLES or name.startswith("system:")


def _check_service_selector(index: ObjectIndex, ctx: RuleContext) -> Iterator[Violation]:
    services = index.of_kind("Service")
    if not services:
        return
    pods_by_ns: dict[Namespace, dict[tuple[str, str], set[int]]] = {}
    counts: dict[Namespace, int] = {}
    for i, obj in enumerate(_running(index)):
        pod = pod_spec(obj)
        counts[obj.namespace] = counts.get(obj.namespace, 0) + 1
        pairs = pods_by_ns.setdefault(obj.namespace, {})
        for pair in string_labels(pod.labels if pod else {}).items():
            pairs.setdefault(pair, set()).add(i)
    for svc in services:
        spec = as_dict(svc.data.get("spec"))
        selector = spec.get("selector")
        if spec.get("type") == "ExternalName" or not isinstance(selector, dict) or not selector:
            continue  # no selector: endpoints are managed by hand
        if svc.namespace not in counts:
            continue  # the workloads live elsewhere
        wanted = string_labels(selector)
        if len(wanted) != len(selector):
            continue  # non-string values: rejected by the API server, reported by schema checks
        pairs = pods_by_ns[svc.namespace]
        candidates = sorted((pairs.get(p, set()) for p in wanted.items()), key=len)
        matched = set(candidates[0])
        for other in candidates[1:]:
            matched &= other
            if not matched:
                break
        if not matched:
            yield Violation(f"selector {{{format_labels(wanted)}}} matches no pod template of the "
                            f"{counts[svc.namespace]} workload(s) in {_ns_text(svc.namespace)}",
                            ("spec", "selector"), subject=svc)


# --- metadata ----------------------------------------------------------------------------------

_NETPOL_CONTROLS = Controls(cis=("5.3.2",), nsa=("Network separation and hardening: Network policies",),
                            nist_800_190=("4.3.3",))
_NO_CONTROLS = Controls()
_NETPOL_DOCS = ("https://kubernetes.io/docs/concepts/services-networking/network-policies/",)


def _set_rule(rule_id: str, title: str, severity: Severity, check: SetCheck, kinds: frozenset[str],
              description: str, remediation: str, controls: Controls = _NO_CONTROLS,
              references: tuple[str, ...] = ()) -> Rule:
    return Rule(id=rule_id, title=title, severity=severity, target=Target.K8S_SET, check=check,
                description=description, remediation=remediation, kinds=kinds, references=references,
                controls=controls)


_POLICY_KINDS = frozenset(NAMESPACED_POLICY_KINDS) | frozenset(CLUSTER_POLICY_KINDS)

RULES: tuple[Rule, ...] = (
    _set_rule(
        "netpol.namespace-uncovered", "Namespace has workloads but no NetworkPolicy", Severity.MEDIUM,
        _check_namespace_uncovered, RUNNING_KINDS | _POLICY_KINDS | {"Namespace"},
        "Without a NetworkPolicy every pod accepts traffic from, and sends traffic to, anything in the cluster, "
        "so one compromised pod can reach all others. Reported once per namespace, on its Namespace object when "
        "the scan contains it, otherwise on the namespace's first workload. Silent when the scan contains "
        "cluster-wide policies (AdminNetworkPolicy, Calico GlobalNetworkPolicy, Cilium clusterwide policies).",
        "Add a default-deny NetworkPolicy (podSelector: {}) to the namespace, then allow the flows it needs.",
        _NETPOL_CONTROLS, _NETPOL_DOCS),
    _set_rule(
        "netpol.pod-uncovered", "Workload is selected by no NetworkPolicy", Severity.LOW, _check_pod_uncovered,
        RUNNING_KINDS | _POLICY_KINDS,
        "The namespace has NetworkPolicies, but none selects this workload's pods (podSelector matchLabels and "
        "matchExpressions evaluated as Kubernetes does), so their traffic is unrestricted. Namespaces whose "
        "policies use other engines' selectors (Calico, Cilium) are not evaluated.",
        "Add a default-deny policy with podSelector: {} or extend a policy's podSelector to these pods.",
        _NETPOL_CONTROLS, _NETPOL_DOCS),
    _set_rule(
        "k8s.duplicate-resource", "Resource is defined more than once", Severity.MEDIUM, _check_duplicate_resource,
        frozenset({"*"}),
        "Two definitions with the same API group, kind, namespace and name overwrite each other when applied; "
        "whichever comes last wins, so hardening in the other is silently lost. Namespaces are compared as "
        "written (cluster-scoped kinds ignore them); objects using generateName are never duplicates.",
        "Remove or rename one of the definitions.",
    ),
    _set_rule(
        "rbac.binding-missing-role", "Binding refers to a role that is not defined", Severity.LOW,
        _check_binding_missing_role, frozenset({"RoleBinding", "ClusterRoleBinding", "Role", "ClusterRole"}),
        "A binding whose role does not exist grants nothing today and silently grants whatever a role created "
        "later under that name holds. Reported only when the scan defines roles of that kind itself (a Role for "
        "RoleBindings, a non-built-in ClusterRole for bindings to ClusterRoles); bindings to built-in "
        "ClusterRoles (cluster-admin, admin, edit, view, system:*) are never reported.",
        "Fix roleRef.name, or add the missing Role/ClusterRole, in the binding's namespace for a Role.",
        references=("https://kubernetes.io/docs/reference/access-authn-authz/rbac/",)),
    _set_rule(
        "service.selector-no-match", "Service selects no workload", Severity.LOW, _check_service_selector,
        frozenset({"Service"}) | RUNNING_KINDS,
        "A Service whose selector matches no pod template of the workloads in its namespace routes to nothing, "
        "or to whatever pod later carries those labels. Checked only when the scan contains workloads in the "
        "Service's namespace.",
        "Make spec.selector match the labels of the intended workload's pod template.",
        references=("https://kubernetes.io/docs/concepts/services-networking/service/",)),
)
