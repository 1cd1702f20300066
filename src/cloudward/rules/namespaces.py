"""Namespace hygiene: workloads placed in kube-system, namespaces that bound nothing their pods use.

kube-system holds the cluster's own components (the DNS, the network plugin,
kube-proxy, on kubeadm clusters the control plane). Service accounts there often
hold broad rights, admission webhooks usually exempt it (ours included), and a
workload placed there hides among pods operators expect to see. An attacker
who can create pods there gets all three; a team that merely puts its app there
loses the namespace as an administrative boundary.

A namespace without a LimitRange gives containers that set no requests or
limits neither defaults nor an upper bound; without a ResourceQuota nothing caps
what all its workloads together may claim. Either way one runaway or hijacked
workload can starve the namespaces sharing its nodes. Those two checks are
cross-object: they look for the LimitRange or ResourceQuota among the scanned
objects, so they report only Namespace objects that the scan itself contains
(a namespace that other objects merely name is created somewhere else, and so
are its quotas, usually). As in ``crossobject``, an object without
``metadata.namespace`` lives in no particular namespace: it covers none.
"""

from __future__ import annotations

from collections.abc import Iterator

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.index import ObjectIndex, api_group
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, pod_spec

SYSTEM_NAMESPACE = "kube-system"
INITIAL_NAMESPACES_DOC = "https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces"
LIMIT_RANGE_DOC = "https://kubernetes.io/docs/concepts/policy/limit-range/"
RESOURCE_QUOTA_DOC = "https://kubernetes.io/docs/concepts/policy/resource-quotas/"

#: What a namespace without each kind lets its workloads do, for the messages.
_CONSEQUENCE = {
    "LimitRange": "containers that set no resource requests or limits get neither defaults nor an upper bound",
    "ResourceQuota": "nothing caps the CPU, memory and object counts its workloads may claim together",
}


def _check_kube_system_workload(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if obj.metadata.get("namespace") != SYSTEM_NAMESPACE or pod_spec(obj) is None:
        return
    yield Violation(f'{obj.kind} "{obj.name}" is placed in the {SYSTEM_NAMESPACE} namespace, among the cluster\'s '
                    "own components", ("metadata", "namespace"))


def _where(obj: K8sObject) -> str:
    return f"{obj.file}:{obj.line}" if obj.line is not None else obj.file


def _namespaces_without(index: ObjectIndex, kind: str) -> Iterator[Violation]:
    """One violation per scanned Namespace (by name, first definition) with no core ``kind`` object in it."""
    covered: set[str] = set()
    unplaced: K8sObject | None = None  # the first one without metadata.namespace, for the hint
    for obj in index.of_kind(kind):
        if api_group(obj) != "":
            continue  # a custom resource that happens to share the name
        if obj.namespace is None:
            unplaced = unplaced or obj
        else:
            covered.add(obj.namespace)
    seen: set[str] = set()
    for ns in index.of_kind("Namespace"):
        name = ns.metadata.get("name")
        if api_group(ns) != "" or not isinstance(name, str) or not name or name in seen:
            continue
        seen.add(name)
        if name in covered:
            continue
        hint = ""
        if unplaced is not None:
            hint = (f'; {kind} "{unplaced.name}" ({_where(unplaced)}) sets no metadata.namespace, so it lands '
                    f"wherever it is applied: set metadata.namespace: {name} if it is meant for this namespace")
        yield Violation(f'namespace "{name}" has no {kind} in the scanned files, so {_CONSEQUENCE[kind]}{hint}',
                        ("metadata", "name"), subject=ns)


def _check_no_limitrange(index: ObjectIndex, ctx: RuleContext) -> Iterator[Violation]:
    return _namespaces_without(index, "LimitRange")


def _check_no_resourcequota(index: ObjectIndex, ctx: RuleContext) -> Iterator[Violation]:
    return _namespaces_without(index, "ResourceQuota")


_RESOURCE_CONTROLS = Controls(nsa=("Resource policies",), attack=("T1496",))
_ONLY_SCANNED = (
    "Only Namespace objects in the scanned files are checked, and only against the {kind} objects in them: a "
    "namespace that other objects merely name is not reported, and a {kind} without metadata.namespace covers "
    "no namespace (it lands wherever it is applied; the message points at it). "
)

RULES: tuple[Rule, ...] = (
    Rule(
        id="k8s.kube-system-workload",
        title="Workload is placed in the kube-system namespace",
        severity=Severity.MEDIUM,
        target=Target.K8S_OBJECT,
        check=_check_kube_system_workload,
        kinds=WORKLOAD_KINDS,
        description="kube-system belongs to the cluster's own components: its service accounts often hold broad "
        "rights, admission controls (cloudward's webhook included) usually exempt it, and a pod there hides among "
        "the pods operators expect to see (attackers name theirs like kube-proxy). Workloads whose "
        "metadata.namespace is kube-system are reported; an object without a namespace is not (it gets one when "
        "applied). As Trivy KSV037; unlike KSV037, which checks any object with a spec, only workloads are checked "
        "(k8s.default-namespace covers other placement), and control-plane static pods are not exempted by their "
        "tier/component labels, which anyone can set. Manifests of cluster add-ons (CoreDNS, kube-proxy, CNI "
        "DaemonSets, CSI node plugins) belong in kube-system and are reported too: accept them with a "
        ".cloudward.yaml exception (rule, namespace: kube-system, kind and name) or, where inline suppressions are "
        "allowed, a cloudward.io/ignore annotation on the object's own metadata (the finding is on "
        "metadata.namespace, outside the pod template).",
        remediation="Create a namespace for the application and set metadata.namespace to it; for a genuine "
        "cluster add-on, add a .cloudward.yaml exception naming it, with the reason.",
        references=(INITIAL_NAMESPACES_DOC,),
        controls=Controls(cis=("5.7.1",), nsa=("Namespaces",), attack=("T1036.005",)),
    ),
    Rule(
        id="namespace.no-limitrange",
        title="Namespace has no LimitRange",
        severity=Severity.LOW,
        target=Target.K8S_SET,
        check=_check_no_limitrange,
        kinds=frozenset({"Namespace", "LimitRange"}),
        description="Without a LimitRange, a container that sets no resource requests or limits gets neither "
        "defaults nor an upper bound, so one runaway or hijacked pod can take a node's CPU and memory from every "
        "other namespace on it. Reported on the Namespace object's metadata.name. "
        + _ONLY_SCANNED.format(kind="LimitRange")
        + "Trivy KSV039 instead reports every object that is not itself a LimitRange with type, min, max, default "
        "and defaultRequest set; cloudward checks that the namespace has one and leaves its values to "
        "pod.resources-requests and pod.resources-limits. Not evaluated at admission: one admitted object cannot "
        "show whether its namespace gets a LimitRange.",
        remediation="Add a LimitRange to the namespace with default and defaultRequest (and max) for containers.",
        references=(LIMIT_RANGE_DOC,),
        controls=_RESOURCE_CONTROLS,
    ),
    Rule(
        id="namespace.no-resourcequota",
        title="Namespace has no ResourceQuota",
        severity=Severity.LOW,
        target=Target.K8S_SET,
        check=_check_no_resourcequota,
        kinds=frozenset({"Namespace", "ResourceQuota"}),
        description="Without a ResourceQuota nothing caps what the workloads of a namespace claim together: "
        "replicas scaled up by mistake or by an intruder (cryptomining) take the capacity other namespaces need. "
        "Reported on the Namespace object's metadata.name. "
        + _ONLY_SCANNED.format(kind="ResourceQuota")
        + "Trivy KSV040 instead reports every object that is not itself a ResourceQuota with hard requests.cpu, "
        "requests.memory, limits.cpu and limits.memory; cloudward checks that the namespace has a quota, whatever "
        "it limits. Not evaluated at admission: one admitted object cannot show whether its namespace gets a quota.",
        remediation="Add a ResourceQuota to the namespace with hard limits on requests.cpu, requests.memory, "
        "limits.cpu and limits.memory (and object counts such as pods) sized for its workloads.",
        references=(RESOURCE_QUOTA_DOC,),
        controls=_RESOURCE_CONTROLS,
    ),
)
