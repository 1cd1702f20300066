"""hostPath volumes that expose the node: runtime sockets and sensitive directories.

PSS baseline forbids every hostPath; these rules rank them, for clusters that
allow some (log shippers, CNI and CSI agents) and still want the dangerous ones
called out. Two rules, because their severities differ and a rule has one
severity: a container runtime socket (or a directory above one, up to ``/``) is
full control of the node, CRITICAL; the other system directories are HIGH.

Paths are compared after lexical normalization (``//``, ``.``, ``..``, trailing
``/``), and a path is sensitive both when it lies inside a sensitive location
and when it contains one: mounting ``/var`` exposes ``/var/run/docker.sock``.
Symlinks on the node cannot be resolved from a manifest, so both ``/run`` and
``/var/run`` spellings are listed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, as_dict, pod_spec
from cloudward.rules.text import show

HOSTPATH_DOC = "https://kubernetes.io/docs/concepts/storage/volumes/#hostpath"

#: Container runtime API sockets: whoever reaches one can start a privileged container on the node.
RUNTIME_SOCKETS: tuple[str, ...] = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/run/k3s/containerd/containerd.sock",
    "/var/snap/microk8s/common/run/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/podman/podman.sock",
    "/run/podman/podman.sock",
)

#: Windows named pipes of container runtimes (hostPath on Windows nodes), compared case-insensitively.
RUNTIME_PIPES: tuple[str, ...] = (r"\\.\pipe\docker_engine", r"\\.\pipe\containerd-containerd")

#: Host locations whose exposure gives away credentials, kernel interfaces, other pods' data or host binaries.
SENSITIVE_PATHS: tuple[str, ...] = (
    "/etc",
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/bin",
    "/sbin",
    "/lib",
    "/usr",
    "/run",
    "/var/run",
    "/var/log",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/etcd",
)


def normalize_host_path(path: str) -> str:
    """Lexically normalize a hostPath; a relative path is taken from ``/``, the kubelet's working directory."""
    return posixpath.normpath("/" + path.strip().lstrip("/"))


def _inside(path: str, base: str) -> bool:
    return path == base or base == "/" or path.startswith(base + "/")


def _host_paths(obj: K8sObject) -> Iterator[tuple[str, str, tuple[str | int, ...]]]:
    """(volume name, raw path, JSON path of ``hostPath.path``) for every hostPath volume."""
    spec = pod_spec(obj)
    if spec is None:
        return
    for volume, vpath in spec.volumes():
        raw = as_dict(volume.get("hostPath")).get("path")
        if isinstance(raw, str) and raw.strip():
            name = volume.get("name")
            yield (name if isinstance(name, str) else ""), raw, (*vpath, "hostPath", "path")


def _runtime_socket(raw: str) -> str | None:
    """The runtime socket exposed by mounting ``raw`` (itself or one below it), or ``None``."""
    if raw.strip().lower() in RUNTIME_PIPES:
        return raw.strip()
    if "\\" in raw:
        return None
    path = normalize_host_path(raw)
    for sock in RUNTIME_SOCKETS:
        if _inside(sock, path):
            return sock
    return None


def _check_runtime_socket(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for name, raw, jpath in _host_paths(obj):
        sock = _runtime_socket(raw)
        if sock is None:
            continue
        path = raw.strip() if "\\" in raw else normalize_host_path(raw)
        what = "the container runtime socket" if path == sock else f"a directory holding runtime socket {sock}"
        yield Violation(message=f"volume {show(name)} mounts host path {show(raw)}, {what}", path=jpath)


def _check_sensitive(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for name, raw, jpath in _host_paths(obj):
        if "\\" in raw or _runtime_socket(raw) is not None:
            continue  # Windows paths are out of scope; sockets belong to pod.runtime-socket-mount
        path = normalize_host_path(raw)
        for base in SENSITIVE_PATHS:
            if _inside(path, base):
                where = "" if path == base else f", inside sensitive host directory {base}"
                yield Violation(
                    message=f"volume {show(name)} mounts sensitive host path {show(raw)}{where}", path=jpath
                )
                break
            if _inside(base, path):
                yield Violation(
                    message=f"volume {show(name)} mounts host path {show(raw)}, which contains sensitive {base}",
                    path=jpath,
                )
                break


_CONTROLS = Controls(
    cis=("5.2.12",),
    nsa=("Pod security enforcement",),
    nist_800_190=("4.4.3", "4.5.5"),
    attack=("T1611", "T1610"),
)

RULES: tuple[Rule, ...] = (
    Rule(
        id="pod.runtime-socket-mount",
        title="hostPath exposes the container runtime socket",
        severity=Severity.CRITICAL,
        target=Target.K8S_OBJECT,
        check=_check_runtime_socket,
        description=(
            "A container that reaches the Docker, containerd, CRI-O or Podman API socket can start a privileged"
            " container with the host filesystem mounted: full control of the node, whatever the pod's own"
            " securityContext says, and a read-only mount does not help (connecting to a socket is not a write"
            " to the file). Reported for the socket itself and for any directory above it, up to /, after"
            " normalizing the path (trailing slashes, //, . and ..). Windows named pipes of Docker and containerd"
            " are reported too. The less critical system directories are pod.sensitive-host-path."
        ),
        remediation="Remove the hostPath volume. Build images with a daemonless builder (BuildKit rootless, kaniko, "
        "buildah) and read container metadata from the kubelet or CRI APIs through a dedicated agent.",
        kinds=WORKLOAD_KINDS,
        references=(HOSTPATH_DOC,),
        controls=_CONTROLS,
    ),
    Rule(
        id="pod.sensitive-host-path",
        title="hostPath exposes a sensitive host directory",
        severity=Severity.HIGH,
        target=Target.K8S_OBJECT,
        check=_check_sensitive,
        description=(
            "Mounting host system directories gives a container the node's credentials and configuration (/etc,"
            " /root, /home, /var/lib/kubelet with every pod's secrets), kernel interfaces (/proc, /sys, /dev), the"
            " images and data of other containers (/var/lib/docker, /var/lib/containerd, /var/lib/etcd), host"
            " binaries (/usr, /bin, /lib) and, with /var/log, a known symlink escape through the kubelet's log"
            " endpoint. A path is reported when it is one of these, lies inside one, or contains one (/var/lib"
            " contains /var/lib/kubelet), after lexical normalization. Paths exposing a runtime socket are left to"
            " pod.runtime-socket-mount. Read-only mounts are reported too: reading is enough to steal credentials."
        ),
        remediation="Remove the hostPath volume, or narrow it to the one file or directory the agent needs "
        "and mount it readOnly; prefer ConfigMaps, Secrets, emptyDir, CSI volumes or the Downward API.",
        kinds=WORKLOAD_KINDS,
        references=(HOSTPATH_DOC,),
        controls=_CONTROLS,
    ),
)
