"""Plumbing shared by the Pod Security Standards rules (``pod.*``).

The PSS rules re-implement the checks of Pod Security Admission (PSA,
``k8s.io/pod-security-admission/policy/check_*.go``) on manifests as written,
so this module holds what every one of them needs: the version boundaries at
which PSA changed a check, the two pod-wide exemptions PSA applies (Windows pods
and user-namespaced pods), type-safe readers for the fields PSA decodes, and a
helper that fills in the metadata every PSS rule shares.

PSA reads typed Go structs; a manifest is untyped YAML. Where the API server
would reject a wrongly-typed value outright, the readers here treat it as
"not the allowed value", so a garbage value is reported rather than silently
passed, and nothing ever raises.
"""

from __future__ import annotations

from typing import Any

from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import Controls, PSSLevel
from cloudward.core.rules import Check, Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.workloads import WORKLOAD_KINDS, PodSpec, as_dict, dig

PSS_DOC = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
PSA_POLICY_SOURCE = (
    "https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/pod-security-admission/policy/"
)

# Policy versions (minor of v1.N) at which PSA changed behaviour; see docs/pss.md.
V_ALLOW_PRIVILEGE_ESCALATION = 8  # allowPrivilegeEscalation field exists from v1.8
V_SECCOMP_FIELDS = 19  # seccompProfile fields replace the alpha annotations
V_CAPABILITIES_RESTRICTED = 22
V_RUN_AS_USER = 23
V_WINDOWS_EXEMPTION = 25  # spec.os.name == "windows" exempts some restricted checks
V_SELINUX_ENGINE_T = 31
V_HOST_PROBES = 34
V_USER_NAMESPACE_RELAXATION = 35  # spec.hostUsers: false relaxes some checks



def is_true(value: Any) -> bool:
    """Exactly the boolean ``true``; strings like ``"true"`` are not booleans to the API."""
    return value is True


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_set(data: dict[str, Any], key: str) -> bool:
    """A field is set when present with a non-null value (Go decodes ``null`` as unset)."""
    return data.get(key) is not None


def is_windows_pod(spec: PodSpec) -> bool:
    """``spec.os.name == "windows"``, which PSA reads from v1.25 on (KEP-2802)."""
    return bool(dig(spec.spec, "os", "name") == "windows")


def windows_exempt(spec: PodSpec, ctx: RuleContext) -> bool:
    """True when a Linux-only restricted check must skip this pod (Windows pod, policy v1.25+)."""
    return ctx.pss_version.at_least(V_WINDOWS_EXEMPTION) and is_windows_pod(spec)


def user_namespaced(spec: PodSpec) -> bool:
    """``spec.hostUsers: false``: the pod runs in its own user namespace (KEP-127)."""
    return spec.spec.get("hostUsers") is False


def pod_security_context_path(spec: PodSpec) -> JsonPath:
    return (*spec.path, "securityContext")


def sc_dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    return as_dict(as_dict(data.get("securityContext")).get(key))


def pss_rule(
    *,
    id: str,
    title: str,
    level: PSSLevel,
    control: str,
    severity: Severity,
    check: Check,
    description: str,
    remediation: str,
    source_file: str,
    cis: tuple[str, ...] = (),
    nsa: tuple[str, ...] = (),
    nist: tuple[str, ...] = (),
    attack: tuple[str, ...] = (),
) -> Rule:
    """A PSS rule: applies to every workload kind and cites the PSS page and the PSA check."""
    return Rule(
        id=id,
        title=title,
        severity=severity,
        target=Target.K8S_OBJECT,
        check=check,
        description=description,
        remediation=remediation,
        kinds=WORKLOAD_KINDS,
        references=(PSS_DOC, PSA_POLICY_SOURCE + source_file),
        controls=Controls(
            pss_level=level,
            pss_control=control,
            cis=cis,
            nsa=nsa,
            nist_800_190=nist,
            attack=attack,
        ),
    )


def user_namespace_relaxed(spec: PodSpec, ctx: RuleContext) -> bool:
    """True when PSA skips a check for a user-namespaced pod (policy v1.35+).

    Before v1.35 the relaxation sat behind the default-off, alpha feature gate
    ``UserNamespacesPodSecurityStandards``; a default API server never applied it.
    """
    return ctx.pss_version.at_least(V_USER_NAMESPACE_RELAXATION) and user_namespaced(spec)
