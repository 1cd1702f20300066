"""Rules are frozen metadata plus a pure check function; a registry holds them.

A check never keeps state between calls: it takes its subject and a
``RuleContext`` (run-wide parameters such as the Pod Security Standards version)
and yields ``Violation`` values. The engine of each stage turns those into
findings with file, line and JSON path.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cloudward.core.model import Controls, PSSLevel, Violation
from cloudward.core.severity import Severity

_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+$")


class Target(enum.Enum):
    """What a rule's check function receives."""

    K8S_OBJECT = "k8s-object"  # check(obj: K8sObject, ctx) — one object at a time
    K8S_SET = "k8s-set"  # check(objects: ObjectIndex, ctx) — cross-object, Violation.subject set
    DOCKERFILE = "dockerfile"  # check(dockerfile: Dockerfile, ctx) — Violation.line set
    TEXT = "text"  # check(file: TextFile, ctx) — any scanned file as text (secrets); Violation.line set
    IMAGE = "image"  # check(facts, ctx) — an image's config and filesystem facts (distribute stage)


@dataclasses.dataclass(frozen=True, slots=True)
class PSSVersion:
    """A Pod Security Standards policy version (``v1.N``); ``None`` minor means latest."""

    minor: int | None = None

    @classmethod
    def parse(cls, text: str) -> PSSVersion:
        text = text.strip()
        if text == "latest":
            return cls(None)
        m = re.fullmatch(r"v1\.(\d+)", text)
        if not m:
            raise ValueError(f"invalid Pod Security Standards version {text!r}; use 'latest' or v1.N, e.g. v1.30")
        return cls(int(m.group(1)))

    def at_least(self, minor: int) -> bool:
        """True when this version includes a check introduced in ``v1.<minor>``."""
        return self.minor is None or self.minor >= minor

    def __str__(self) -> str:
        return "latest" if self.minor is None else f"v1.{self.minor}"


@dataclasses.dataclass(frozen=True, slots=True)
class RuleContext:
    """Run-wide parameters a check may read; immutable for the whole run."""

    pss_version: PSSVersion = PSSVersion()


Check = Callable[[Any, RuleContext], Iterable[Violation]]


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """One rule: stable slug id, metadata, control mappings and its check."""

    id: str
    title: str
    severity: Severity
    target: Target
    check: Check
    description: str
    remediation: str
    kinds: frozenset[str] = frozenset()
    references: tuple[str, ...] = ()
    controls: Controls = Controls()
    #: Another rule this one supersedes when both are selected, from PSS policy minor
    #: ``replaces_since`` on (Pod Security Admission's OverrideCheckIDs): running both
    #: would only report the same field twice.
    replaces: str | None = None
    replaces_since: int = 0

    def __post_init__(self) -> None:
        if not _SLUG.match(self.id):
            raise ValueError(f"rule id {self.id!r} is not a dotted slug like 'pod.privileged'")
        if self.target in (Target.K8S_OBJECT, Target.K8S_SET) and not self.kinds:
            raise ValueError(f"rule {self.id} must name the kinds it applies to")

    @property
    def pss_level(self) -> PSSLevel | None:
        return self.controls.pss_level


class RuleRegistry:
    """An explicit, ordered set of rules; registering a duplicate id fails."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._rules: dict[str, Rule] = {}
        for rule in rules:
            self.register(rule)

    def register(self, rule: Rule) -> None:
        if rule.id in self._rules:
            raise ValueError(f"duplicate rule id {rule.id!r}")
        self._rules[rule.id] = rule

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def get(self, rule_id: str) -> Rule:
        try:
            return self._rules[rule_id]
        except KeyError:
            raise KeyError(f"unknown rule id {rule_id!r}") from None

    def ids(self) -> list[str]:
        return list(self._rules)

    def select(self, predicate: Callable[[Rule], bool]) -> RuleRegistry:
        return RuleRegistry(r for r in self._rules.values() if predicate(r))


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """Rule metadata as plain data (``rules list --format json``, SARIF, docs)."""
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity.value,
        "target": rule.target.value,
        "kinds": sorted(rule.kinds),
        "description": rule.description,
        "remediation": rule.remediation,
        "references": list(rule.references),
        "controls": rule.controls.to_dict(),
    }
