"""Which identity a pod runs as: a low UID shared with the host, the default service account.

UIDs below 10000 are where host accounts live; a container escape with such a
UID lands as (or can signal, or read the files of) a real host user. The
namespace's ``default`` service account is shared by every pod that names no
other, so any permission granted to it is granted to all of them.
"""

from __future__ import annotations

from collections.abc import Iterator

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, pod_spec
from cloudward.rules.text import who

HIGH_UID = 10000
SECURITY_CONTEXT_DOC = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"
SERVICE_ACCOUNT_DOC = "https://kubernetes.io/docs/concepts/security/service-accounts/#default-service-accounts"


def _check_low_uid(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    pod = pod_spec(obj)
    if pod is None:
        return
    pod_uid = pod.security_context.get("runAsUser")
    pod_uid_path = (*pod.path, "securityContext", "runAsUser")
    for container in pod.containers():
        uid, path = container.security_context.get("runAsUser"), (*container.path, "securityContext", "runAsUser")
        if uid is None:
            uid, path = pod_uid, pod_uid_path
        # 0 is root, reported by pod.run-as-user; only explicit non-root low UIDs here
        if isinstance(uid, int) and not isinstance(uid, bool) and 0 < uid < HIGH_UID:
            yield Violation(f"{who(container)} runs as UID {uid}, below {HIGH_UID} where host accounts live",
                            path, container=container.name)


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
