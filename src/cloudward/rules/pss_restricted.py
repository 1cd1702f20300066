"""Restricted PSS controls: volume types, privilege escalation, non-root,
seccomp required, capabilities dropped, and /proc masks for user-namespaced pods.

Restricted checks come with PSA's two pod-wide exemptions: from policy v1.25
Windows pods (``spec.os.name: windows``) skip the Linux-only checks
(privilege escalation, seccomp, capabilities); from v1.35 user-namespaced pods
(``spec.hostUsers: false``) skip runAsNonRoot and runAsUser.

Where a container may inherit a pod-level setting (runAsNonRoot, seccomp), a
container is judged by its own field when set, else by the pod's; a missing
setting is reported at the container so the finding names who must change.
"""

from __future__ import annotations

from collections.abc import Iterator

from cloudward.core.model import PSSLevel, Violation
from cloudward.core.rules import Rule, RuleContext
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import as_dict, as_list, nearest_path, pod_spec
from cloudward.rules.pss_baseline_confinement import ALLOWED_PROFILE_TYPES, _proc_mount_violations
from cloudward.rules.pss_common import (
    V_ALLOW_PRIVILEGE_ESCALATION,
    V_CAPABILITIES_RESTRICTED,
    V_RUN_AS_USER,
    V_SECCOMP_FIELDS,
    V_USER_NAMESPACE_RELAXATION,
    is_int,
    is_set,
    pod_security_context_path,
    pss_rule,
    user_namespace_relaxed,
    user_namespaced,
    windows_exempt,
)
from cloudward.rules.text import show, who

R = PSSLevel.RESTRICTED
POD_SECURITY = "Pod security enforcement"
NON_ROOT = 'Non-root containers and "rootless" container engines'
HARDENING = "Hardening container environments"
RUNTIME_CONFIG = "4.4.3"

#: Inline volume sources Restricted allows (``image`` since PSA in Kubernetes 1.33, at every policy version).
ALLOWED_VOLUME_SOURCES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
)
#: Every other inline source, in the order PSA names them.
RESTRICTED_VOLUME_SOURCES = (
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
)


def _volume_types(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for volume, path in spec.volumes():
        if any(is_set(volume, key) for key in ALLOWED_VOLUME_SOURCES):
            continue
        # A volume with no known source is defaulted to emptyDir by the API server.
        source = next((key for key in RESTRICTED_VOLUME_SOURCES if is_set(volume, key)), None)
        if source is None:
            continue
        yield Violation(
            message=f"restricted volume types (volume {show(volume.get('name'))} must not use {source}; "
            "allowed: " + ", ".join(ALLOWED_VOLUME_SOURCES) + ")",
            path=(*path, source),
        )


def _privilege_escalation(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None or not ctx.pss_version.at_least(V_ALLOW_PRIVILEGE_ESCALATION) or windows_exempt(spec, ctx):
        return
    for c in spec.containers():
        value = c.security_context.get("allowPrivilegeEscalation")
        if value is False:
            continue
        state = "leaves it unset" if value is None else f"sets it to {show(value)}"
        yield Violation(
            message=f"allowPrivilegeEscalation != false ({who(c)} must set "
            f"securityContext.allowPrivilegeEscalation: false; it {state})",
            path=nearest_path(c.data, c.path, "securityContext", "allowPrivilegeEscalation"),
            container=c.name,
        )


def _run_as_non_root(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None or user_namespace_relaxed(spec, ctx):
        return
    pod_value = spec.security_context.get("runAsNonRoot")
    if pod_value is not None and pod_value is not True:
        yield Violation(
            message=f"runAsNonRoot != true (pod must not set securityContext.runAsNonRoot: {show(pod_value)})",
            path=(*pod_security_context_path(spec), "runAsNonRoot"),
        )
    for c in spec.containers():
        value = c.security_context.get("runAsNonRoot")
        if value is True:
            continue
        if value is not None:
            yield Violation(
                message=f"runAsNonRoot != true ({who(c)} must not set securityContext.runAsNonRoot: {show(value)})",
                path=(*c.path, "securityContext", "runAsNonRoot"),
                container=c.name,
            )
        elif pod_value is not True:
            yield Violation(
                message=f"runAsNonRoot != true (pod or {who(c)} must set securityContext.runAsNonRoot: true)",
                path=nearest_path(c.data, c.path, "securityContext"),
                container=c.name,
            )


def _is_root(value: object) -> bool:
    return is_int(value) and value == 0


def _run_as_user(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None or not ctx.pss_version.at_least(V_RUN_AS_USER) or user_namespace_relaxed(spec, ctx):
        return
    if _is_root(spec.security_context.get("runAsUser")):
        yield Violation(
            message="runAsUser=0 (pod must not set securityContext.runAsUser: 0)",
            path=(*pod_security_context_path(spec), "runAsUser"),
        )
    for c in spec.containers():
        if _is_root(c.security_context.get("runAsUser")):
            yield Violation(
                message=f"runAsUser=0 ({who(c)} must not set securityContext.runAsUser: 0)",
                path=(*c.path, "securityContext", "runAsUser"),
                container=c.name,
            )


def _seccomp_type(profile: object) -> object:
    if isinstance(profile, dict):
        value = profile.get("type")
        return "" if value is None else value
    return profile


def _seccomp_restricted(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None or not ctx.pss_version.at_least(V_SECCOMP_FIELDS) or windows_exempt(spec, ctx):
        return
    pod_ok = False
    pod_profile = spec.security_context.get("seccompProfile")
    if pod_profile is not None:
        kind = _seccomp_type(pod_profile)
        pod_ok = kind in ALLOWED_PROFILE_TYPES
        if not pod_ok:
            yield Violation(
                message=f"seccompProfile (pod must not set securityContext.seccompProfile.type to {show(kind)})",
                path=nearest_path(spec.spec, spec.path, "securityContext", "seccompProfile", "type"),
            )
    for c in spec.containers():
        profile = c.security_context.get("seccompProfile")
        if profile is not None:
            kind = _seccomp_type(profile)
            if kind not in ALLOWED_PROFILE_TYPES:
                yield Violation(
                    message=f"seccompProfile ({who(c)} must not set securityContext.seccompProfile.type "
                    f"to {show(kind)})",
                    path=nearest_path(c.data, c.path, "securityContext", "seccompProfile", "type"),
                    container=c.name,
                )
        elif not pod_ok:
            yield Violation(
                message=f"seccompProfile (pod or {who(c)} must set securityContext.seccompProfile.type to "
                '"RuntimeDefault" or "Localhost")',
                path=nearest_path(c.data, c.path, "securityContext"),
                container=c.name,
            )


def _capabilities_restricted(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None or not ctx.pss_version.at_least(V_CAPABILITIES_RESTRICTED) or windows_exempt(spec, ctx):
        return
    for c in spec.containers():
        caps = c.security_context.get("capabilities")
        caps_dict = as_dict(caps)
        if "ALL" not in as_list(caps_dict.get("drop")):
            yield Violation(
                message=f'unrestricted capabilities ({who(c)} must set securityContext.capabilities.drop: ["ALL"])',
                path=nearest_path(c.data, c.path, "securityContext", "capabilities", "drop"),
                container=c.name,
            )
        bad = [cap for cap in as_list(caps_dict.get("add")) if cap != "NET_BIND_SERVICE"]
        if bad:
            shown = ", ".join(show(cap) for cap in bad)
            yield Violation(
                message=f"unrestricted capabilities ({who(c)} must not include {shown} in "
                "securityContext.capabilities.add; only NET_BIND_SERVICE may be added)",
                path=(*c.path, "securityContext", "capabilities", "add"),
                container=c.name,
            )


def _proc_mount_restricted(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    # Before v1.35 Baseline's procMount check already forbids this for every pod;
    # from v1.35 Restricted keeps forbidding it where Baseline relaxed it.
    if not ctx.pss_version.at_least(V_USER_NAMESPACE_RELAXATION):
        return
    spec = pod_spec(obj)
    if spec is None or not user_namespaced(spec):
        return
    yield from _proc_mount_violations(obj)


RULES: tuple[Rule, ...] = (
    pss_rule(
        id="pod.volume-types",
        title="Only configMap, csi, downwardAPI, emptyDir, ephemeral, image, PVC, projected and secret volumes",
        level=R,
        control="Volume Types",
        severity=Severity.MEDIUM,
        check=_volume_types,
        description="Restricted pods may only use volume types that do not reach the node or network storage "
        "directly; other storage must come through a PersistentVolumeClaim.",
        remediation="Replace the volume with one of the allowed types, typically a persistentVolumeClaim.",
        source_file="check_restrictedVolumes.go",
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.privilege-escalation",
        title="Containers must set allowPrivilegeEscalation: false",
        level=R,
        control="Privilege Escalation",
        severity=Severity.MEDIUM,
        check=_privilege_escalation,
        description="Without allowPrivilegeEscalation: false (no_new_privs), a process can gain privileges "
        "through set-user-ID or set-group-ID binaries. Policy v1.8+; Windows pods exempt from v1.25.",
        remediation="Set securityContext.allowPrivilegeEscalation: false on every container.",
        source_file="check_allowPrivilegeEscalation.go",
        cis=("5.2.6",),
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1548.001",),
    ),
    pss_rule(
        id="pod.run-as-non-root",
        title="Containers must run with runAsNonRoot: true",
        level=R,
        control="Running as Non-root",
        severity=Severity.MEDIUM,
        check=_run_as_non_root,
        description="runAsNonRoot: true makes the kubelet refuse to start a container whose user is root. "
        "A container may inherit it from the pod; a container-level false always fails.",
        remediation="Set spec.securityContext.runAsNonRoot: true (or on every container) and run as a non-zero UID.",
        source_file="check_runAsNonRoot.go",
        cis=("5.2.7",),
        nsa=(NON_ROOT,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.run-as-user",
        title="Pods and containers must not set runAsUser: 0",
        level=R,
        control="Running as Non-root user",
        severity=Severity.MEDIUM,
        check=_run_as_user,
        description="runAsUser: 0 runs the container as root, at pod or container level (policy v1.23+).",
        remediation="Set runAsUser to a non-zero UID, or remove it and set runAsNonRoot: true.",
        source_file="check_runAsUser.go",
        cis=("5.2.7",),
        nsa=(NON_ROOT,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.seccomp-restricted",
        title="Seccomp must be set to RuntimeDefault or Localhost",
        level=R,
        control="Seccomp",
        severity=Severity.MEDIUM,
        check=_seccomp_restricted,
        description="Restricted requires an explicit seccomp profile on the pod or on every container "
        "(policy v1.19+; Windows pods exempt from v1.25).",
        remediation="Set spec.securityContext.seccompProfile.type: RuntimeDefault (or Localhost).",
        source_file="check_seccompProfile_restricted.go",
        cis=("5.7.2",),
        nsa=(HARDENING,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.capabilities-restricted",
        title='Containers must drop ["ALL"] capabilities and may add only NET_BIND_SERVICE',
        level=R,
        control="Capabilities",
        severity=Severity.MEDIUM,
        check=_capabilities_restricted,
        description="Restricted containers start with no capabilities except, optionally, NET_BIND_SERVICE "
        "(policy v1.22+; Windows pods exempt from v1.25).",
        remediation='Set securityContext.capabilities.drop: ["ALL"] and add back only NET_BIND_SERVICE.',
        source_file="check_capabilities_restricted.go",
        cis=("5.2.8", "5.2.9", "5.2.10"),
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.proc-mount-restricted",
        title="/proc must keep its default masks, also in user-namespaced pods",
        level=R,
        control="/proc Mount Type",
        severity=Severity.MEDIUM,
        check=_proc_mount_restricted,
        description="From policy v1.35 Baseline allows a non-default procMount in pods with "
        "spec.hostUsers: false; Restricted still forbids it. This rule reports exactly those pods, so that "
        "with pod.proc-mount it gives PSA's Restricted verdict without duplicate findings.",
        remediation="Remove securityContext.procMount or set it to Default.",
        source_file="check_procMount_restricted.go",
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
)
