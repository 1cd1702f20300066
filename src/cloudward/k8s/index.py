"""An index over every object of one scan, for rules that look across objects.

Cross-object rules (a binding and its role, a namespace and its network
policies, two definitions of one resource) must stay linear in the number of
objects: a rule that compares every object with every other takes minutes on a
few hundred manifests. The index is built once per scan in one pass, and every
lookup afterwards is a dictionary access.

Namespaces: an object without ``metadata.namespace`` is indexed under the
namespace ``None``, meaning *unspecified*. Such a manifest lands in whatever
namespace ``kubectl`` targets when it is applied, which the scanner cannot
know, so the index never folds ``None`` into ``"default"``; each rule decides
(and documents) how it treats unspecified namespaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TypeVar

from cloudward.k8s.object import K8sObject

#: Kinds the API server stores without a namespace; ``metadata.namespace`` on
#: them is ignored, so identity rules must not tell two of them apart by it.
CLUSTER_SCOPED_KINDS: frozenset[str] = frozenset({
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
})

Namespace = str | None
NameKey = tuple[str, Namespace, str]

_EMPTY: tuple[K8sObject, ...] = ()
_K = TypeVar("_K")


def api_group(obj: K8sObject) -> str:
    """The API group of an object: ``"apps"`` for ``apps/v1``, ``""`` for the core ``v1``."""
    version = obj.api_version
    return version.rsplit("/", 1)[0] if "/" in version else ""


class ObjectIndex:
    """Read-only lookups over the objects of one scan, in their input order.

    Every accessor returns tuples in the order the objects were given, so rules
    built on the index report deterministically.
    """

    __slots__ = ("_by_kind", "_by_name", "_by_namespace", "_objects")

    def __init__(self, objects: Iterable[K8sObject]) -> None:
        all_objects = tuple(objects)
        by_kind: dict[str, list[K8sObject]] = {}
        by_name: dict[NameKey, list[K8sObject]] = {}
        by_namespace: dict[Namespace, list[K8sObject]] = {}
        for obj in all_objects:
            kind, namespace = obj.kind, obj.namespace
            by_kind.setdefault(kind, []).append(obj)
            by_name.setdefault((kind, namespace, obj.name), []).append(obj)
            by_namespace.setdefault(namespace, []).append(obj)
        self._objects = all_objects
        self._by_kind: Mapping[str, tuple[K8sObject, ...]] = _freeze(by_kind)
        self._by_name: Mapping[NameKey, tuple[K8sObject, ...]] = _freeze(by_name)
        self._by_namespace: Mapping[Namespace, tuple[K8sObject, ...]] = _freeze(by_namespace)

    def __iter__(self) -> Iterator[K8sObject]:
        return iter(self._objects)

    def __len__(self) -> int:
        return len(self._objects)

    @property
    def objects(self) -> tuple[K8sObject, ...]:
        return self._objects

    def kinds(self) -> frozenset[str]:
        """Every kind present (``""`` for objects without a kind)."""
        return frozenset(self._by_kind)

    def has_kind(self, *kinds: str) -> bool:
        return any(k in self._by_kind for k in kinds)

    def of_kind(self, *kinds: str) -> tuple[K8sObject, ...]:
        """Objects of the given kinds; with several kinds, in input order across them."""
        if len(kinds) == 1:
            return self._by_kind.get(kinds[0], _EMPTY)
        wanted = set(kinds)
        if not any(k in self._by_kind for k in wanted):
            return _EMPTY
        return tuple(o for o in self._objects if o.kind in wanted)

    def get(self, kind: str, namespace: Namespace, name: str) -> K8sObject | None:
        """The first object with this kind, namespace (``None``: unspecified) and name."""
        found = self._by_name.get((kind, namespace, name))
        return found[0] if found else None

    def lookup(self, kind: str, namespace: Namespace, name: str) -> tuple[K8sObject, ...]:
        """Every object with this kind, namespace and name (more than one means duplicates)."""
        return self._by_name.get((kind, namespace, name), _EMPTY)

    def in_namespace(self, namespace: Namespace) -> tuple[K8sObject, ...]:
        """Objects whose ``metadata.namespace`` is ``namespace`` (``None``: not set)."""
        return self._by_namespace.get(namespace, _EMPTY)

    def namespaces(self) -> tuple[Namespace, ...]:
        """Every namespace value seen, ``None`` included when some object has none, in first-seen order."""
        return tuple(self._by_namespace)


def _freeze(groups: dict[_K, list[K8sObject]]) -> Mapping[_K, tuple[K8sObject, ...]]:
    return MappingProxyType({k: tuple(v) for k, v in groups.items()})
