"""Containers that listen on a privileged port (below 1024).

Binding a port below the network namespace's ``net.ipv4.ip_unprivileged_port_start``
(1024 unless lowered) needs root or CAP_NET_BIND_SERVICE, so a container that
declares such a port usually keeps one of the two only to listen, and those are
what a hardened container gives up first. The fix rarely costs anything: listen
on a high port and let the Service map the well-known port to it.

Only ``containerPort`` is read. A ``hostPort`` is bound on the node by the CNI
port mapping, not by the container, so a low one needs no privilege inside the
pod; any hostPort at all is already pod.host-ports' finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, PodSpec, as_dict, as_list, pod_spec
from cloudward.rules.text import who

#: The kernel's default first unprivileged port (``ip_unprivileged_port_start``).
UNPRIVILEGED_PORT_START = 1024
SYSCTL = "net.ipv4.ip_unprivileged_port_start"
SYSCTL_DOC = "https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/"
KERNEL_DOC = "https://docs.kernel.org/networking/ip-sysctl.html"


def _is_port(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _unprivileged_port_start(pod: PodSpec) -> int:
    """The first port a non-root process may bind in this pod, as far as the manifest says.

    A pod may lower it with the (safe since Kubernetes 1.22) sysctl; the kubelet
    accepts the name with dots or slashes. Host-network pods may not set ``net.*``
    sysctls and bind in the node's namespace, so for them the default stands.
    A node's runtime may lower it too (containerd 2.0 does), which no manifest shows.
    """
    if pod.spec.get("hostNetwork") is True:
        return UNPRIVILEGED_PORT_START
    start = UNPRIVILEGED_PORT_START
    for item in as_list(pod.security_context.get("sysctls")):
        entry = as_dict(item)
        name, value = entry.get("name"), entry.get("value")
        if not isinstance(name, str) or name.replace("/", ".") != SYSCTL or not isinstance(value, str):
            continue
        try:
            start = int(value.strip())
        except ValueError:
            continue
    return start


def _check_privileged_port(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    pod = pod_spec(obj)
    if pod is None:
        return
    # a pod that raises the sysctl above 1024 is odd but not this rule's business
    limit = min(_unprivileged_port_start(pod), UNPRIVILEGED_PORT_START)
    where = " on the node's own network" if pod.spec.get("hostNetwork") is True else ""
    for container in pod.containers():
        for i, port in enumerate(as_list(container.data.get("ports"))):
            number = as_dict(port).get("containerPort")
            # 0 and negative numbers are invalid (the API rejects them); nothing is bound
            if not _is_port(number) or not 0 < number < limit:
                continue
            yield Violation(
                f"{who(container)} declares containerPort {number}{where}, below {UNPRIVILEGED_PORT_START}: "
                "binding it needs root or CAP_NET_BIND_SERVICE",
                (*container.path, "ports", i, "containerPort"),
                container=container.name,
            )


RULES: tuple[Rule, ...] = (
    Rule(
        id="pod.privileged-port",
        title="Container listens on a privileged port",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_check_privileged_port,
        kinds=WORKLOAD_KINDS,
        description="A containerPort below 1024 can only be bound by root or with CAP_NET_BIND_SERVICE, so the "
        "container keeps a privilege it needs for nothing else. Like Trivy KSV117 this reads containerPort "
        "only, but it reports each port rather than the object, and rates it low rather than high: the port "
        "is in the pod's own network namespace, not the node's, unless the pod uses hostNetwork. A low "
        "hostPort is left to pod.host-ports, which reports every hostPort; it is bound on the node, not by "
        "the container. Not reported when the pod lowers net.ipv4.ip_unprivileged_port_start (a safe sysctl "
        "since Kubernetes 1.22) to or below the port. Runtimes that lower it for every pod (containerd 2.0, "
        "Docker) are invisible to a manifest scan, and the same pod needs the privilege again on CRI-O or "
        "an older containerd. A containerPort is informational: a container can listen on ports it does not "
        "declare, and those are not seen.",
        remediation="Listen on a port of 1024 or above and let the Service map the well-known port to it "
        "(port: 443, targetPort: 8443). If the image cannot change its port, set the sysctl "
        "net.ipv4.ip_unprivileged_port_start to 0 in spec.securityContext.sysctls rather than run as root or "
        "add NET_BIND_SERVICE.",
        references=(SYSCTL_DOC, KERNEL_DOC),
        controls=Controls(nsa=("Pod security: non-root containers",), nist_800_190=("4.4.3",)),
    ),
)
