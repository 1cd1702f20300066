"""Baseline PSS controls about reaching the host: namespaces, privileged mode,
capabilities, hostPath, hostPort, probe hosts and Windows HostProcess.

Each check mirrors the PSA check named in its rule's references, field for
field, and yields one violation per offending field so every finding points at
the line to change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudward.core.model import PSSLevel, Violation
from cloudward.core.rules import Rule, RuleContext
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import as_dict, as_list, pod_spec
from cloudward.rules.pss_common import (
    V_HOST_PROBES,
    is_int,
    is_set,
    is_true,
    pod_security_context_path,
    pss_rule,
    sc_dict,
)
from cloudward.rules.text import show, who

B = PSSLevel.BASELINE
POD_SECURITY = "Pod security enforcement"
RUNTIME_CONFIG = "4.4.3"


def _host_namespaces(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if is_true(spec.spec.get(field)):
            yield Violation(
                message=f"host namespaces (pod must not set spec.{field}: true)",
                path=(*spec.path, field),
            )


def _privileged(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for c in spec.containers():
        if is_true(c.security_context.get("privileged")):
            yield Violation(
                message=f"privileged ({who(c)} must not set securityContext.privileged: true)",
                path=(*c.path, "securityContext", "privileged"),
                container=c.name,
            )


#: Capabilities Baseline lets a container add: Docker's historical default set minus NET_RAW.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


def _capabilities_baseline(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for c in spec.containers():
        add = sc_dict(c.data, "capabilities").get("add")
        bad = [cap for cap in as_list(add) if not (isinstance(cap, str) and cap in BASELINE_CAPABILITIES)]
        if bad:
            shown = ", ".join(show(cap) for cap in bad)
            yield Violation(
                message=f"non-default capabilities ({who(c)} must not include {shown} "
                "in securityContext.capabilities.add)",
                path=(*c.path, "securityContext", "capabilities", "add"),
                container=c.name,
            )


def _host_path(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for volume, path in spec.volumes():
        if is_set(volume, "hostPath"):
            yield Violation(
                message=f"hostPath volumes (volume {show(volume.get('name'))} must not set hostPath)",
                path=(*path, "hostPath"),
            )


def _host_ports(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for c in spec.containers():
        for i, port in enumerate(as_list(c.data.get("ports"))):
            value = as_dict(port).get("hostPort")
            if value is None or (is_int(value) and value == 0):
                continue
            yield Violation(
                message=f"hostPort ({who(c)} must not set ports[{i}].hostPort: {show(value)})",
                path=(*c.path, "ports", i, "hostPort"),
                container=c.name,
            )


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_HANDLERS = ("httpGet", "tcpSocket")
_HOOKS = ("postStart", "preStop")


def _host_probes(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    if not ctx.pss_version.at_least(V_HOST_PROBES):
        return
    spec = pod_spec(obj)
    if spec is None:
        return
    for c in spec.containers():
        places: list[tuple[tuple[str, ...], Any]] = [((p,), c.data.get(p)) for p in _PROBES]
        lifecycle = as_dict(c.data.get("lifecycle"))
        places += [(("lifecycle", h), lifecycle.get(h)) for h in _HOOKS]
        for where, handler in places:
            for kind in _HANDLERS:
                host = as_dict(as_dict(handler).get(kind)).get("host")
                if host is None or host == "":
                    continue
                field = ".".join((*where, kind, "host"))
                yield Violation(
                    message=f"probe or lifecycle host ({who(c)} must not set {field}: {show(host)})",
                    path=c.path + where + (kind, "host"),
                    container=c.name,
                )


def _host_process(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    if is_true(as_dict(spec.security_context.get("windowsOptions")).get("hostProcess")):
        yield Violation(
            message="hostProcess (pod must not set securityContext.windowsOptions.hostProcess: true)",
            path=(*pod_security_context_path(spec), "windowsOptions", "hostProcess"),
        )
    for c in spec.containers():
        if is_true(sc_dict(c.data, "windowsOptions").get("hostProcess")):
            yield Violation(
                message=f"hostProcess ({who(c)} must not set securityContext.windowsOptions.hostProcess: true)",
                path=(*c.path, "securityContext", "windowsOptions", "hostProcess"),
                container=c.name,
            )


RULES: tuple[Rule, ...] = (
    pss_rule(
        id="pod.host-process",
        title="Windows HostProcess containers are forbidden",
        level=B,
        control="HostProcess",
        severity=Severity.CRITICAL,
        check=_host_process,
        description="A Windows HostProcess container runs directly on the node with host privileges; "
        "it is the Windows equivalent of a privileged container.",
        remediation="Remove securityContext.windowsOptions.hostProcess or set it to false.",
        source_file="check_windowsHostProcess.go",
        cis=("5.2.11",),
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.host-namespaces",
        title="Pods must not share the host's network, PID or IPC namespace",
        level=B,
        control="Host Namespaces",
        severity=Severity.CRITICAL,
        check=_host_namespaces,
        description="hostNetwork, hostPID and hostIPC put the pod in the node's namespaces, exposing host "
        "processes, network traffic and shared memory to it.",
        remediation="Remove spec.hostNetwork, spec.hostPID and spec.hostIPC, or set them to false.",
        source_file="check_hostNamespaces.go",
        cis=("5.2.3", "5.2.4", "5.2.5"),
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611", "T1040"),
    ),
    pss_rule(
        id="pod.privileged",
        title="Privileged containers are forbidden",
        level=B,
        control="Privileged Containers",
        severity=Severity.CRITICAL,
        check=_privileged,
        description="A privileged container has all capabilities and host devices and no confinement; "
        "escaping to the node is trivial.",
        remediation="Remove securityContext.privileged or set it to false; grant only the capabilities needed.",
        source_file="check_privileged.go",
        cis=("5.2.2",),
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.capabilities-baseline",
        title="Containers may add only the default capabilities",
        level=B,
        control="Capabilities",
        severity=Severity.HIGH,
        check=_capabilities_baseline,
        description="Adding capabilities beyond the default set (for example NET_RAW, SYS_ADMIN, SYS_PTRACE) "
        "gives a container kernel powers that enable escapes and network attacks.",
        remediation="Remove capabilities outside AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, "
        "NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT from securityContext.capabilities.add.",
        source_file="check_capabilities_baseline.go",
        cis=("5.2.8", "5.2.9"),
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.host-path",
        title="hostPath volumes are forbidden",
        level=B,
        control="HostPath Volumes",
        severity=Severity.HIGH,
        check=_host_path,
        description="A hostPath volume mounts part of the node's filesystem into the pod, which can expose "
        "credentials, the container runtime socket or the whole host.",
        remediation="Replace the hostPath volume with a persistentVolumeClaim, configMap, secret or emptyDir.",
        source_file="check_hostPathVolumes.go",
        cis=("5.2.12",),
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG, "4.5.5"),
        attack=("T1611",),
    ),
    pss_rule(
        id="pod.host-ports",
        title="Containers must not bind host ports",
        level=B,
        control="Host Ports",
        severity=Severity.HIGH,
        check=_host_ports,
        description="A hostPort exposes the container on the node's own address, bypassing network policy "
        "and Service-level controls.",
        remediation="Remove ports[].hostPort (or set it to 0) and expose the container through a Service.",
        source_file="check_hostPorts.go",
        cis=("5.2.13",),
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
    ),
    pss_rule(
        id="pod.host-probes",
        title="Probes and lifecycle hooks must not target another host",
        level=B,
        control="Host Probes / Lifecycle Hooks",
        severity=Severity.HIGH,
        check=_host_probes,
        description="A host in an httpGet or tcpSocket probe or lifecycle hook makes the kubelet connect to an "
        "arbitrary address from the node, which can reach services the pod itself cannot (policy v1.34+).",
        remediation="Remove the host field so the kubelet probes the pod's own IP.",
        source_file="check_hostProbesAndhostLifecycle.go",
        nsa=(POD_SECURITY,),
        nist=(RUNTIME_CONFIG,),
    ),
)
