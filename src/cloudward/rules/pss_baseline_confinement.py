"""Baseline PSS controls about kernel confinement: AppArmor, SELinux, /proc
masking, seccomp and sysctls.

These are the controls whose allowed values changed across policy versions
(seccomp annotations before v1.19, the SELinux type and sysctl allow-lists,
the user-namespace relaxation of procMount), so each check reads
``ctx.pss_version`` to pick the behaviour PSA has at that version.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import PSSLevel, Violation
from cloudward.core.rules import Rule, RuleContext
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import as_dict, as_list, pod_spec
from cloudward.rules.pss_common import (
    V_SECCOMP_FIELDS,
    V_SELINUX_ENGINE_T,
    is_set,
    pod_security_context_path,
    pss_rule,
    user_namespace_relaxed,
)
from cloudward.rules.text import show, who

B = PSSLevel.BASELINE
HARDENING = "Hardening container environments"
POD_SECURITY = "Pod security enforcement"
RUNTIME_CONFIG = "4.4.3"

APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"
ALLOWED_PROFILE_TYPES = frozenset({"RuntimeDefault", "Localhost"})


def _profile_type(profile: Any) -> Any:
    """The ``type`` of a set seccompProfile/appArmorProfile; ``""`` when absent (Go's zero value)."""
    value = as_dict(profile).get("type") if isinstance(profile, dict) else profile
    return "" if value is None else value


def _profile_path(profile: Any, base: JsonPath) -> JsonPath:
    return (*base, "type") if isinstance(profile, dict) and is_set(profile, "type") else base


def _bad_profiles(obj: K8sObject, field: str, what: str) -> Iterator[Violation]:
    """Pod- and container-level ``securityContext.<field>`` whose type is not RuntimeDefault/Localhost."""
    spec = pod_spec(obj)
    if spec is None:
        return
    owners: list[tuple[str, str | None, dict[str, Any], JsonPath]] = [
        ("pod", None, spec.security_context, pod_security_context_path(spec))
    ]
    owners += [(who(c), c.name, c.security_context, (*c.path, "securityContext")) for c in spec.containers()]
    for label, container, sc, sc_path in owners:
        profile = sc.get(field)
        if profile is None:
            continue
        kind = _profile_type(profile)
        if kind in ALLOWED_PROFILE_TYPES:
            continue
        yield Violation(
            message=f"{what} ({label} must not set securityContext.{field}.type to {show(kind)})",
            path=_profile_path(profile, (*sc_path, field)),
            container=container,
        )


def _allowed_apparmor_annotation(value: Any) -> bool:
    if value is None or value == "":
        return True
    return isinstance(value, str) and (value == "runtime/default" or value.startswith("localhost/"))


def _apparmor(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    # PSA checks the v1.30+ appArmorProfile fields inside its v1.0 check, so the
    # fields are judged at every policy version, exactly like the annotations.
    yield from _bad_profiles(obj, "appArmorProfile", "forbidden AppArmor profile")
    spec = pod_spec(obj)
    if spec is None:
        return
    for key, value in sorted(spec.annotations.items(), key=lambda kv: str(kv[0])):
        if not (isinstance(key, str) and key.startswith(APPARMOR_ANNOTATION_PREFIX)):
            continue
        if _allowed_apparmor_annotation(value):
            continue
        yield Violation(
            message=f"forbidden AppArmor profile (annotation {key} must not be {show(value)}; "
            'use "runtime/default" or "localhost/<profile>")',
            path=(*spec.metadata_path, "annotations", key),
            container=key[len(APPARMOR_ANNOTATION_PREFIX) :],
        )


SELINUX_TYPES_V1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
SELINUX_TYPES_V1_31 = SELINUX_TYPES_V1_0 | {"container_engine_t"}


def _selinux(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    allowed = SELINUX_TYPES_V1_31 if ctx.pss_version.at_least(V_SELINUX_ENGINE_T) else SELINUX_TYPES_V1_0
    owners: list[tuple[str, str | None, dict[str, Any], JsonPath]] = [
        ("pod", None, spec.security_context, pod_security_context_path(spec))
    ]
    owners += [(who(c), c.name, c.security_context, (*c.path, "securityContext")) for c in spec.containers()]
    for label, container, sc, sc_path in owners:
        opts = sc.get("seLinuxOptions")
        if opts is None:
            continue
        opts_path = (*sc_path, "seLinuxOptions")
        if not isinstance(opts, dict):
            yield Violation(
                message=f"seLinuxOptions ({label} has malformed seLinuxOptions {show(opts)})",
                path=opts_path,
                container=container,
            )
            continue
        kind = "" if opts.get("type") is None else opts.get("type")
        if not (isinstance(kind, str) and kind in allowed):
            yield Violation(
                message=f"seLinuxOptions ({label} must not set securityContext.seLinuxOptions.type to {show(kind)})",
                path=(*opts_path, "type"),
                container=container,
            )
        for field in ("user", "role"):
            value = opts.get(field)
            if value is not None and value != "":
                yield Violation(
                    message=f"seLinuxOptions ({label} must not set securityContext.seLinuxOptions.{field}: "
                    f"{show(value)})",
                    path=(*opts_path, field),
                    container=container,
                )


def _proc_mount_violations(obj: K8sObject) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for c in spec.containers():
        value = c.security_context.get("procMount")
        if value is None or value == "Default":
            continue
        yield Violation(
            message=f"procMount ({who(c)} must not set securityContext.procMount to {show(value)})",
            path=(*c.path, "securityContext", "procMount"),
            container=c.name,
        )


def _proc_mount(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None or user_namespace_relaxed(spec, ctx):
        return
    yield from _proc_mount_violations(obj)


def _allowed_seccomp_annotation(value: Any) -> bool:
    # An empty annotation value is forbidden: PSA only accepts these three forms.
    return isinstance(value, str) and (value in ("runtime/default", "docker/default") or value.startswith("localhost/"))


def _seccomp_annotations(obj: K8sObject) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    annotations = spec.annotations
    base = (*spec.metadata_path, "annotations")
    if SECCOMP_POD_ANNOTATION in annotations:
        value = annotations[SECCOMP_POD_ANNOTATION]
        if not _allowed_seccomp_annotation(value):
            yield Violation(
                message=f"seccompProfile (forbidden annotation {SECCOMP_POD_ANNOTATION}={show(value)})",
                path=(*base, SECCOMP_POD_ANNOTATION),
            )
    seen: set[str] = set()
    for c in spec.containers():
        key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.name
        if key in seen or key not in annotations:
            continue
        seen.add(key)
        if not _allowed_seccomp_annotation(annotations[key]):
            yield Violation(
                message=f"seccompProfile (forbidden annotation {key}={show(annotations[key])})",
                path=(*base, key),
                container=c.name,
            )


def _seccomp_baseline(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if ctx.pss_version.at_least(V_SECCOMP_FIELDS):
        yield from _bad_profiles(obj, "seccompProfile", "seccompProfile")
    else:
        yield from _seccomp_annotations(obj)


#: Safe sysctls by the policy version that first allows them.
SAFE_SYSCTLS: tuple[tuple[int, frozenset[str]], ...] = (
    (
        0,
        frozenset(
            {
                "kernel.shm_rmid_forced",
                "net.ipv4.ip_local_port_range",
                "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range",
                "net.ipv4.ip_unprivileged_port_start",
            }
        ),
    ),
    (27, frozenset({"net.ipv4.ip_local_reserved_ports"})),
    (
        29,
        frozenset(
            {
                "net.ipv4.tcp_keepalive_time",
                "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes",
            }
        ),
    ),
    (32, frozenset({"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"})),
    (37, frozenset({"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"})),
)


def safe_sysctls(ctx: RuleContext) -> frozenset[str]:
    """The sysctls PSA allows at ``ctx.pss_version``."""
    out: frozenset[str] = frozenset()
    for minor, names in SAFE_SYSCTLS:
        if ctx.pss_version.at_least(minor):
            out |= names
    return out


def _sysctls(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    allowed = safe_sysctls(ctx)
    base = (*pod_security_context_path(spec), "sysctls")
    for i, entry in enumerate(as_list(spec.security_context.get("sysctls"))):
        if not isinstance(entry, dict):
            continue
        name = entry.get("name")
        if isinstance(name, str) and name in allowed:
            continue
        yield Violation(
            message=f"forbidden sysctls (pod must not set sysctl {show(name)} at policy {ctx.pss_version})",
            path=(*base, i, "name") if is_set(entry, "name") else (*base, i),
        )


RULES: tuple[Rule, ...] = (
    pss_rule(
        id="pod.apparmor",
        title="AppArmor must not be disabled or overridden with an arbitrary profile",
        level=B,
        control="AppArmor",
        severity=Severity.HIGH,
        check=_apparmor,
        description="Setting the AppArmor profile to unconfined (field type Unconfined or annotation value "
        "unconfined) removes the mandatory access control that confines the container.",
        remediation="Use appArmorProfile.type RuntimeDefault or Localhost, or the annotation values "
        '"runtime/default" or "localhost/<profile>".',
        source_file="check_appArmorProfile.go",
        nsa=(HARDENING,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.selinux",
        title="SELinux type must be a container type, and user and role must not be set",
        level=B,
        control="SELinux",
        severity=Severity.HIGH,
        check=_selinux,
        description="A custom SELinux type such as spc_t, or a custom user or role, lifts the SELinux "
        "confinement that separates the container from the host.",
        remediation="Remove seLinuxOptions.user and .role and use type container_t, container_init_t, "
        "container_kvm_t or (policy v1.31+) container_engine_t, or leave the type unset.",
        source_file="check_seLinuxOptions.go",
        nsa=(HARDENING,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.proc-mount",
        title="/proc must keep its default masks",
        level=B,
        control="/proc Mount Type",
        severity=Severity.HIGH,
        check=_proc_mount,
        description="procMount: Unmasked exposes kernel interfaces under /proc that the default masks hide. "
        "From policy v1.35 Baseline allows it for pods with spec.hostUsers: false.",
        remediation="Remove securityContext.procMount or set it to Default.",
        source_file="check_procMount_baseline.go",
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.seccomp-baseline",
        title="Seccomp must not be set to Unconfined",
        level=B,
        control="Seccomp",
        severity=Severity.HIGH,
        check=_seccomp_baseline,
        description="An Unconfined seccomp profile lets the container call every system call, including the "
        "ones used in kernel exploits. Before policy v1.19 the seccomp annotations are judged instead.",
        remediation="Set seccompProfile.type to RuntimeDefault or Localhost, or leave it unset.",
        source_file="check_seccompProfile_baseline.go",
        cis=("5.7.2",),
        nsa=(HARDENING,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.sysctls",
        title="Only namespaced, safe sysctls may be set",
        level=B,
        control="Sysctls",
        severity=Severity.HIGH,
        check=_sysctls,
        description="Sysctls outside the safe set can disable security mechanisms or affect every pod on the "
        "node. The safe set grew in policy v1.27, v1.29, v1.32 and v1.37.",
        remediation="Remove the sysctl from spec.securityContext.sysctls, or run the workload where it is "
        "allowed by a cluster administrator.",
        source_file="check_sysctls.go",
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
)
