"""Kubernetes objects read from files, with positions, and their pod specs."""

from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import (
    POD_SPEC_PATHS,
    WORKLOAD_KINDS,
    Container,
    PodSpec,
    as_dict,
    as_list,
    dig,
    pod_spec,
)

__all__ = [
    "POD_SPEC_PATHS",
    "WORKLOAD_KINDS",
    "Container",
    "K8sObject",
    "PodSpec",
    "as_dict",
    "as_list",
    "dig",
    "pod_spec",
]
