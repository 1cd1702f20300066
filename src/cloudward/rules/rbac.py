"""RBAC rules on single Role, ClusterRole, RoleBinding and ClusterRoleBinding objects.

Permissions are evaluated the way the Kubernetes RBAC authorizer matches a
request against a PolicyRule, so a grant is found whether it is spelled out or
reached through a wildcard:

- API groups: ``"*"`` matches every group; ``""`` is the core group (pods,
  secrets, nodes, serviceaccounts live there). A rule without ``apiGroups`` is
  rejected by the API server and grants nothing here.
- resources: ``"*"`` matches every resource and subresource; ``"pods/exec"``
  matches only that subresource (``"pods"`` does not cover ``pods/exec``);
  ``"*/exec"`` matches the ``exec`` subresource of every resource.
- verbs: ``"*"`` matches every verb, including ``escalate``, ``bind`` and
  ``impersonate``.

``resourceNames`` (a grant limited to named objects) is the least-privilege
form Kubernetes documents, and it changes what some grants mean:

- ``create`` can never be limited by name (the name is unknown when the
  request is authorized), so a create grant with ``resourceNames`` grants
  nothing; rbac.create-pods ignores such entries.
- rbac.secrets-read and the escalate/bind part of
  rbac.escalate-bind-impersonate do not report entries limited by name: reading
  named secrets, or binding named roles, is the recommended scoped form.
- rbac.pods-exec, rbac.node-proxy and impersonation are reported regardless:
  exec into a named pod, the kubelet API of a named node, or impersonating a
  named identity still yields that pod's, node's or identity's full power.

Aggregated ClusterRoles (``aggregationRule`` with empty ``rules``) carry no
rules of their own; their permissions are those of the roles they aggregate,
which are checked on their own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.index import api_group
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import as_dict, as_list

RBAC_GROUP = "rbac.authorization.k8s.io"
ROLE_KINDS = frozenset({"Role", "ClusterRole"})
BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})

_DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/rbac/"
_GOOD_PRACTICES = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
_NSA_RBAC = ("Authentication and authorization: Role-based access control",)
_NIST_ADMIN = ("4.3.1",)


Entry = tuple[int, str]


def _strings(value: Any) -> tuple[Entry, ...]:
    return tuple((j, v) for j, v in enumerate(as_list(value)) if isinstance(v, str))


def quote_list(values: Iterable[str]) -> str:
    text = ", ".join(f'"{v}"' for v in values)
    return text or "(none)"


@dataclasses.dataclass(frozen=True, slots=True)
class PolicyRule:
    """One ``rules[i]`` entry of a role, with each list's string entries and their indexes."""

    index: int
    verbs: tuple[Entry, ...]
    api_groups: tuple[Entry, ...]
    resources: tuple[Entry, ...]
    non_resource_urls: tuple[Entry, ...]
    resource_names: tuple[Entry, ...]

    def at(self, field: str, j: int) -> JsonPath:
        return ("rules", self.index, field, j)

    def allows_group(self, group: str) -> bool:
        return any(g == "*" or g == group for _, g in self.api_groups)

    def resource_entry(self, resource: str, sub: str = "") -> Entry | None:
        """The entry that grants ``resource[/sub]``; an exact spelling wins over a wildcard."""
        combined = f"{resource}/{sub}" if sub else resource
        for wanted in (combined, f"*/{sub}" if sub else None, "*"):
            for j, r in self.resources:
                if r == wanted:
                    return j, r
        return None

    def granted(self, verbs: Iterable[str]) -> list[str]:
        """Which of ``verbs`` this rule grants (all of them under ``"*"``)."""
        own = {v for _, v in self.verbs}
        return [v for v in verbs if "*" in own or v in own]

    def describe_targets(self) -> str:
        if self.non_resource_urls and not self.resources:
            return f"non-resource URLs {quote_list(u for _, u in self.non_resource_urls)}"
        groups = quote_list(g for _, g in self.api_groups)
        return f"resources {quote_list(r for _, r in self.resources)} in API groups {groups}"


def policy_rules(data: dict[str, Any]) -> Iterator[PolicyRule]:
    for i, rule in enumerate(as_list(data.get("rules"))):
        if isinstance(rule, dict):
            yield PolicyRule(i, _strings(rule.get("verbs")), _strings(rule.get("apiGroups")),
                             _strings(rule.get("resources")), _strings(rule.get("nonResourceURLs")),
                             _strings(rule.get("resourceNames")))


def _is_rbac(obj: K8sObject, kinds: frozenset[str]) -> bool:
    """Only RBAC objects: a CRD that happens to be called ``Role`` is not one."""
    return obj.kind in kinds and api_group(obj) in (RBAC_GROUP, "")


def _rules_of(obj: K8sObject) -> Iterator[PolicyRule]:
    if _is_rbac(obj, ROLE_KINDS):
        yield from policy_rules(obj.data)


# --- roles -------------------------------------------------------------------------------------


def _check_wildcard_verbs(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in _rules_of(obj):
        for j, verb in rule.verbs:
            if verb == "*":
                yield Violation(f"rules[{rule.index}] grants every verb (\"*\") on {rule.describe_targets()}",
                                rule.at("verbs", j))


def _check_wildcard_resources(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in _rules_of(obj):
        star_resource = next((j for j, r in rule.resources if r == "*"), None)
        star_group = next((j for j, g in rule.api_groups if g == "*"), None)
        star_url = next((j for j, u in rule.non_resource_urls if u == "*"), None)
        verbs = quote_list(v for _, v in rule.verbs)
        if star_resource is not None:
            groups = quote_list(g for _, g in rule.api_groups)
            yield Violation(f"rules[{rule.index}] grants verbs {verbs} on every resource (\"*\") "
                            f"in API groups {groups}",
                            rule.at("resources", star_resource))
        elif star_group is not None:
            resources = quote_list(r for _, r in rule.resources)
            yield Violation(f"rules[{rule.index}] grants verbs {verbs} on {resources} in every API group (\"*\")",
                            rule.at("apiGroups", star_group))
        elif star_url is not None:
            yield Violation(f"rules[{rule.index}] grants verbs {verbs} on every non-resource URL (\"*\")",
                            rule.at("nonResourceURLs", star_url))


_READ_VERBS = ("get", "list", "watch")


def _check_secrets_read(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in _rules_of(obj):
        if rule.resource_names or not rule.allows_group(""):
            continue
        entry = rule.resource_entry("secrets")
        verbs = rule.granted(_READ_VERBS)
        if entry is not None and verbs:
            j, spelled = entry
            yield Violation(f"rules[{rule.index}] grants {', '.join(verbs)} on secrets{_via(spelled, 'secrets')}",
                            rule.at("resources", j))


def _check_pods_exec(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    # kubectl exec/attach authorize as "create" over SPDY and as "get" over WebSocket.
    for rule in _rules_of(obj):
        if not rule.allows_group(""):
            continue
        verbs = rule.granted(("create", "get"))
        if not verbs:
            continue
        found: dict[int, tuple[str, list[str]]] = {}
        for sub in ("exec", "attach"):
            entry = rule.resource_entry("pods", sub)
            if entry is not None:
                found.setdefault(entry[0], (entry[1], []))[1].append(f"pods/{sub}")
        for j, (spelled, subs) in sorted(found.items()):
            yield Violation(f"rules[{rule.index}] grants {', '.join(verbs)} on {', '.join(subs)}"
                            f"{_via(spelled, *subs)}: commands in any pod in scope", rule.at("resources", j))


_IMPERSONATE_TARGETS = (("", "users"), ("", "groups"), ("", "serviceaccounts"), ("authentication.k8s.io", "uids"))


def _check_escalate_bind_impersonate(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in _rules_of(obj):
        for j, verb in rule.verbs:
            if verb in ("escalate", "bind") and not rule.resource_names:
                yield Violation(f"rules[{rule.index}] grants verb {verb!r} on {rule.describe_targets()}",
                                rule.at("verbs", j))
            elif verb == "impersonate":
                yield Violation(f"rules[{rule.index}] grants verb 'impersonate' on {rule.describe_targets()}",
                                rule.at("verbs", j))
            elif verb == "*":
                powers = _wildcard_powers(rule)
                if powers:
                    yield Violation(f"rules[{rule.index}] grants every verb (\"*\"), which includes "
                                    f"{' and '.join(powers)}", rule.at("verbs", j))


def _wildcard_powers(rule: PolicyRule) -> list[str]:
    powers = []
    if not rule.resource_names and rule.allows_group(RBAC_GROUP) and (
            rule.resource_entry("roles") or rule.resource_entry("clusterroles")):
        powers.append("escalate/bind on roles")
    targets = [r for g, r in _IMPERSONATE_TARGETS if rule.allows_group(g) and rule.resource_entry(r)]
    if targets:
        powers.append(f"impersonate on {', '.join(targets)}")
    return powers


_POD_CREATORS = (("", "pods"), ("", "replicationcontrollers"), ("apps", "deployments"), ("apps", "replicasets"),
                 ("apps", "statefulsets"), ("apps", "daemonsets"), ("batch", "jobs"), ("batch", "cronjobs"))


def _check_create_pods(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in _rules_of(obj):
        if rule.resource_names or not rule.granted(("create",)):
            continue
        found: dict[int, tuple[str, list[str]]] = {}
        for group, resource in _POD_CREATORS:
            entry = rule.resource_entry(resource) if rule.allows_group(group) else None
            if entry is not None:
                found.setdefault(entry[0], (entry[1], []))[1].append(resource)
        for j, (spelled, resources) in sorted(found.items()):
            via = _via(spelled, *resources)
            yield Violation(f"rules[{rule.index}] grants create on {', '.join(resources)}{via}",
                            rule.at("resources", j))


_KUBELET_VERBS = ("get", "create", "update", "patch", "delete")


def _check_node_proxy(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in _rules_of(obj):
        if not rule.allows_group(""):
            continue
        entry = rule.resource_entry("nodes", "proxy")
        verbs = rule.granted(_KUBELET_VERBS)
        if entry is not None and verbs:
            j, spelled = entry
            via = _via(spelled, "nodes/proxy")
            yield Violation(f"rules[{rule.index}] grants {', '.join(verbs)} on nodes/proxy{via}: direct kubelet API "
                            "access, including exec in every pod of the node",
                            rule.at("resources", j))


def _via(spelled: str, *meant: str) -> str:
    return "" if spelled in meant else f" (via resources {spelled!r})"


# --- bindings ----------------------------------------------------------------------------------


def _subjects(obj: K8sObject) -> Iterator[tuple[int, dict[str, object]]]:
    for i, s in enumerate(as_list(obj.data.get("subjects"))):
        if isinstance(s, dict):
            yield i, s


def _subject_text(obj: K8sObject, subject: dict[str, object]) -> str:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or obj.namespace
        return f"ServiceAccount {ns}/{name}" if ns else f"ServiceAccount {name}"
    return f"{kind} {name}"


def _role_ref(obj: K8sObject) -> dict[str, object]:
    return as_dict(obj.data.get("roleRef"))


def _check_cluster_admin_binding(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if not _is_rbac(obj, BINDING_KINDS):
        return
    ref = _role_ref(obj)
    if ref.get("kind") != "ClusterRole" or ref.get("name") != "cluster-admin":
        return
    # Members of system:masters bypass authorization altogether; binding them adds nothing
    # (the cluster's own bootstrap binding does exactly this).
    granted = [_subject_text(obj, s) for _, s in _subjects(obj)
               if not (s.get("kind") == "Group" and s.get("name") == "system:masters")]
    if granted:
        scope = f"in namespace {obj.namespace}" if obj.kind == "RoleBinding" and obj.namespace else (
            "in its namespace" if obj.kind == "RoleBinding" else "cluster-wide")
        yield Violation(f"roleRef grants ClusterRole cluster-admin {scope} to {', '.join(granted)}",
                        ("roleRef", "name"))


def _check_default_sa_binding(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if not _is_rbac(obj, BINDING_KINDS):
        return
    ref = _role_ref(obj)
    for i, s in _subjects(obj):
        if s.get("kind") == "ServiceAccount" and s.get("name") == "default":
            yield Violation(f"subjects[{i}] is the {_subject_text(obj, s)} account, which every pod of its "
                            f"namespace uses unless told otherwise; it is bound to {ref.get('kind')} {ref.get('name')}",
                            ("subjects", i))


def _check_role_kind_mismatch(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if not _is_rbac(obj, BINDING_KINDS):
        return
    if "roleRef" not in obj.data or not isinstance(obj.data["roleRef"], dict):
        yield Violation(f"{obj.kind} has no roleRef mapping; the API server rejects it", ("roleRef",))
        return
    ref = obj.data["roleRef"]
    kind, group = ref.get("kind"), ref.get("apiGroup")
    allowed = ("ClusterRole",) if obj.kind == "ClusterRoleBinding" else ("Role", "ClusterRole")
    if kind not in allowed:
        yield Violation(f"{obj.kind} roleRef.kind is {kind!r}; it must be {' or '.join(allowed)}",
                        ("roleRef", "kind"))
    if group != RBAC_GROUP:
        yield Violation(f"roleRef.apiGroup is {group!r}; it must be {RBAC_GROUP!r}", ("roleRef", "apiGroup"))


# --- metadata ----------------------------------------------------------------------------------


def _role_rule(rule_id: str, title: str, severity: Severity,
               check: Callable[[K8sObject, RuleContext], Iterator[Violation]], description: str, remediation: str,
               controls: Controls, kinds: frozenset[str] = ROLE_KINDS) -> Rule:
    return Rule(id=rule_id, title=title, severity=severity, target=Target.K8S_OBJECT, check=check,
                description=description, remediation=remediation, kinds=kinds,
                references=(_DOCS, _GOOD_PRACTICES), controls=controls)


RULES: tuple[Rule, ...] = (
    _role_rule(
        "rbac.wildcard-verbs", "Role grants every verb", Severity.HIGH, _check_wildcard_verbs,
        "A verb \"*\" grants every current and future verb, including escalate, bind, impersonate and "
        "deletecollection, far beyond what a workload or person needs.",
        "List the verbs actually needed (for read access: get, list, watch).",
        Controls(cis=("5.1.3",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN)),
    _role_rule(
        "rbac.wildcard-resources", "Role grants every resource or API group", Severity.HIGH, _check_wildcard_resources,
        "resources \"*\" covers every resource and subresource (secrets, pods/exec, nodes/proxy, roles, and any "
        "custom resource installed later); apiGroups \"*\" or nonResourceURLs \"*\" widen a grant the same way.",
        "Name the API groups, resources and non-resource URLs the subject needs.",
        Controls(cis=("5.1.3",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN)),
    _role_rule(
        "rbac.secrets-read", "Role can read Secrets", Severity.HIGH, _check_secrets_read,
        "get, list or watch on secrets reveals secret values; list and watch return the contents of every "
        "secret in scope, including service account tokens that carry further privileges.",
        "Remove read access to secrets, or limit it to the named secrets needed with resourceNames and get.",
        Controls(cis=("5.1.2",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1552.007",))),
    _role_rule(
        "rbac.pods-exec", "Role can exec into or attach to pods", Severity.HIGH, _check_pods_exec,
        "create (SPDY) or get (WebSocket) on pods/exec or pods/attach runs commands inside running containers, "
        "with their service account tokens, secrets and network access.",
        "Remove pods/exec and pods/attach from the role; use a break-glass role bound only when needed.",
        Controls(nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1609",))),
    _role_rule(
        "rbac.escalate-bind-impersonate", "Role can escalate, bind or impersonate", Severity.HIGH,
        _check_escalate_bind_impersonate,
        "escalate lets a subject grant roles more rights than it holds, bind lets it bind any role to anyone, "
        "and impersonate lets it act as another user, group or service account: each is a path to cluster-admin.",
        "Remove these verbs; where bind or escalate is truly needed, limit it to named roles with resourceNames.",
        Controls(cis=("5.1.8",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1098.006",))),
    _role_rule(
        "rbac.create-pods", "Role can create pods or pod controllers", Severity.MEDIUM, _check_create_pods,
        "Whoever can create a pod (directly or through a Deployment, Job or other controller) can mount any "
        "service account and secret of the namespace into it, and so gains their permissions.",
        "Limit create on pods and workload controllers to deployment tooling; enforce Pod Security admission.",
        Controls(cis=("5.1.4",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1610",))),
    _role_rule(
        "rbac.node-proxy", "Role can reach the kubelet API through nodes/proxy", Severity.HIGH, _check_node_proxy,
        "nodes/proxy forwards requests to the kubelet API, which can run commands in every container on the "
        "node; requests through it bypass admission control and most audit logging.",
        "Remove nodes/proxy; monitoring agents usually need only nodes/metrics or nodes/stats.",
        Controls(cis=("5.1.10",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1609",))),
    _role_rule(
        "rbac.cluster-admin-binding", "Binding grants cluster-admin", Severity.HIGH, _check_cluster_admin_binding,
        "cluster-admin allows every action on every resource; bound by a RoleBinding it still grants full "
        "control of the namespace, secrets and roles included. Bindings of the system:masters group are not "
        "reported: that group bypasses authorization anyway and the cluster creates this binding itself.",
        "Bind a role with only the permissions needed; keep cluster-admin for break-glass accounts.",
        Controls(cis=("5.1.1",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1098.006",)),
        kinds=BINDING_KINDS),
    _role_rule(
        "rbac.default-sa-binding", "Binding grants permissions to a default service account", Severity.MEDIUM,
        _check_default_sa_binding,
        "Every pod that does not name a service account runs as its namespace's \"default\" one, so a role "
        "bound to it is given to all of them.",
        "Create a dedicated service account for the workload that needs the role and bind that instead.",
        Controls(cis=("5.1.5",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN), kinds=BINDING_KINDS),
    _role_rule(
        "rbac.binding-role-kind-mismatch", "Binding refers to a role it cannot refer to", Severity.LOW,
        _check_role_kind_mismatch,
        "A ClusterRoleBinding can only refer to a ClusterRole, a RoleBinding to a Role or ClusterRole, both in "
        "the rbac.authorization.k8s.io group; anything else is rejected, so the intended grant (or restriction) "
        "never takes effect.",
        "Fix roleRef.kind and roleRef.apiGroup, or use a RoleBinding to grant a namespaced Role.",
        Controls(), kinds=BINDING_KINDS),
)
