"""Where each workload kind keeps its pod template, and safe access to pod specs.

Rules must tolerate objects of the wrong shape (a user's typo must never crash
a rule), so every accessor here checks types and returns empty values instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from cloudward.core.jsonpath import JsonPath
from cloudward.k8s.object import K8sObject

#: Path from the object root to the pod spec, for every kind that carries one.
POD_SPEC_PATHS: dict[str, JsonPath] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}

#: Every kind that carries a pod spec (directly or in a template).
WORKLOAD_KINDS: frozenset[str] = frozenset(POD_SPEC_PATHS)

CONTAINER_FIELDS: tuple[str, ...] = ("initContainers", "containers", "ephemeralContainers")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dig(data: Any, *path: str | int) -> Any:
    """Follow ``path`` through dicts and lists; ``None`` where anything is missing."""
    for step in path:
        if isinstance(step, str) and isinstance(data, dict):
            data = data.get(step)
        elif isinstance(step, int) and isinstance(data, list) and -len(data) <= step < len(data):
            data = data[step]
        else:
            return None
    return data


def nearest_path(data: Any, base: JsonPath, *keys: str) -> JsonPath:
    """Path to the deepest of ``keys`` that exists (non-null) under ``data``, starting from ``base``.

    Used when a required field is missing: the finding points where the user
    would add it, e.g. ``securityContext`` if there is one, else the container.
    """
    path = base
    node: Any = data
    for key in keys:
        if not isinstance(node, dict) or node.get(key) is None:
            break
        path = (*path, key)
        node = node[key]
    return path


@dataclasses.dataclass(frozen=True, slots=True)
class PodSpec:
    """A pod spec found in an object, with its path and the pod's metadata."""

    spec: dict[str, Any]
    path: JsonPath
    metadata: dict[str, Any]
    metadata_path: JsonPath

    @property
    def annotations(self) -> dict[str, Any]:
        return as_dict(self.metadata.get("annotations"))

    @property
    def labels(self) -> dict[str, Any]:
        return as_dict(self.metadata.get("labels"))

    @property
    def security_context(self) -> dict[str, Any]:
        return as_dict(self.spec.get("securityContext"))

    def containers(self) -> Iterator[Container]:
        """Init, regular and ephemeral containers, in that order."""
        for field in CONTAINER_FIELDS:
            for i, c in enumerate(as_list(self.spec.get(field))):
                if isinstance(c, dict):
                    yield Container(c, (*self.path, field, i), field)

    def volumes(self) -> Iterator[tuple[dict[str, Any], JsonPath]]:
        for i, v in enumerate(as_list(self.spec.get("volumes"))):
            if isinstance(v, dict):
                yield v, (*self.path, "volumes", i)


@dataclasses.dataclass(frozen=True, slots=True)
class Container:
    """One container of a pod spec; ``field`` is containers/initContainers/ephemeralContainers."""

    data: dict[str, Any]
    path: JsonPath
    field: str

    @property
    def name(self) -> str:
        n = self.data.get("name")
        return n if isinstance(n, str) else ""

    @property
    def security_context(self) -> dict[str, Any]:
        return as_dict(self.data.get("securityContext"))

    @property
    def image(self) -> str | None:
        i = self.data.get("image")
        return i if isinstance(i, str) else None


def pod_spec(obj: K8sObject) -> PodSpec | None:
    """The pod spec of a workload object, or ``None`` for other kinds or bad shapes.

    Computed once per object: most rules start by asking for it.
    """
    try:
        cached: PodSpec | None = obj.derived["pod_spec"]
        return cached
    except KeyError:
        pass
    obj.derived["pod_spec"] = found = _find_pod_spec(obj)
    return found


def _find_pod_spec(obj: K8sObject) -> PodSpec | None:
    path = POD_SPEC_PATHS.get(obj.kind)
    if path is None:
        return None
    spec = dig(obj.data, *path)
    if not isinstance(spec, dict):
        return None
    md_path: JsonPath = ("metadata",) if obj.kind == "Pod" else (*path[:-1], "metadata")
    return PodSpec(spec, path, as_dict(dig(obj.data, *md_path)), md_path)
