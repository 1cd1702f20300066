"""Checks of Roles and ClusterRoles for write access to objects that steer other workloads.

Admission webhook configurations decide which service sees, and may change,
every object admitted to the cluster; ConfigMaps hold the configuration that
workloads and controllers load; Services, Endpoints, EndpointSlices, Ingresses
and NetworkPolicies decide where traffic goes and which pods may talk. Write
access to any of them reaches far beyond the subject that holds it.

"Write" is create, update, patch, delete or deletecollection (or ``"*"``),
matched with the engine in ``rbac_match`` (wildcards in groups, resources and
verbs count). Each check yields one finding per ``resources[j]`` entry that
grants a target, pointing at that entry. Whether a grant limited by
``resourceNames`` is reported differs per rule and is documented in
``rules/rbac.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from cloudward.core.model import Violation
from cloudward.core.rules import RuleContext
from cloudward.k8s.object import K8sObject
from cloudward.rules.rbac_match import CLUSTER_ROLE_KINDS, ROLE_KINDS, grants_by_entry, quote_list, role_rules, via

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")

#: (API group, resource, subresource) triples each check looks for.
Targets = tuple[tuple[str, str, str], ...]

WEBHOOK_TARGETS: Targets = (
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", ""),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations", ""),
)
CONFIGMAP_TARGETS: Targets = (("", "configmaps", ""),)
NETWORKING_TARGETS: Targets = (
    ("", "services", ""),
    ("", "endpoints", ""),
    ("discovery.k8s.io", "endpointslices", ""),
    ("networking.k8s.io", "networkpolicies", ""),
    ("networking.k8s.io", "ingresses", ""),
)


def _write_grants(obj: K8sObject, targets: Targets, effects: Mapping[str, str], *, named: bool,
                  kinds: frozenset[str] = ROLE_KINDS) -> Iterator[Violation]:
    """Findings for write grants on ``targets``; ``named``: also report grants limited by resourceNames.

    ``effects`` says, per resource, what writing it allows; a finding names the effects of the resources its
    entry grants, each once.
    """
    for rule in role_rules(obj, kinds):
        if rule.resource_names and not named:
            continue
        verbs = rule.granted_by_name(WRITE_VERBS)
        if not verbs:
            continue
        names = f" named {quote_list(n for _, n in rule.resource_names)}" if rule.resource_names else ""
        for j, spelled, resources in grants_by_entry(rule, targets):
            effect = " and ".join(dict.fromkeys(effects[r] for r in resources))
            yield Violation(f"rules[{rule.index}] grants {', '.join(verbs)} on {', '.join(resources)}{names}"
                            f"{via(spelled, *resources)}: {effect}", rule.at("resources", j))


_WEBHOOK_EFFECT = "admission webhooks see every object they register for, and mutating ones can change it"
_WEBHOOK_EFFECTS = dict.fromkeys(("mutatingwebhookconfigurations", "validatingwebhookconfigurations"), _WEBHOOK_EFFECT)
_CONFIGMAP_EFFECTS = {"configmaps": "can change the configuration that workloads and controllers in scope load"}
_TRAFFIC_EFFECT = "can redirect traffic meant for other pods"
_NETWORKING_EFFECTS = {
    **dict.fromkeys(("services", "endpoints", "endpointslices", "ingresses"), _TRAFFIC_EFFECT),
    "networkpolicies": "can lift network isolation",
}


def check_manage_webhooks(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    # A named webhook configuration can still be rewritten to match every object and call any URL.
    # Webhook configurations are cluster-scoped, so only a ClusterRole can grant them.
    yield from _write_grants(obj, WEBHOOK_TARGETS, _WEBHOOK_EFFECTS, named=True, kinds=CLUSTER_ROLE_KINDS)


def check_manage_configmaps(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    # Writing named ConfigMaps (a leader-election lock, a controller's own state) is the scoped form.
    yield from _write_grants(obj, CONFIGMAP_TARGETS, _CONFIGMAP_EFFECTS, named=False)


def check_manage_networking(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    # A named Service or NetworkPolicy can still be re-pointed or opened up.
    yield from _write_grants(obj, NETWORKING_TARGETS, _NETWORKING_EFFECTS, named=True)
