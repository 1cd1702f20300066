"""hostPath rules: runtime sockets (CRITICAL) and sensitive host directories (HIGH).

A path is judged after lexical normalization, and is sensitive when it is, lies
inside, or contains a listed location; each path is reported by exactly one of
the two rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from cloudward.core.rules import RuleContext
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.rules.workload_hostpath import RULES, normalize_host_path

BY_ID = {r.id: r for r in RULES}
SOCKET = "pod.runtime-socket-mount"
SENSITIVE = "pod.sensitive-host-path"


def pod_with(*paths: Any) -> K8sObject:
    volumes = [{"name": f"v{i}", "hostPath": {"path": p}} for i, p in enumerate(paths)]
    data = {"kind": "DaemonSet", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"volumes": volumes}}}}
    return K8sObject(data=data, file="t.yaml")


def which(path: str) -> set[str]:
    o = pod_with(path)
    return {rule_id for rule_id, rule in BY_ID.items() if list(rule.check(o, RuleContext()))}


def test_severities() -> None:
    assert BY_ID[SOCKET].severity is Severity.CRITICAL
    assert BY_ID[SENSITIVE].severity is Severity.HIGH


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("/var/run/", "/var/run"),
        ("//var//run/docker.sock", "/var/run/docker.sock"),
        ("/var/lib/../run/./docker.sock", "/var/run/docker.sock"),
        ("/../..", "/"),
        ("var/log", "/var/log"),
        ("/", "/"),
    ],
)
def test_normalize_host_path(raw: str, normal: str) -> None:
    assert normalize_host_path(raw) == normal


@pytest.mark.parametrize(
    "path",
    [
        "/var/run/docker.sock",
        "/run/containerd/containerd.sock",
        "/var/run/crio/crio.sock",
        "/var/run/docker.sock/",
        "/var/lib/../run/docker.sock",
        "/var/run",  # holds docker.sock
        "/run",
        "/var",
        "/run/containerd",
        "/",
        "//",
        "/tmp/..",
        r"\\.\pipe\docker_engine",
    ],
)
def test_runtime_socket_paths_are_critical_only(path: str) -> None:
    assert which(path) == {SOCKET}


@pytest.mark.parametrize(
    "path",
    [
        "/etc",
        "/etc/",
        "/etc/kubernetes/pki",
        "/proc",
        "/sys/fs/cgroup",
        "/root/.ssh",
        "/home",
        "/var/lib/kubelet",
        "/var/lib/kubelet/pods",
        "/var/lib/docker",
        "/var/lib",  # contains /var/lib/kubelet
        "/var/log",
        "/run/xtables.lock",  # inside /run, not a runtime socket
        "/dev",
        "/usr/bin/../../etc/shadow",
    ],
)
def test_sensitive_paths_are_high_only(path: str) -> None:
    assert which(path) == {SENSITIVE}


@pytest.mark.parametrize(
    "path",
    ["/data", "/mnt/disks/ssd0", "/opt/app", "/tmp", "/var/lib/myapp", "/etcd-backup", "/homework", "/variable"],
)
def test_ordinary_paths_pass(path: str) -> None:
    assert which(path) == set()


def test_violation_points_at_host_path_and_names_volume() -> None:
    o = pod_with("/data", "/var/run/docker.sock", "/var/lib")
    vols = ("spec", "template", "spec", "volumes")
    sock = list(BY_ID[SOCKET].check(o, RuleContext()))
    assert [(v.path, v.container) for v in sock] == [((*vols, 1, "hostPath", "path"), None)]
    assert sock[0].message == 'volume "v1" mounts host path "/var/run/docker.sock", the container runtime socket'
    sens = list(BY_ID[SENSITIVE].check(o, RuleContext()))
    assert [v.path for v in sens] == [(*vols, 2, "hostPath", "path")]
    assert "contains sensitive /var/lib/kubelet" in sens[0].message


def test_ancestor_of_socket_message_names_the_socket() -> None:
    [v] = BY_ID[SOCKET].check(pod_with("/run/containerd/"), RuleContext())
    assert v.message.endswith("a directory holding runtime socket /run/containerd/containerd.sock")


def test_wrong_shapes_do_not_crash() -> None:
    data = {
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"volumes": [{"name": "a", "hostPath": "/etc"}, {"hostPath": {"path": 7}}, "x", {"emptyDir": {}}]},
    }
    o = K8sObject(data=data, file="t.yaml")
    for rule in RULES:
        assert list(rule.check(o, RuleContext())) == []
