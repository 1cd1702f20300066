"""Factories for the PSS rule tests: build objects from YAML and run one rule."""

from __future__ import annotations

from typing import Any

import yaml

from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import Violation
from cloudward.core.rules import PSSVersion, Rule, RuleContext
from cloudward.k8s.object import K8sObject
from cloudward.rules.pss import RULES

BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


def obj(text: str) -> K8sObject:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return K8sObject(data=data, file="t.yaml")


def pod(spec: dict[str, Any], annotations: dict[str, Any] | None = None) -> K8sObject:
    """A Pod with ``spec``; ``metadata.annotations`` when given."""
    md: dict[str, Any] = {"name": "p"}
    if annotations is not None:
        md["annotations"] = annotations
    return K8sObject(data={"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}, file="t.yaml")


def ctx(version: str = "latest") -> RuleContext:
    return RuleContext(pss_version=PSSVersion.parse(version))


def violations(rule_id: str, o: K8sObject, version: str = "latest") -> list[Violation]:
    return list(BY_ID[rule_id].check(o, ctx(version)))


def found(rule_id: str, o: K8sObject, version: str = "latest") -> list[tuple[JsonPath, str | None]]:
    """(path, container) of every violation, in the order the rule yields them."""
    return [(v.path, v.container) for v in violations(rule_id, o, version)]


def c(name: str = "app", **security_context: Any) -> dict[str, Any]:
    """A container with a securityContext built from keyword arguments (none when empty)."""
    out: dict[str, Any] = {"name": name, "image": "example.com/app:1"}
    if security_context:
        out["securityContext"] = security_context
    return out
