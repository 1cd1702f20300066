"""RBAC rules on single Role, ClusterRole, RoleBinding and ClusterRoleBinding objects, gathered in one tuple.

The checks live in themed modules, all reading roles through one matching
engine that mirrors the Kubernetes RBAC authorizer (``rbac_match``: wildcards
in API groups, resources and verbs count; a rule without ``apiGroups`` grants
nothing):

- ``rbac_roles``: grants that are, or lead to, cluster-wide power (wildcards,
  reading secrets, exec, escalate/bind/impersonate, creating pods, nodes/proxy);
- ``rbac_writes``: write access to admission webhooks, ConfigMaps and
  networking objects;
- ``rbac_bindings``: who a binding gives cluster-admin or a role to, and
  whether its roleRef can work.

This module holds every rule's metadata and is the single place the registry
takes them from.

``resourceNames`` (a grant limited to named objects) is the least-privilege
form Kubernetes documents, and it changes what some grants mean:

- ``create`` and ``deletecollection`` can never be limited by name (the
  request names no object), so such a grant with ``resourceNames`` grants
  nothing; rbac.create-pods ignores such entries, and the ``rbac_writes``
  rules do not count those verbs for them.
- rbac.secrets-read, rbac.manage-configmaps and the escalate/bind part of
  rbac.escalate-bind-impersonate do not report entries limited by name:
  reading named secrets, writing named ConfigMaps (a leader-election lock, a
  controller's own state) or binding named roles is the recommended scoped
  form.
- rbac.pods-exec, rbac.node-proxy, impersonation, rbac.manage-webhooks and
  rbac.manage-networking are reported regardless: exec into a named pod, the
  kubelet API of a named node, impersonating a named identity, rewriting a
  named webhook configuration (which can then match every object and call any
  URL), or re-pointing a named Service or opening a named NetworkPolicy still
  yields that object's full power.

Aggregated ClusterRoles (``aggregationRule`` with empty ``rules``) carry no
rules of their own; their permissions are those of the roles they aggregate,
which are checked on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.rules.rbac_bindings import (
    check_cluster_admin_binding,
    check_default_sa_binding,
    check_role_kind_mismatch,
)
from cloudward.rules.rbac_match import BINDING_KINDS, CLUSTER_ROLE_KINDS, ROLE_KINDS
from cloudward.rules.rbac_roles import (
    check_create_pods,
    check_escalate_bind_impersonate,
    check_node_proxy,
    check_pods_exec,
    check_secrets_read,
    check_wildcard_resources,
    check_wildcard_verbs,
)
from cloudward.rules.rbac_writes import check_manage_configmaps, check_manage_networking, check_manage_webhooks

_DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/rbac/"
_GOOD_PRACTICES = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
_NSA_RBAC = ("Authentication and authorization: Role-based access control",)
_NIST_ADMIN = ("4.3.1",)


# --- metadata ----------------------------------------------------------------------------------


def _role_rule(rule_id: str, title: str, severity: Severity,
               check: Callable[[K8sObject, RuleContext], Iterator[Violation]], description: str, remediation: str,
               controls: Controls, kinds: frozenset[str] = ROLE_KINDS) -> Rule:
    return Rule(id=rule_id, title=title, severity=severity, target=Target.K8S_OBJECT, check=check,
                description=description, remediation=remediation, kinds=kinds,
                references=(_DOCS, _GOOD_PRACTICES), controls=controls)


RULES: tuple[Rule, ...] = (
    _role_rule(
        "rbac.wildcard-verbs", "Role grants every verb", Severity.HIGH, check_wildcard_verbs,
        "A verb \"*\" grants every current and future verb, including escalate, bind, impersonate and "
        "deletecollection, far beyond what a workload or person needs.",
        "List the verbs actually needed (for read access: get, list, watch).",
        Controls(cis=("5.1.3",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN)),
    _role_rule(
        "rbac.wildcard-resources", "Role grants every resource or API group", Severity.HIGH, check_wildcard_resources,
        "resources \"*\" covers every resource and subresource (secrets, pods/exec, nodes/proxy, roles, and any "
        "custom resource installed later); apiGroups \"*\" or nonResourceURLs \"*\" widen a grant the same way.",
        "Name the API groups, resources and non-resource URLs the subject needs.",
        Controls(cis=("5.1.3",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN)),
    _role_rule(
        "rbac.secrets-read", "Role can read Secrets", Severity.HIGH, check_secrets_read,
        "get, list or watch on secrets reveals secret values; list and watch return the contents of every "
        "secret in scope, including service account tokens that carry further privileges.",
        "Remove read access to secrets, or limit it to the named secrets needed with resourceNames and get.",
        Controls(cis=("5.1.2",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1552.007",))),
    _role_rule(
        "rbac.pods-exec", "Role can exec into or attach to pods", Severity.HIGH, check_pods_exec,
        "create (SPDY) or get (WebSocket) on pods/exec or pods/attach runs commands inside running containers, "
        "with their service account tokens, secrets and network access.",
        "Remove pods/exec and pods/attach from the role; use a break-glass role bound only when needed.",
        Controls(nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1609",))),
    _role_rule(
        "rbac.escalate-bind-impersonate", "Role can escalate, bind or impersonate", Severity.HIGH,
        check_escalate_bind_impersonate,
        "escalate lets a subject grant roles more rights than it holds, bind lets it bind any role to anyone, "
        "and impersonate lets it act as another user, group or service account: each is a path to cluster-admin.",
        "Remove these verbs; where bind or escalate is truly needed, limit it to named roles with resourceNames.",
        Controls(cis=("5.1.8",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1098.006",))),
    _role_rule(
        "rbac.create-pods", "Role can create pods or pod controllers", Severity.MEDIUM, check_create_pods,
        "Whoever can create a pod (directly or through a Deployment, Job or other controller) can mount any "
        "service account and secret of the namespace into it, and so gains their permissions.",
        "Limit create on pods and workload controllers to deployment tooling; enforce Pod Security admission.",
        Controls(cis=("5.1.4",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1610",))),
    _role_rule(
        "rbac.node-proxy", "Role can reach the kubelet API through nodes/proxy", Severity.HIGH, check_node_proxy,
        "nodes/proxy forwards requests to the kubelet API, which can run commands in every container on the "
        "node; requests through it bypass admission control and most audit logging. Only ClusterRoles are checked: "
        "nodes are cluster-scoped, so a namespaced Role's grant on them gives nothing.",
        "Remove nodes/proxy; monitoring agents usually need only nodes/metrics or nodes/stats.",
        Controls(cis=("5.1.10",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1609",))),
    _role_rule(
        "rbac.manage-webhooks", "Role can manage admission webhooks", Severity.HIGH, check_manage_webhooks,
        "create, update, patch, delete or deletecollection on mutatingwebhookconfigurations or "
        "validatingwebhookconfigurations (admissionregistration.k8s.io) controls admission webhooks: a webhook is "
        "sent every object it registers for, Secrets and pod specs included; a mutating one can rewrite them (add a "
        "privileged container to every new pod); deleting or loosening a validating one switches off the policy it "
        "enforces. A grant limited by resourceNames is reported too: one named configuration can be rewritten to "
        "match every object and call any URL. Unlike Trivy KSV114 (critical there; high here, as is a binding of "
        "cluster-admin itself), wildcard resources and API groups count, the grant must be in the "
        "admissionregistration.k8s.io group (or \"*\"), impersonate is not counted (it grants nothing on these "
        "resources), and namespaced Roles are not checked: they cannot grant cluster-scoped resources.",
        "Keep write access to webhook configurations for cluster operators and the one controller that owns each "
        "webhook, limited to its configuration with resourceNames (record an exception for that role); everyone "
        "else needs at most get, list and watch.",
        Controls(cis=("5.1.12",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1562.001", "T1552.007")),
        kinds=CLUSTER_ROLE_KINDS),
    _role_rule(
        "rbac.manage-configmaps", "Role can modify ConfigMaps", Severity.MEDIUM, check_manage_configmaps,
        "create, update, patch, delete or deletecollection on configmaps (core group) changes the configuration "
        "workloads and controllers load, which some of them trust as much as their code (on EKS, the aws-auth "
        "ConfigMap maps cloud identities to Kubernetes groups, system:masters included). Grants limited by "
        "resourceNames are not reported: writing named ConfigMaps, such as a leader-election lock, is the scoped "
        "form. Unlike Trivy KSV049, wildcard resources and API groups count, the grant must be in the core group "
        "(or \"*\"), and impersonate is not counted: it grants nothing on ConfigMaps.",
        "Grant write access only to the named ConfigMaps a subject owns (resourceNames with update, patch); leave "
        "creating and changing shared configuration to deployment tooling.",
        Controls(nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN)),
    _role_rule(
        "rbac.manage-networking", "Role can modify Services, Endpoints, Ingresses or NetworkPolicies",
        Severity.MEDIUM, check_manage_networking,
        "create, update, patch, delete or deletecollection on services, endpoints (core group), endpointslices "
        "(discovery.k8s.io), ingresses or networkpolicies (networking.k8s.io) decides which pods receive a "
        "service's traffic and which pods may talk: it allows intercepting traffic meant for other workloads "
        "(Kubernetes dropped endpoints write from the built-in edit and admin roles for this, CVE-2021-25740) and "
        "bypassing network isolation. Grants limited by resourceNames are reported too: a named Service can still "
        "be re-pointed and a named NetworkPolicy opened up. Unlike Trivy KSV056 (which rates it high), wildcard "
        "resources and API groups count, each resource must be granted in its own API group (or \"*\"), the "
        "legacy extensions group is not counted, and neither is impersonate.",
        "Leave creating and changing Services, Ingresses and NetworkPolicies to deployment tooling; controllers "
        "that must write one should be limited to it with resourceNames (record an exception for that role); "
        "others need at most get, list and watch.",
        Controls(nsa=(*_NSA_RBAC, "Network separation and hardening: Network policies"), nist_800_190=_NIST_ADMIN,
                 attack=("T1557", "T1562.007"))),
    _role_rule(
        "rbac.cluster-admin-binding", "Binding grants cluster-admin", Severity.HIGH, check_cluster_admin_binding,
        "cluster-admin allows every action on every resource; bound by a RoleBinding it still grants full "
        "control of the namespace, secrets and roles included. Bindings of the system:masters group are not "
        "reported: that group bypasses authorization anyway and the cluster creates this binding itself.",
        "Bind a role with only the permissions needed; keep cluster-admin for break-glass accounts.",
        Controls(cis=("5.1.1",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN, attack=("T1098.006",)),
        kinds=BINDING_KINDS),
    _role_rule(
        "rbac.default-sa-binding", "Binding grants permissions to a default service account", Severity.MEDIUM,
        check_default_sa_binding,
        "Every pod that does not name a service account runs as its namespace's \"default\" one, so a role "
        "bound to it is given to all of them.",
        "Create a dedicated service account for the workload that needs the role and bind that instead.",
        Controls(cis=("5.1.5",), nsa=_NSA_RBAC, nist_800_190=_NIST_ADMIN), kinds=BINDING_KINDS),
    _role_rule(
        "rbac.binding-role-kind-mismatch", "Binding refers to a role it cannot refer to", Severity.LOW,
        check_role_kind_mismatch,
        "A ClusterRoleBinding can only refer to a ClusterRole, a RoleBinding to a Role or ClusterRole, both in "
        "the rbac.authorization.k8s.io group; anything else is rejected, so the intended grant (or restriction) "
        "never takes effect.",
        "Fix roleRef.kind and roleRef.apiGroup, or use a RoleBinding to grant a namespaced Role.",
        Controls(), kinds=BINDING_KINDS),
)
