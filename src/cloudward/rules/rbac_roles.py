"""Checks of Roles and ClusterRoles for grants that are, or lead to, cluster-wide power.

Wildcards, reading secrets, exec into pods, escalate/bind/impersonate, creating
pods and the kubelet API through nodes/proxy: each check reads a role through
the matching engine in ``rbac_match`` and yields one finding per offending
entry, pointing at that entry. The rule metadata, and which checks report a
grant limited by ``resourceNames``, are in ``rules/rbac.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

from cloudward.core.model import Violation
from cloudward.core.rules import RuleContext
from cloudward.k8s.object import K8sObject
from cloudward.rules.rbac_match import (
    CLUSTER_ROLE_KINDS,
    RBAC_GROUP,
    PolicyRule,
    grants_by_entry,
    quote_list,
    role_rules,
    via,
)


def check_wildcard_verbs(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in role_rules(obj):
        for j, verb in rule.verbs:
            if verb == "*":
                yield Violation(f"rules[{rule.index}] grants every verb (\"*\") on {rule.describe_targets()}",
                                rule.at("verbs", j))


def check_wildcard_resources(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in role_rules(obj):
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


def check_secrets_read(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in role_rules(obj):
        if rule.resource_names or not rule.allows_group(""):
            continue
        entry = rule.resource_entry("secrets")
        verbs = rule.granted(_READ_VERBS)
        if entry is not None and verbs:
            j, spelled = entry
            yield Violation(f"rules[{rule.index}] grants {', '.join(verbs)} on secrets{via(spelled, 'secrets')}",
                            rule.at("resources", j))


_EXEC_TARGETS = (("", "pods", "exec"), ("", "pods", "attach"))


def check_pods_exec(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    # kubectl exec/attach authorize as "create" over SPDY and as "get" over WebSocket.
    for rule in role_rules(obj):
        verbs = rule.granted(("create", "get"))
        if not verbs:
            continue
        for j, spelled, subs in grants_by_entry(rule, _EXEC_TARGETS):
            yield Violation(f"rules[{rule.index}] grants {', '.join(verbs)} on {', '.join(subs)}"
                            f"{via(spelled, *subs)}: commands in any pod in scope", rule.at("resources", j))


_IMPERSONATE_TARGETS = (("", "users"), ("", "groups"), ("", "serviceaccounts"), ("authentication.k8s.io", "uids"))


def check_escalate_bind_impersonate(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in role_rules(obj):
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


_POD_CREATORS = tuple((group, resource, "") for group, resource in (
    ("", "pods"), ("", "replicationcontrollers"), ("apps", "deployments"), ("apps", "replicasets"),
    ("apps", "statefulsets"), ("apps", "daemonsets"), ("batch", "jobs"), ("batch", "cronjobs")))


def check_create_pods(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for rule in role_rules(obj):
        if rule.resource_names or not rule.granted(("create",)):
            continue
        for j, spelled, resources in grants_by_entry(rule, _POD_CREATORS):
            yield Violation(f"rules[{rule.index}] grants create on {', '.join(resources)}{via(spelled, *resources)}",
                            rule.at("resources", j))


_KUBELET_VERBS = ("get", "create", "update", "patch", "delete")


def check_node_proxy(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if obj.kind not in CLUSTER_ROLE_KINDS:  # nodes are cluster-scoped: a namespaced Role's grant on them is void
        return
    for rule in role_rules(obj):
        if not rule.allows_group(""):
            continue
        entry = rule.resource_entry("nodes", "proxy")
        verbs = rule.granted(_KUBELET_VERBS)
        if entry is not None and verbs:
            j, spelled = entry
            yield Violation(f"rules[{rule.index}] grants {', '.join(verbs)} on nodes/proxy{via(spelled, 'nodes/proxy')}"
                            ": direct kubelet API access, including exec in every pod of the node",
                            rule.at("resources", j))
