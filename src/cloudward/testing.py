"""Test doubles for users' own tests: builders of the documents cloudward consumes.

No Kubernetes API server is needed to test a policy: build the AdmissionReview
the API server would send and hand it to ``cloudward admission review`` or to
``cloudward.deploy.answer``::

    from cloudward.testing import admission_review
    review = admission_review(deployment_dict, namespace="prod")

Sections: admission (deploy stage). Later stages add their builders in their own
section below, each returning plain JSON-compatible data.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

__all__ = ["admission_review", "resource_for_kind"]

# -- admission (deploy stage) ---------------------------------------------------

#: Resource names of the kinds cloudward judges, as the API server reports them in ``request.resource``.
_RESOURCES: dict[str, str] = {
    "Pod": "pods", "PodTemplate": "podtemplates", "ReplicationController": "replicationcontrollers",
    "Service": "services", "Namespace": "namespaces", "ServiceAccount": "serviceaccounts", "Secret": "secrets",
    "ConfigMap": "configmaps", "Deployment": "deployments", "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets", "ReplicaSet": "replicasets", "Job": "jobs", "CronJob": "cronjobs",
    "Ingress": "ingresses", "NetworkPolicy": "networkpolicies", "Role": "roles", "ClusterRole": "clusterroles",
    "RoleBinding": "rolebindings", "ClusterRoleBinding": "clusterrolebindings",
}


def resource_for_kind(kind: str) -> str:
    """The plural resource name the API server uses for ``kind`` (lower-case + s for unknown kinds)."""
    return _RESOURCES.get(kind, kind.lower() + "s")


def admission_review(obj: dict[str, Any] | None, *, operation: str = "CREATE", old: dict[str, Any] | None = None,
                     namespace: str | None = None, username: str = "kubernetes-admin",
                     groups: tuple[str, ...] = ("system:masters", "system:authenticated"), dry_run: bool = False,
                     sub_resource: str = "", uid: str | None = None,
                     api_version: str = "admission.k8s.io/v1") -> dict[str, Any]:
    """An AdmissionReview request shaped as the API server sends it (admission.k8s.io/v1).

    ``obj`` is the object being admitted (``None`` for DELETE, which sends
    ``old`` instead). The namespace defaults to the object's; ``uid`` to a
    random UUID. The object is copied, so the caller's dict is never shared.
    """
    subject = obj if obj is not None else old or {}
    kind = str(subject.get("kind", ""))
    group_version = str(subject.get("apiVersion", "v1"))
    group, _, version = group_version.rpartition("/")
    md = subject.get("metadata")
    metadata: dict[str, Any] = md if isinstance(md, dict) else {}
    if namespace is None:
        namespace = str(metadata.get("namespace", "")) if kind != "Namespace" else ""
    obj_copy = copy.deepcopy(obj) if obj is not None else None
    if obj_copy is not None and namespace and isinstance(obj_copy.get("metadata"), dict):
        obj_copy["metadata"].setdefault("namespace", namespace)
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": resource_for_kind(kind)}
    options_kind = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}.get(operation)
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
        "name": str(metadata.get("name", "")), "namespace": namespace, "operation": operation,
        "userInfo": {"username": username, "groups": list(groups)},
        "object": obj_copy, "oldObject": copy.deepcopy(old) if old is not None else None,
        "dryRun": dry_run,
        "options": {"kind": options_kind, "apiVersion": "meta.k8s.io/v1"} if options_kind else None,
    }
    if sub_resource:
        request["subResource"] = sub_resource
        request["requestSubResource"] = sub_resource
    return {"apiVersion": api_version, "kind": "AdmissionReview", "request": request}
