"""Which identity a pod runs as: low or root user and group IDs, the default service account.

UIDs and GIDs below 10000 are where host accounts and groups live; a container
escape with such an ID lands as (or can signal, or read the files of) a real
host user or group. GID 0 is the root group, which owns much of a host's and
an image's system files, so it is worth more than any other group. The
namespace's ``default`` service account is shared by every pod that names no
other, so any permission granted to it is granted to all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, Container, PodSpec, as_list, pod_spec
from cloudward.rules.text import who

HIGH_UID = 10000
HIGH_GID = 10000
ROOT_GID = 0
SECURITY_CONTEXT_DOC = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"
SERVICE_ACCOUNT_DOC = "https://kubernetes.io/docs/concepts/security/service-accounts/#default-service-accounts"


def _is_id(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _effective(pod: PodSpec, container: Container, field: str) -> tuple[Any, JsonPath]:
    """The value of securityContext.``field`` that applies to ``container``, and where it is written.

    The container's own value wins; where it sets none, the pod's applies (the
    path then points at the pod's field, the line to change).
    """
    value = container.security_context.get(field)
    if value is not None:
        return value, (*container.path, "securityContext", field)
    return pod.security_context.get(field), (*pod.path, "securityContext", field)


def _check_low_uid(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    pod = pod_spec(obj)
    if pod is None:
        return
    for container in pod.containers():
        uid, path = _effective(pod, container, "runAsUser")
        # 0 is root, reported by pod.run-as-user; only explicit non-root low UIDs here
        if _is_id(uid) and 0 < uid < HIGH_UID:
            yield Violation(f"{who(container)} runs as UID {uid}, below {HIGH_UID} where host accounts live",
                            path, container=container.name)


def _check_low_gid(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    pod = pod_spec(obj)
    if pod is None:
        return
    for container in pod.containers():
        gid, path = _effective(pod, container, "runAsGroup")
        # 0 is the root group, reported by pod.root-group; only explicit non-root low GIDs here
        if _is_id(gid) and 0 < gid < HIGH_GID:
            yield Violation(f"{who(container)} runs with GID {gid}, below {HIGH_GID} where host groups live",
                            path, container=container.name)


def _check_root_group(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    pod = pod_spec(obj)
    if pod is None:
        return
    for container in pod.containers():
        gid, path = _effective(pod, container, "runAsGroup")
        if _is_id(gid) and gid == ROOT_GID:
            yield Violation(f"{who(container)} runs with GID 0, the root group, as its primary group",
                            path, container=container.name)
    context_path = (*pod.path, "securityContext")
    fs_group = pod.security_context.get("fsGroup")
    if _is_id(fs_group) and fs_group == ROOT_GID:
        yield Violation("pod sets fsGroup 0: every container gets the root group, and supported volumes are "
                        "handed to it group-writable", (*context_path, "fsGroup"))
    for i, gid in enumerate(as_list(pod.security_context.get("supplementalGroups"))):
        if _is_id(gid) and gid == ROOT_GID:
            yield Violation("pod adds GID 0, the root group, to every container's supplementary groups",
                            (*context_path, "supplementalGroups", i))


def _check_default_service_account(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    pod = pod_spec(obj)
    if pod is None:
        return
    name = pod.spec.get("serviceAccountName") or pod.spec.get("serviceAccount")
    if name not in (None, "", "default"):
        return
    if "serviceAccountName" in pod.spec:
        path = (*pod.path, "serviceAccountName")
    elif "serviceAccount" in pod.spec:
        path = (*pod.path, "serviceAccount")
    else:
        path = pod.path
    how = "names" if name == "default" else "names no service account, so it uses"
    yield Violation(f"pod {how} the namespace's default service account, which every such pod shares", path)


RULES: tuple[Rule, ...] = (
    Rule(
        id="pod.low-uid",
        title="Container runs with a low UID",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_check_low_uid,
        kinds=WORKLOAD_KINDS,
        description="A container whose runAsUser (its own, or the pod's) is between 1 and 9999 shares the UID "
        "range of host accounts; after a container escape it acts as, or against, a real host user. Unlike "
        "Checkov CKV_K8S_40 and Trivy KSV020 this rule does not report an unset runAsUser: then the image's USER "
        "decides, which a manifest scan cannot see (pod.run-as-non-root covers root).",
        remediation="Set securityContext.runAsUser (and runAsGroup) to 10000 or higher, or run in a user "
        "namespace (hostUsers: false).",
        references=(SECURITY_CONTEXT_DOC,),
        controls=Controls(nsa=("Pod security: non-root containers",), nist_800_190=("4.4.3",),
                          attack=("T1611",)),
    ),
    Rule(
        id="pod.low-gid",
        title="Container runs with a low GID",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_check_low_gid,
        kinds=WORKLOAD_KINDS,
        description="A container whose runAsGroup (its own, or the pod's) is between 1 and 9999 shares the GID "
        "range of host groups; after a container escape it can read and write what those host groups own. Unlike "
        "Trivy KSV021 this rule does not report an unset runAsGroup: then the image's USER decides, which a "
        "manifest scan cannot see (pod.root-group covers GID 0). It also reads the pod's runAsGroup where the "
        "container sets none (KSV021 looks only at the container's) and accepts exactly 10000, as pod.low-uid "
        "does (KSV021 asks for more than 10000).",
        remediation="Set securityContext.runAsGroup (and runAsUser) to 10000 or higher, or run in a user "
        "namespace (hostUsers: false).",
        references=(SECURITY_CONTEXT_DOC,),
        controls=Controls(nsa=("Pod security: non-root containers",), nist_800_190=("4.4.3",),
                          attack=("T1611",)),
    ),
    Rule(
        id="pod.root-group",
        title="Pod runs with the root group",
        severity=Severity.MEDIUM,
        target=Target.K8S_OBJECT,
        check=_check_root_group,
        kinds=WORKLOAD_KINDS,
        description="GID 0 is the root group: a process in it reads, and often writes, the files and devices "
        "that hosts and images give to group root, even when its UID is not root (after an escape, or through "
        "a host or shared volume). Reported, one finding per field, for an explicit 0 in runAsGroup (the "
        "container's own, else the pod's, once per container it applies to), in the pod's fsGroup (which also "
        "makes the kubelet hand supported volumes to GID 0, group-writable) and in the pod's "
        "supplementalGroups. These are the fields Trivy KSV116 reads (it reports once per object); the older "
        "KSV029 flagged any fsGroup or supplementalGroups at all. Unlike KSV116, a pod-level runAsGroup: 0 that every "
        "container overrides is not reported. Unset fields are not reported: then the image decides the "
        "group, which a manifest scan cannot see.",
        remediation="Set runAsGroup and fsGroup to a dedicated GID of 10000 or higher and drop 0 from "
        "supplementalGroups; if an image needs group root to read its files, rebuild it so a non-root group "
        "owns them.",
        references=(SECURITY_CONTEXT_DOC,),
        controls=Controls(nsa=("Pod security: non-root containers",), nist_800_190=("4.4.3",),
                          attack=("T1611",)),
    ),
    Rule(
        id="pod.default-service-account",
        title="Pod uses the default service account",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_check_default_service_account,
        kinds=WORKLOAD_KINDS,
        description="Every pod that names no service account runs as the namespace's default one, so a role "
        "bound to it (often added 'temporarily') reaches all of them, and their tokens are interchangeable.",
        remediation="Create a service account per workload and set spec.serviceAccountName; leave the default "
        "service account without role bindings and with automountServiceAccountToken: false.",
        references=(SERVICE_ACCOUNT_DOC,),
        controls=Controls(cis=("5.1.5",), nsa=("Authentication and authorization",), attack=("T1078.004",)),
    ),
)
