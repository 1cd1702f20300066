"""ObjectIndex: lookups by kind, identity and namespace, in input order, read-only."""

from __future__ import annotations

from typing import Any

import pytest

from cloudward.k8s.index import ObjectIndex, api_group
from cloudward.k8s.object import K8sObject


def make(kind: str, name: str, namespace: str | None = None, api_version: str = "v1") -> K8sObject:
    md: dict[str, Any] = {"name": name}
    if namespace is not None:
        md["namespace"] = namespace
    return K8sObject(data={"apiVersion": api_version, "kind": kind, "metadata": md}, file="t.yaml")


@pytest.fixture
def objs() -> list[K8sObject]:
    return [
        make("Deployment", "web", "prod", "apps/v1"),
        make("Service", "web", "prod"),
        make("Deployment", "web", None, "apps/v1"),
        make("Namespace", "prod"),
        make("Deployment", "api", "prod", "apps/v1"),
        make("Deployment", "web", "prod", "apps/v1"),
    ]


def test_by_kind_keeps_input_order(objs: list[K8sObject]) -> None:
    index = ObjectIndex(objs)
    assert index.of_kind("Deployment") == (objs[0], objs[2], objs[4], objs[5])
    assert index.of_kind("Service", "Namespace") == (objs[1], objs[3])
    assert index.of_kind("Secret") == ()
    assert index.kinds() == {"Deployment", "Service", "Namespace"}
    assert index.has_kind("Secret", "Service") and not index.has_kind("Secret")


def test_identity_lookup_returns_the_first_and_all(objs: list[K8sObject]) -> None:
    index = ObjectIndex(objs)
    assert index.get("Deployment", "prod", "web") is objs[0]
    assert index.lookup("Deployment", "prod", "web") == (objs[0], objs[5])
    assert index.get("Deployment", "prod", "nope") is None
    assert index.lookup("Service", "dev", "web") == ()


def test_missing_namespace_is_unspecified_not_default(objs: list[K8sObject]) -> None:
    index = ObjectIndex(objs)
    assert index.get("Deployment", None, "web") is objs[2]
    assert index.get("Deployment", "default", "web") is None
    assert index.in_namespace(None) == (objs[2], objs[3])  # the Namespace object itself has none
    assert index.in_namespace("prod") == (objs[0], objs[1], objs[4], objs[5])
    assert index.namespaces() == ("prod", None)


def test_iteration_and_length(objs: list[K8sObject]) -> None:
    index = ObjectIndex(iter(objs))  # any iterable, consumed once
    assert len(index) == 6
    assert list(index) == objs
    assert index.objects == tuple(objs)


def test_index_is_read_only(objs: list[K8sObject]) -> None:
    index = ObjectIndex(objs)
    with pytest.raises(AttributeError):
        index.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        index._by_kind["Secret"] = ()  # type: ignore[index]
    objs.append(make("Secret", "s"))
    assert not index.has_kind("Secret")  # later changes to the input do not leak in


def test_wrongly_typed_metadata_is_indexed_without_crashing() -> None:
    odd = K8sObject(data={"kind": ["x"], "metadata": {"namespace": 3, "name": None}}, file="t.yaml")
    index = ObjectIndex([odd])
    assert index.of_kind("") == (odd,)
    assert index.in_namespace(None) == (odd,)


@pytest.mark.parametrize(("api_version", "group"), [
    ("apps/v1", "apps"), ("v1", ""), ("rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io"), ("", ""),
])
def test_api_group(api_version: str, group: str) -> None:
    assert api_group(make("X", "x", api_version=api_version)) == group
