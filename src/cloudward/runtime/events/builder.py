"""A builder of realistic audit.k8s.io/v1 Events, for tests and examples (a test double users need too).

Fields the API server always sets (auditID, stage, requestURI, timestamps,
responseStatus, authorization annotations) are filled in consistently, so a hand
written event differs from a captured one only where the test says so.
"""

from __future__ import annotations

import uuid
from typing import Any

_CORE = {"pods", "secrets", "configmaps", "serviceaccounts", "namespaces", "nodes", "services", "events"}
_GROUPS = {"deployments": "apps", "daemonsets": "apps", "statefulsets": "apps", "replicasets": "apps",
           "jobs": "batch", "cronjobs": "batch", "roles": "rbac.authorization.k8s.io",
           "clusterroles": "rbac.authorization.k8s.io", "rolebindings": "rbac.authorization.k8s.io",
           "clusterrolebindings": "rbac.authorization.k8s.io",
           "mutatingwebhookconfigurations": "admissionregistration.k8s.io",
           "validatingwebhookconfigurations": "admissionregistration.k8s.io",
           "certificatesigningrequests": "certificates.k8s.io",
           "selfsubjectrulesreviews": "authorization.k8s.io", "selfsubjectaccessreviews": "authorization.k8s.io"}


def audit_event(verb: str, resource: str, *, user: str = "alice", groups: list[str] | None = None,
                namespace: str | None = "default", name: str | None = None, subresource: str | None = None,
                stage: str = "ResponseComplete", code: int | None = None, request_object: Any = None,
                user_agent: str = "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350", query: str = "",
                time: str = "2026-11-29T10:00:00.000000Z", decision: str = "allow",
                impersonated_user: str | None = None, audit_id: str | None = None) -> dict[str, Any]:
    """One Event as the API server's log backend writes it (level RequestResponse when an object is given)."""
    group = _GROUPS.get(resource, "" if resource in _CORE else "example.com")
    base = f"/apis/{group}/v1" if group else "/api/v1"
    path = base + (f"/namespaces/{namespace}" if namespace and resource != "namespaces" else "") + f"/{resource}"
    if name and (verb not in ("create",) or subresource):
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    if query:
        path += "?" + query
    if code is None:
        code = 101 if stage == "ResponseStarted" else (201 if verb == "create" else 200)
    ref: dict[str, Any] = {"resource": resource, "apiVersion": "v1"}
    if group:
        ref["apiGroup"] = group
    if namespace and resource != "namespaces":
        ref["namespace"] = namespace
    if name:
        ref["name"] = name
    if subresource:
        ref["subresource"] = subresource
    ev: dict[str, Any] = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1",
        "level": "RequestResponse" if request_object is not None else "Metadata",
        "auditID": audit_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{time}{verb}{path}{user}")),
        "stage": stage, "requestURI": path, "verb": verb,
        "user": {"username": user, "groups": groups or ["system:authenticated"]},
        "sourceIPs": ["10.0.0.7"], "userAgent": user_agent, "objectRef": ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": time, "stageTimestamp": time,
        "annotations": {"authorization.k8s.io/decision": decision if code != 403 else "forbid",
                        "authorization.k8s.io/reason": ""},
    }
    if impersonated_user:
        ev["impersonatedUser"] = {"username": impersonated_user}
    if request_object is not None:
        ev["requestObject"] = request_object
        if name or (isinstance(request_object, dict) and request_object.get("metadata", {}).get("name")):
            ev["responseObject"] = {"metadata": {"name": name or request_object["metadata"]["name"],
                                                 **({"namespace": namespace} if namespace else {})}}
    return ev


def pod(*containers: dict[str, Any], name: str = "web", **spec: Any) -> dict[str, Any]:
    """A Pod request object; each container defaults to ``{"name": "app", "image": "nginx:1.27"}``."""
    cs = [{"name": f"c{i}", "image": "nginx:1.27", **c} for i, c in enumerate(containers or ({},))]
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name}, "spec": {"containers": cs, **spec}}
