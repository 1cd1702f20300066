"""RBAC rules on write access to webhooks, ConfigMaps and networking objects: what is found, and where."""

from __future__ import annotations

from typing import Any

import pytest

from cloudward.core.severity import Severity
from tests.rules.test_rbac import BY_ID, paths, role, rule, violations

ADMISSION = "admissionregistration.k8s.io"
WRITES = "create, update, patch, delete, deletecollection"


# --- webhooks --------------------------------------------------------------------------------


def test_each_webhook_entry_is_reported_at_the_resource() -> None:
    obj = role(rule([ADMISSION], ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"], ["patch"]))
    assert paths("rbac.manage-webhooks", obj) == [("rules", 0, "resources", 0), ("rules", 0, "resources", 1)]


def test_star_resource_reports_both_webhook_kinds_once() -> None:
    [v] = violations("rbac.manage-webhooks", role(rule(["*"], ["pods", "*"], ["*"])))
    assert v.path == ("rules", 0, "resources", 1)
    assert v.message.startswith(f"rules[0] grants {WRITES} on mutatingwebhookconfigurations, "
                                "validatingwebhookconfigurations (via resources '*')")


def test_webhook_limited_by_name_is_still_reported_without_nameless_verbs() -> None:
    obj = role(rule([ADMISSION], ["validatingwebhookconfigurations"], ["create", "update"], resourceNames=["agent"]))
    [v] = violations("rbac.manage-webhooks", obj)
    assert v.path == ("rules", 0, "resources", 0)
    assert 'grants update on validatingwebhookconfigurations named "agent"' in v.message


@pytest.mark.parametrize("r", [
    rule([ADMISSION], ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"], ["get", "list", "watch"]),
    rule([ADMISSION], ["mutatingwebhookconfigurations"], ["create", "deletecollection"], resourceNames=["agent"]),
    rule([""], ["validatingwebhookconfigurations"], ["*"]),  # wrong API group
    rule(None, ["validatingwebhookconfigurations"], ["*"]),  # no apiGroups: grants nothing
    rule([ADMISSION], ["mutatingwebhookconfigurations"], ["impersonate"]),  # Trivy counts it; it grants nothing
    rule([ADMISSION], ["validatingadmissionpolicies", "validatingadmissionpolicybindings"], ["*"]),
])
def test_webhook_near_misses(r: dict[str, Any]) -> None:
    assert paths("rbac.manage-webhooks", role(r)) == []


def test_a_namespaced_role_cannot_grant_webhook_configurations() -> None:
    assert paths("rbac.manage-webhooks", role(rule(["*"], ["*"], ["*"]), kind="Role")) == []
    assert BY_ID["rbac.manage-webhooks"].kinds == {"ClusterRole"}


# --- configmaps ------------------------------------------------------------------------------


def test_configmap_write_is_reported_at_the_resource() -> None:
    [v] = violations("rbac.manage-configmaps", role(rule([""], ["pods", "configmaps"], ["get", "patch"]), kind="Role"))
    assert v.path == ("rules", 0, "resources", 1)
    assert v.message.startswith("rules[0] grants patch on configmaps: ")


def test_configmaps_through_wildcards_name_the_wildcard() -> None:
    [v] = violations("rbac.manage-configmaps", role(rule(["*"], ["*"], ["*"])))
    assert v.path == ("rules", 0, "resources", 0)
    assert f"grants {WRITES} on configmaps (via resources '*')" in v.message


def test_leader_election_create_is_reported_but_its_named_lock_is_not() -> None:
    obj = role(rule([""], ["configmaps"], ["create"]),
               rule([""], ["configmaps"], ["get", "update", "patch"], resourceNames=["lock"]), kind="Role")
    assert paths("rbac.manage-configmaps", obj) == [("rules", 0, "resources", 0)]


@pytest.mark.parametrize("r", [
    rule([""], ["configmaps"], ["get", "list", "watch"]),
    rule([""], ["configmaps"], ["*"], resourceNames=["settings"]),  # named ConfigMaps: the scoped form
    rule(["apps"], ["configmaps"], ["*"]),  # ConfigMaps live in the core group only
    rule([""], ["configmaps"], ["impersonate"]),
    rule([""], ["secrets", "services"], ["*"]),
])
def test_configmap_near_misses(r: dict[str, Any]) -> None:
    assert paths("rbac.manage-configmaps", role(r)) == []


# --- networking ------------------------------------------------------------------------------


@pytest.mark.parametrize(("group", "resource", "effect"), [
    ("", "services", "redirect traffic meant for other pods"),
    ("", "endpoints", "redirect traffic meant for other pods"),
    ("discovery.k8s.io", "endpointslices", "redirect traffic meant for other pods"),
    ("networking.k8s.io", "ingresses", "redirect traffic meant for other pods"),
    ("networking.k8s.io", "networkpolicies", "lift network isolation"),
])
def test_each_networking_resource_in_its_own_group(group: str, resource: str, effect: str) -> None:
    [v] = violations("rbac.manage-networking", role(rule([group], ["pods", resource], ["update"]), kind="Role"))
    assert v.path == ("rules", 0, "resources", 1)
    assert v.message.startswith(f"rules[0] grants update on {resource}: ") and v.message.endswith(effect)


def test_star_resource_in_the_core_group_covers_services_and_endpoints_only() -> None:
    [v] = violations("rbac.manage-networking", role(rule([""], ["*"], ["delete"])))
    assert "grants delete on services, endpoints (via resources '*'): can redirect traffic" in v.message


def test_star_everything_names_both_effects() -> None:
    [v] = violations("rbac.manage-networking", role(rule(["*"], ["*"], ["*"])))
    assert v.message.endswith(": can redirect traffic meant for other pods and can lift network isolation")


def test_networking_limited_by_name_is_still_reported() -> None:
    obj = role(rule(["networking.k8s.io"], ["networkpolicies"], ["get", "update"], resourceNames=["default-deny"]))
    [v] = violations("rbac.manage-networking", obj)
    assert 'grants update on networkpolicies named "default-deny"' in v.message


@pytest.mark.parametrize("r", [
    rule(["", "networking.k8s.io"], ["services", "ingresses", "networkpolicies"], ["get", "list", "watch"]),
    rule(["networking.k8s.io"], ["ingresses/status"], ["update", "patch"]),  # status only
    rule(["extensions"], ["ingresses", "networkpolicies"], ["*"]),  # legacy group, no longer served
    rule([""], ["ingresses", "networkpolicies", "endpointslices"], ["*"]),  # wrong API group
    rule(["apps"], ["services"], ["*"]),
    rule([""], ["services"], ["create", "deletecollection"], resourceNames=["web"]),  # nameless verbs
    rule([""], ["services"], ["impersonate"]),
])
def test_networking_near_misses(r: dict[str, Any]) -> None:
    assert paths("rbac.manage-networking", role(r)) == []


def test_write_rules_metadata() -> None:
    webhooks, configmaps = BY_ID["rbac.manage-webhooks"], BY_ID["rbac.manage-configmaps"]
    networking = BY_ID["rbac.manage-networking"]
    assert (webhooks.severity, configmaps.severity, networking.severity) == (
        Severity.HIGH, Severity.MEDIUM, Severity.MEDIUM)
    assert webhooks.controls.cis == ("5.1.12",)
    assert configmaps.kinds == networking.kinds == {"Role", "ClusterRole"}
