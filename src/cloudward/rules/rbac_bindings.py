"""Checks of single RoleBindings and ClusterRoleBindings: who is given what, and whether it can work.

These look at a binding on its own (its roleRef and subjects); whether the
role it refers to exists is a cross-object question, answered in
``rules/crossobject.py``. The rule metadata is in ``rules/rbac.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

from cloudward.core.model import Violation
from cloudward.core.rules import RuleContext
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import as_dict, as_list
from cloudward.rules.rbac_match import BINDING_KINDS, RBAC_GROUP, is_rbac


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


def check_cluster_admin_binding(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if not is_rbac(obj, BINDING_KINDS):
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


def check_default_sa_binding(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if not is_rbac(obj, BINDING_KINDS):
        return
    ref = _role_ref(obj)
    for i, s in _subjects(obj):
        if s.get("kind") == "ServiceAccount" and s.get("name") == "default":
            yield Violation(f"subjects[{i}] is the {_subject_text(obj, s)} account, which every pod of its "
                            f"namespace uses unless told otherwise; it is bound to {ref.get('kind')} {ref.get('name')}",
                            ("subjects", i))


def check_role_kind_mismatch(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if not is_rbac(obj, BINDING_KINDS):
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
