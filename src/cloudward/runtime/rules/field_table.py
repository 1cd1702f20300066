"""The table of ``k8s_audit`` fields (names, list-ness, argument kinds) over the extractors in ``fields``."""

from __future__ import annotations

from cloudward.runtime.rules.fields import (
    FieldSpec,
    _any_privileged,
    _array,
    _containers,
    _effective,
    _first_container,
    _host_ports,
    _json_obj,
    _json_value,
    _rawtime,
    _rules_field,
    _scalar,
    _subjects,
    _target_pod_name,
    _uri_param,
    _volume_hostpath,
    _volume_types,
    _volumes,
)


def _registry() -> dict[str, FieldSpec]:
    specs: list[FieldSpec] = [
        FieldSpec("ka.auditid", False, "none", _scalar("auditID")),
        FieldSpec("ka.stage", False, "none", _scalar("stage")),
        FieldSpec("ka.auth.decision", False, "none", _scalar("annotations", "authorization.k8s.io/decision")),
        FieldSpec("ka.auth.reason", False, "none", _scalar("annotations", "authorization.k8s.io/reason")),
        FieldSpec("ka.auth.openshift.decision", False, "none",
                  _scalar("annotations", "authorization.openshift.io/decision")),
        FieldSpec("ka.auth.openshift.username", False, "none",
                  _scalar("annotations", "authentication.openshift.io/username")),
        FieldSpec("ka.validations.admission.policy.failure", False, "none",
                  _scalar("annotations", "validation.policy.admission.k8s.io/validation_failure")),
        FieldSpec("ka.security.pod.violations", False, "none",
                  _scalar("annotations", "pod-security.kubernetes.io/audit-violations")),
        FieldSpec("ka.user.name", False, "none", _scalar("user", "username")),
        FieldSpec("ka.user.groups", True, "none", _array("user", "groups")),
        FieldSpec("ka.impuser.name", False, "none", _scalar("impersonatedUser", "username")),
        FieldSpec("ka.verb", False, "none", _scalar("verb")),
        FieldSpec("ka.uri", False, "none", _scalar("requestURI")),
        FieldSpec("ka.uri.param", False, "key", _uri_param),
        FieldSpec("ka.target.name", False, "none", _scalar("objectRef", "name")),
        FieldSpec("ka.target.namespace", False, "none", _scalar("objectRef", "namespace")),
        FieldSpec("ka.target.resource", False, "none", _scalar("objectRef", "resource")),
        FieldSpec("ka.target.subresource", False, "none", _scalar("objectRef", "subresource")),
        FieldSpec("ka.target.pod.name", False, "none", _target_pod_name),
        FieldSpec("ka.req.binding.subjects", True, "none", _array("requestObject", "subjects")),
        FieldSpec("ka.req.binding.subjects.user_names", True, "none", _subjects("User")),
        FieldSpec("ka.req.binding.subjects.serviceaccount_names", True, "none", _subjects("ServiceAccount")),
        FieldSpec("ka.req.binding.subjects.serviceaccount_ns_names", True, "none",
                  _subjects("ServiceAccount", with_ns=True)),
        FieldSpec("ka.req.binding.subjects.group_names", True, "none", _subjects("Group")),
        FieldSpec("ka.req.binding.role", False, "none", _scalar("requestObject", "roleRef", "name")),
        FieldSpec("ka.req.binding.subject.has_name", False, "key", lambda _a: lambda _e: "true"),
        FieldSpec("ka.req.configmap.name", False, "none", _scalar("objectRef", "name")),
        FieldSpec("ka.req.configmap.obj", False, "none", _scalar("requestObject", "data")),
        FieldSpec("ka.req.container.image", False, "none", _first_container("image")),
        FieldSpec("ka.req.container.image.repository", False, "none", _first_container("image", repo=True)),
        FieldSpec("ka.req.container.privileged", False, "none", _any_privileged),
        FieldSpec("ka.req.pod.host_ipc", False, "none", _scalar("requestObject", "spec", "hostIPC")),
        FieldSpec("ka.req.pod.host_network", False, "none", _scalar("requestObject", "spec", "hostNetwork")),
        FieldSpec("ka.req.container.host_network", False, "none", _scalar("requestObject", "spec", "hostNetwork")),
        FieldSpec("ka.req.pod.host_pid", False, "none", _scalar("requestObject", "spec", "hostPID")),
        FieldSpec("ka.req.pod.run_as_user", False, "none",
                  _scalar("requestObject", "spec", "securityContext", "runAsUser")),
        FieldSpec("ka.req.pod.run_as_group", False, "none",
                  _scalar("requestObject", "spec", "securityContext", "runAsGroup")),
        FieldSpec("ka.req.pod.fs_group", False, "none", _scalar("requestObject", "spec", "securityContext", "fsGroup")),
        FieldSpec("ka.req.pod.supplemental_groups", True, "none",
                  _array("requestObject", "spec", "securityContext", "supplementalGroups")),
        FieldSpec("ka.req.role.rules", True, "none", _array("requestObject", "rules")),
        FieldSpec("ka.req.role.rules.apiGroups", True, "index", _rules_field("apiGroups")),
        FieldSpec("ka.req.role.rules.nonResourceURLs", True, "index", _rules_field("nonResourceURLs")),
        FieldSpec("ka.req.role.rules.verbs", True, "index", _rules_field("verbs")),
        FieldSpec("ka.req.role.rules.resources", True, "index", _rules_field("resources")),
        FieldSpec("ka.req.service.type", False, "none", _scalar("requestObject", "spec", "type")),
        FieldSpec("ka.req.service.ports", True, "index", _array("requestObject", "spec", "ports")),
        FieldSpec("ka.req.pod.volumes.hostpath", True, "index", _volumes("hostPath", "path")),
        FieldSpec("ka.req.volume.hostpath", False, "key", _volume_hostpath),
        FieldSpec("ka.req.pod.volumes.flexvolume_driver", True, "index", _volumes("flexVolume", "driver")),
        FieldSpec("ka.req.pod.volumes.volume_type", True, "index", _volume_types),
        FieldSpec("ka.resp.name", False, "none", _scalar("responseObject", "metadata", "name")),
        FieldSpec("ka.response.code", False, "none", _scalar("responseStatus", "code")),
        FieldSpec("ka.response.reason", False, "none", _scalar("responseStatus", "reason")),
        FieldSpec("ka.useragent", False, "none", _scalar("userAgent")),
        FieldSpec("ka.sourceips", True, "index", _array("sourceIPs")),
        FieldSpec("ka.cluster.name", False, "none", lambda _a: lambda _e: None),
    ]
    per_container = {
        "name": ("name",), "image": ("image",), "command": ("command",), "args": ("args",),
        "privileged": ("securityContext", "privileged"),
        "allow_privilege_escalation": ("securityContext", "allowPrivilegeEscalation"),
        "read_only_fs": ("securityContext", "readOnlyRootFilesystem"),
        "run_as_user": ("securityContext", "runAsUser"), "run_as_group": ("securityContext", "runAsGroup"),
        "proc_mount": ("securityContext", "procMount"),
        "add_capabilities": ("securityContext", "capabilities", "add"),
    }
    for kind in ("containers", "initContainers", "ephemeralContainers"):
        base = f"ka.req.pod.{kind}"
        for suffix, path in per_container.items():
            specs.append(FieldSpec(f"{base}.{suffix}", True, "index", _containers(kind, *path)))
        specs.append(FieldSpec(f"{base}.image.repository", True, "index", _containers(kind, "image", repo=True)))
        specs.append(FieldSpec(f"{base}.eff_run_as_user", True, "index", _effective(kind, "runAsUser")))
        specs.append(FieldSpec(f"{base}.eff_run_as_group", True, "index", _effective(kind, "runAsGroup")))
        specs.append(FieldSpec(f"{base}.host_port", True, "index", _host_ports(kind)))
    for prefix in ("jevt", "json"):
        specs.append(FieldSpec(f"{prefix}.value", False, "key", _json_value))
        specs.append(FieldSpec(f"{prefix}.obj", False, "none", _json_obj))
        specs.append(FieldSpec(f"{prefix}.rawtime", False, "none", _rawtime))
    return {s.name: s for s in specs}


_FIELDS: dict[str, FieldSpec] | None = None


def k8s_audit_fields() -> dict[str, FieldSpec]:
    """The field registry of the ``k8s_audit`` source, built on first use (nothing at import time)."""
    global _FIELDS
    if _FIELDS is None:
        _FIELDS = _registry()
    return _FIELDS
