"""Resource requests/limits and health probes: rules about how a workload is run.

Limits bound what one compromised or runaway container can take from its node
(CPU and memory exhaustion, cryptomining); requests let the scheduler place pods
so that neighbours are not starved. Probes let Kubernetes restart a hung
container and keep traffic away from one that is not ready.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Check, Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, Container, PodSpec, as_dict, dig, nearest_path, pod_spec
from cloudward.rules.text import show, who
from cloudward.rules.workload_common import workload_containers

RESOURCES_DOC = "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"
POD_LEVEL_RESOURCES_DOC = "https://kubernetes.io/docs/tasks/configure-pod-container/assign-pod-level-resources/"
PROBES_DOC = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/"
SIDECAR_DOC = "https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/"

_RESOURCES = (("cpu", "CPU"), ("memory", "memory"))
#: A non-negative Kubernetes quantity (apimachinery resource.Quantity): number, then an SI, binary or exponent suffix.
_QUANTITY = re.compile(r"^\+?(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")

#: The probe handler fields; a probe without one is rejected by the API server.
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")

#: Kinds whose pods run to completion: a liveness or readiness probe has nothing to guard.
RUN_TO_COMPLETION_KINDS = frozenset({"Job", "CronJob"})


def _quantity_state(value: Any) -> str:
    """``"set"``, ``"zero"``, ``"invalid"`` or ``"missing"`` for a resource quantity as written.

    ``null`` or an empty string is missing. A quantity whose number is zero
    (``0``, ``"0m"``, ``"0Gi"``) sets no bound and no reservation; a value that
    is no quantity at all (``"lots"``, ``-1``, a mapping) bounds nothing either,
    and the API server would reject it. Both are reported.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return "missing"
    if isinstance(value, bool):
        return "invalid"
    if isinstance(value, (int, float)):
        return "invalid" if value < 0 else "zero" if value == 0 else "set"
    if not isinstance(value, str):
        return "invalid"
    m = _QUANTITY.match(value.strip())
    if m is None:
        return "invalid"
    return "zero" if float(m.group(1)) == 0 else "set"


def _pod_level(spec: PodSpec, kind: str, resource: str) -> bool:
    """True when pod-level ``spec.resources`` (KEP-2837) sets ``kind`` for ``resource``."""
    return _quantity_state(dig(spec.spec, "resources", kind, resource)) == "set"


_Problem = tuple[str, str, str, Any]  # resource, label, state, value as written


def _resource_violation(container: Container, kind: str, noun: str, problems: list[_Problem]) -> Violation:
    """One violation naming every missing, zero or invalid ``resources.<kind>.<resource>`` of a container."""
    parts = []
    for resource, label, state, value in problems:
        field = f"resources.{kind}.{resource}"
        if state == "missing":
            parts.append(f"no {label} {noun} ({field})")
        else:
            parts.append(f"{'a zero' if state == 'zero' else 'an invalid'} {label} {noun} ({field}: {show(value)})")
    path: JsonPath
    if len(problems) == 1 and problems[0][2] != "missing":
        path = (*container.path, "resources", kind, problems[0][0])
    else:
        path = nearest_path(container.data, container.path, "resources", kind)
    return Violation(message=f"{who(container)} has {' and '.join(parts)}", path=path, container=container.name)


def _check_limits(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for container in workload_containers(spec):
        limits = as_dict(as_dict(container.data.get("resources")).get("limits"))
        problems: list[_Problem] = []
        for resource, label in _RESOURCES:
            state = _quantity_state(limits.get(resource))
            if state != "set" and not _pod_level(spec, "limits", resource):
                problems.append((resource, label, state, limits.get(resource)))
        if problems:
            yield _resource_violation(container, "limits", "limit", problems)


def _check_requests(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for container in workload_containers(spec):
        resources = as_dict(container.data.get("resources"))
        requests = as_dict(resources.get("requests"))
        limits = as_dict(resources.get("limits"))
        problems: list[_Problem] = []
        for resource, label in _RESOURCES:
            state = _quantity_state(requests.get(resource))
            if state == "missing" and _quantity_state(limits.get(resource)) == "set":
                continue  # the API server defaults a missing request to the limit
            if state != "set" and not (_pod_level(spec, "requests", resource) or _pod_level(spec, "limits", resource)):
                problems.append((resource, label, state, requests.get(resource)))
        if problems:
            yield _resource_violation(container, "requests", "request", problems)


def _is_run_to_completion(spec: PodSpec) -> bool:
    """A bare pod (or template) with ``restartPolicy`` Never/OnFailure is a batch pod."""
    return spec.spec.get("restartPolicy") in ("Never", "OnFailure")


def _long_running(spec: PodSpec) -> Iterator[Container]:
    """Regular containers, plus native sidecars (init containers with ``restartPolicy: Always``)."""
    for container in workload_containers(spec):
        if container.field == "containers" or container.data.get("restartPolicy") == "Always":
            yield container


def _probe_checker(field: str) -> Check:
    def check(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
        spec = pod_spec(obj)
        if spec is None or obj.kind in RUN_TO_COMPLETION_KINDS or _is_run_to_completion(spec):
            return
        for container in _long_running(spec):
            probe = container.data.get(field)
            if probe is None:
                yield Violation(
                    message=f"{who(container)} has no {field}",
                    path=container.path,
                    container=container.name,
                )
            elif not isinstance(probe, dict) or not any(probe.get(h) is not None for h in PROBE_HANDLERS):
                yield Violation(
                    message=f"{who(container)} has a {field} with no handler (exec, httpGet, tcpSocket or grpc)",
                    path=(*container.path, field),
                    container=container.name,
                )

    return check


_RESOURCE_SCOPE = (
    " Init containers are checked; ephemeral (debug) containers are not, as the API forbids resources on them."
    " A limit or request set in pod-level spec.resources (Kubernetes 1.32+) satisfies the rule for every"
    " container. A LimitRange in the target namespace may inject defaults at admission time; a manifest scan"
    " cannot see it, so set values explicitly or suppress this rule for that namespace."
)

_LIMITS_WHY = (
    "Without resources.limits.cpu and resources.limits.memory a container can take all the CPU and memory"
    " of its node, starving other pods and the kubelet; a compromised container can use the node for"
    " cryptomining or denial of service. A zero or malformed quantity sets no bound and is reported too."
)

_REQUESTS_WHY = (
    "Without resources.requests the scheduler reserves nothing for a container, so nodes are overcommitted"
    " and the container is among the first evicted under memory pressure. A request left out while the"
    " matching limit is set is not reported: the API server defaults the request to the limit."
)

_PROBE_SCOPE = (
    " Checked on regular containers and on native sidecars (init containers with restartPolicy: Always), which"
    " run for the pod's whole life and accept probes; not on ordinary init containers, which run to completion"
    " and may not have probes, nor on ephemeral containers. Jobs, CronJobs and pods with restartPolicy Never or"
    " OnFailure are skipped: they run to completion, are not behind Services, and a liveness restart of a batch"
    " container only repeats work the Job controller already retries."
)

RULES: tuple[Rule, ...] = (
    Rule(
        id="pod.resources-limits",
        title="Container has no CPU or memory limit",
        severity=Severity.MEDIUM,
        target=Target.K8S_OBJECT,
        check=_check_limits,
        description=_LIMITS_WHY + _RESOURCE_SCOPE,
        remediation="Set resources.limits.cpu and resources.limits.memory on every container, e.g. cpu: 500m, "
        "memory: 256Mi, sized from observed usage.",
        kinds=WORKLOAD_KINDS,
        references=(RESOURCES_DOC, POD_LEVEL_RESOURCES_DOC),
        controls=Controls(nsa=("Resource policies",), attack=("T1496",)),
    ),
    Rule(
        id="pod.resources-requests",
        title="Container has no CPU or memory request",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_check_requests,
        description=_REQUESTS_WHY + _RESOURCE_SCOPE,
        remediation="Set resources.requests.cpu and resources.requests.memory on every container, sized from "
        "observed usage.",
        kinds=WORKLOAD_KINDS,
        references=(RESOURCES_DOC, POD_LEVEL_RESOURCES_DOC),
        controls=Controls(nsa=("Resource policies",)),
    ),
    Rule(
        id="pod.liveness-probe",
        title="Container has no liveness probe",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_probe_checker("livenessProbe"),
        description=(
            "Without a livenessProbe the kubelet restarts a container only when its process exits, so a deadlocked"
            " or hung container keeps running and serving errors. A startupProbe does not replace it, and a probe"
            " with no handler is rejected by the API server." + _PROBE_SCOPE
        ),
        remediation="Add a livenessProbe (httpGet, tcpSocket, grpc or exec) that fails only when the process "
        "cannot recover by itself.",
        kinds=WORKLOAD_KINDS - RUN_TO_COMPLETION_KINDS,
        references=(PROBES_DOC, SIDECAR_DOC),
    ),
    Rule(
        id="pod.readiness-probe",
        title="Container has no readiness probe",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_probe_checker("readinessProbe"),
        description=(
            "Without a readinessProbe a pod is marked ready as soon as its containers start, so Services send it"
            " traffic before it can serve and keep sending it traffic when it cannot." + _PROBE_SCOPE
        ),
        remediation="Add a readinessProbe (httpGet, tcpSocket, grpc or exec) that succeeds only when the container "
        "can serve requests.",
        kinds=WORKLOAD_KINDS - RUN_TO_COMPLETION_KINDS,
        references=(PROBES_DOC, SIDECAR_DOC),
    ),
)
