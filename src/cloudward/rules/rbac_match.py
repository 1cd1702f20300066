"""How the RBAC rules read a role: PolicyRule matching as the Kubernetes RBAC authorizer does it.

Permissions are evaluated the way the authorizer matches a request against a
PolicyRule, so a grant is found whether it is spelled out or reached through a
wildcard:

- API groups: ``"*"`` matches every group; ``""`` is the core group (pods,
  secrets, nodes, serviceaccounts live there). A rule without ``apiGroups`` is
  rejected by the API server and grants nothing here.
- resources: ``"*"`` matches every resource and subresource; ``"pods/exec"``
  matches only that subresource (``"pods"`` does not cover ``pods/exec``);
  ``"*/exec"`` matches the ``exec`` subresource of every resource.
- verbs: ``"*"`` matches every verb, including ``escalate``, ``bind`` and
  ``impersonate``.
- resourceNames: the authorizer compares them with the name of the object a
  request is about. ``create`` and ``deletecollection`` requests carry no
  object name, so a rule limited by ``resourceNames`` never grants those two
  verbs (:meth:`PolicyRule.granted_by_name`). Which rules still report a grant
  limited by name is a per-rule decision, documented in ``rules/rbac.py``.

Everything here is shared by the ``rbac_*`` rule modules and holds no rule of
its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from cloudward.core.jsonpath import JsonPath
from cloudward.k8s.index import api_group
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import as_list

RBAC_GROUP = "rbac.authorization.k8s.io"
ROLE_KINDS = frozenset({"Role", "ClusterRole"})
BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})
#: The roles that can grant cluster-scoped resources: a Role, even bound by a RoleBinding, cannot.
CLUSTER_ROLE_KINDS = frozenset({"ClusterRole"})

#: Verbs whose requests name no object, so ``resourceNames`` can never grant them.
NAMELESS_VERBS = frozenset({"create", "deletecollection"})

#: A list entry of a PolicyRule: its index in the list and its string value.
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
        """Which of ``verbs`` this rule grants (all of them under ``"*"``), ignoring ``resourceNames``."""
        own = {v for _, v in self.verbs}
        return [v for v in verbs if "*" in own or v in own]

    def granted_by_name(self, verbs: Iterable[str]) -> list[str]:
        """Which of ``verbs`` this rule really grants once ``resourceNames`` is taken into account.

        With ``resourceNames`` the nameless verbs (create, deletecollection) are never granted.
        """
        granted = self.granted(verbs)
        return [v for v in granted if v not in NAMELESS_VERBS] if self.resource_names else granted

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


def is_rbac(obj: K8sObject, kinds: frozenset[str]) -> bool:
    """Only RBAC objects: a CRD that happens to be called ``Role`` is not one."""
    return obj.kind in kinds and api_group(obj) in (RBAC_GROUP, "")


def role_rules(obj: K8sObject, kinds: frozenset[str] = ROLE_KINDS) -> Iterator[PolicyRule]:
    """The PolicyRules of a Role or ClusterRole (of ``kinds``); nothing for any other object.

    Aggregated ClusterRoles (``aggregationRule`` with empty ``rules``) carry no
    rules of their own; their permissions are those of the roles they
    aggregate, which are checked on their own.
    """
    if is_rbac(obj, kinds):
        yield from policy_rules(obj.data)


def grants_by_entry(rule: PolicyRule, targets: Iterable[tuple[str, str, str]]) -> list[tuple[int, str, list[str]]]:
    """Which ``(group, resource, subresource)`` targets each ``resources[j]`` entry of ``rule`` grants.

    One item per granting entry, in entry order: ``(j, spelled, ["resource[/sub]", ...])``.
    A ``"*"`` entry that covers several targets is one item, so a finding per
    item is one finding per offending entry.
    """
    found: dict[int, tuple[str, list[str]]] = {}
    for group, resource, sub in targets:
        entry = rule.resource_entry(resource, sub) if rule.allows_group(group) else None
        if entry is not None:
            found.setdefault(entry[0], (entry[1], []))[1].append(f"{resource}/{sub}" if sub else resource)
    return [(j, spelled, meant) for j, (spelled, meant) in sorted(found.items())]


def via(spelled: str, *meant: str) -> str:
    """`` (via resources '*')`` when the entry that grants ``meant`` is a wildcard, else nothing."""
    return "" if spelled in meant else f" (via resources {spelled!r})"
