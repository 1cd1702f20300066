"""Hardening beyond the Pod Security Standards: immutable root filesystems,
service account tokens, secrets in environment variables, the default namespace.

These follow the CIS Kubernetes Benchmark section 5 general policies and the
NSA/CISA Kubernetes Hardening Guide; PSS "restricted" does not require any of
them, so a pod can pass PSS and still fail here.
"""

from __future__ import annotations

from collections.abc import Iterator

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, as_dict, as_list, dig, nearest_path, pod_spec
from cloudward.rules.text import show, who
from cloudward.rules.workload_common import workload_containers

SECURITY_CONTEXT_DOC = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"
SA_AUTOMOUNT_DOC = (
    "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/"
    "#opt-out-of-api-credential-automounting"
)
SECRETS_GOOD_PRACTICE_DOC = "https://kubernetes.io/docs/concepts/security/secrets-good-practices/"
SECRETS_AS_FILES_DOC = "https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-files-from-a-pod"
NAMESPACES_DOC = "https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/"

#: Namespaced kinds checked by k8s.default-namespace.
NAMESPACED_KINDS: frozenset[str] = WORKLOAD_KINDS | frozenset(
    {
        "Service",
        "Ingress",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "LimitRange",
        "ResourceQuota",
        "Endpoints",
        "EndpointSlice",
    }
)


def _check_read_only_root_fs(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None or dig(spec.spec, "os", "name") == "windows":
        return
    for container in workload_containers(spec):
        value = container.security_context.get("readOnlyRootFilesystem")
        if value is True:
            continue
        if value is None:
            yield Violation(
                message=f"{who(container)} does not set securityContext.readOnlyRootFilesystem: true",
                path=nearest_path(container.data, container.path, "securityContext"),
                container=container.name,
            )
        else:
            yield Violation(
                message=f"{who(container)} sets securityContext.readOnlyRootFilesystem: {show(value)}",
                path=(*container.path, "securityContext", "readOnlyRootFilesystem"),
                container=container.name,
            )


def _check_automount(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    field = "automountServiceAccountToken"
    if obj.kind == "ServiceAccount":
        value = obj.data.get(field)
        if value is None:
            yield Violation(message=f'ServiceAccount "{obj.name}" does not set {field}: false')
        elif value is not False:
            yield Violation(message=f'ServiceAccount "{obj.name}" sets {field}: {show(value)}', path=(field,))
        return
    spec = pod_spec(obj)
    if spec is None:
        return
    value = spec.spec.get(field)
    if value is False:
        return
    sa = spec.spec.get("serviceAccountName")
    sa_name = sa if isinstance(sa, str) and sa else "default"
    if value is None:
        yield Violation(
            message=f'pod does not set {field}: false, so the token of service account "{sa_name}" is mounted'
            " unless that ServiceAccount opts out",
            path=spec.path,
        )
    else:
        yield Violation(
            message=f'pod sets {field}: {show(value)}, mounting the token of service account "{sa_name}"',
            path=(*spec.path, field),
        )


def _check_secret_env(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for container in spec.containers():
        for i, env in enumerate(as_list(container.data.get("env"))):
            ref = dig(env, "valueFrom", "secretKeyRef")
            if isinstance(ref, dict):
                var = as_dict(env).get("name")
                yield Violation(
                    message=f"{who(container)} reads key {show(ref.get('key'))} of Secret {show(ref.get('name'))}"
                    f" into environment variable {show(var)}",
                    path=(*container.path, "env", i, "valueFrom", "secretKeyRef"),
                    container=container.name,
                )
        for i, env_from in enumerate(as_list(container.data.get("envFrom"))):
            ref = as_dict(env_from).get("secretRef")
            if isinstance(ref, dict):
                yield Violation(
                    message=f"{who(container)} loads every key of Secret {show(ref.get('name'))}"
                    " into environment variables",
                    path=(*container.path, "envFrom", i, "secretRef"),
                    container=container.name,
                )


def _check_default_namespace(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if obj.metadata.get("namespace") == "default":
        yield Violation(
            message=f'{obj.kind} "{obj.name}" is placed in the default namespace',
            path=("metadata", "namespace"),
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="pod.read-only-root-fs",
        title="Container root filesystem is writable",
        severity=Severity.MEDIUM,
        target=Target.K8S_OBJECT,
        check=_check_read_only_root_fs,
        description=(
            "A writable root filesystem lets an intruder drop tools, modify binaries and persist inside the"
            " container; with readOnlyRootFilesystem: true, writes go only to volumes declared for them (emptyDir"
            " for /tmp), which are easy to watch. Init and regular containers are checked; ephemeral debug"
            " containers are not. Windows pods (spec.os.name: windows) are skipped: Windows does not support"
            " the field."
        ),
        remediation="Set securityContext.readOnlyRootFilesystem: true on each container and mount an emptyDir "
        "where the application needs to write.",
        kinds=WORKLOAD_KINDS,
        references=(SECURITY_CONTEXT_DOC,),
        controls=Controls(cis=("5.7.3",), nsa=("Immutable container file systems",), nist_800_190=("4.4.4",)),
    ),
    Rule(
        id="pod.automount-sa-token",
        title="Service account token is mounted automatically",
        severity=Severity.MEDIUM,
        target=Target.K8S_OBJECT,
        check=_check_automount,
        description=(
            "Kubernetes mounts an API token into every pod unless told not to; anyone who compromises the"
            " container can then call the API server with the service account's rights. Most applications never"
            " talk to the API. Both places CIS 5.1.5/5.1.6 audit are checked: a pod spec must set"
            " automountServiceAccountToken: false, and so must every ServiceAccount. A pod is reported even when"
            " its ServiceAccount opts out, because the pod's own setting takes precedence and a manifest scan"
            " cannot tell which ServiceAccount definition will exist at admission time; pods that really need a"
            " token should mount it explicitly with a projected serviceAccountToken volume, or suppress this rule."
        ),
        remediation="Set automountServiceAccountToken: false in the pod spec and on the ServiceAccount; where API "
        "access is needed, mount a short-lived token through a projected serviceAccountToken volume.",
        kinds=WORKLOAD_KINDS | frozenset({"ServiceAccount"}),
        references=(SA_AUTOMOUNT_DOC,),
        controls=Controls(
            cis=("5.1.5", "5.1.6"),
            nsa=("Protecting Pod service account tokens",),
            attack=("T1528",),
        ),
    ),
    Rule(
        id="pod.secret-env",
        title="Secret exposed through environment variables",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_check_secret_env,
        description=(
            "Secrets in environment variables (env[].valueFrom.secretKeyRef, envFrom[].secretRef) leak far more"
            " easily than mounted files: they are inherited by every child process, readable in"
            " /proc/<pid>/environ, printed by crash reports and debug endpoints, and are not updated when the"
            " Secret changes. CIS 5.4.1 and the CNCF security whitepaper ask for secrets as files. One finding per"
            " env entry or envFrom source, in any container."
        ),
        remediation="Mount the Secret as a volume (or a projected volume) and read it from the file; remove the "
        "secretKeyRef / secretRef environment entries.",
        kinds=WORKLOAD_KINDS,
        references=(SECRETS_AS_FILES_DOC, SECRETS_GOOD_PRACTICE_DOC),
        controls=Controls(cis=("5.4.1",)),
    ),
    Rule(
        id="k8s.default-namespace",
        title="Object is placed in the default namespace",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_check_default_namespace,
        description=(
            "The default namespace is where everything lands by accident, so it rarely gets its own RBAC,"
            " NetworkPolicies, quotas or Pod Security labels; objects there share one administrative boundary."
            " Only an explicit metadata.namespace: default is reported: an object without a namespace gets one"
            " when it is applied (kubectl -n, Helm, Kustomize), which a manifest scan cannot know."
        ),
        remediation="Create a dedicated namespace for the application and set metadata.namespace to it.",
        kinds=NAMESPACED_KINDS,
        references=(NAMESPACES_DOC,),
        controls=Controls(cis=("5.7.1", "5.7.4"), nsa=("Namespaces",)),
    ),
)
