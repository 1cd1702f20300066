"""Run the rules of ``cloudward scan`` on one admitted object: same rules, ids, paths and messages.

``cloudward scan`` runs a rule through ``Scanner``, which builds a full
``Finding`` (file position, resource, controls, remediation) for every
violation. Admission needs only the rule id, the JSON path, the message and
whether a suppression lifts it, so this module calls the very same rule
checks and suppression functions (``develop.suppress``) but keeps just those
four fields: about half the cost of a review went into findings, positions and
per-request scanner set-up that the answer never shows. The scan/admission
parity test (tests/deploy/test_review.py) pins that both produce the same
(rule id, path, message) set.

Which rules run, at which PSS version and in which mode depends only on the
namespace's policy, so ``RuleSets.plan`` computes that once per distinct
namespace policy (rules whose mode is ``off`` are not run at all) and indexes
each pass's rules by kind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator

from cloudward.core.config import Exception_
from cloudward.core.imageref import parse_image
from cloudward.core.jsonpath import format_path
from cloudward.core.model import Controls, PSSLevel, Suppression, Violation
from cloudward.core.rules import PSSVersion, Rule, RuleContext, RuleRegistry, Target
from cloudward.core.severity import Severity
from cloudward.deploy.model import Mode
from cloudward.deploy.policy import AdmissionPolicy, PSSPolicy
from cloudward.deploy.verifier import GateUnavailable
from cloudward.develop.suppress import config_suppression, inline_suppression
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, pod_spec
from cloudward.rules.pss import PSS_OVERRIDES, pss_rules_for

ADMISSION_FILE = "<admission>"
MAX_PLANS = 256


class RuleCrash(Exception):
    """A rule raised on the admitted object; the webhook's failure mode decides the answer."""


@dataclasses.dataclass(frozen=True, slots=True)
class Hit:
    """One violation as admission reports it: what ``Finding`` would say, minus what the answer never shows."""

    rule_id: str
    path: str  # the JSON path, as Finding.location.json_path renders it
    message: str
    suppressed: Suppression | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Pass:
    """The rules run at one PSS version, each with the mode its violations are judged in, indexed by kind."""

    version: PSSVersion
    modes: dict[str, Mode]
    by_kind: dict[str, tuple[Rule, ...]]
    ctx: RuleContext


#: (rule id, JSON path) → the hit and its mode; the strongest mode wins when passes overlap.
Found = dict[tuple[str, str], tuple[Hit, Mode]]


class RuleSets:
    """The rules admission can run for one policy, split into PSS and other rules; built once per policy.

    ``policy.config`` is the shared ``.cloudward.yaml``: ``rules.disable`` and
    ``enable_only`` remove rules here exactly as they do for ``cloudward scan``.
    Cross-object (``K8S_SET``) and Dockerfile rules need more than one object
    and do not run at admission.
    """

    def __init__(self, registry: RuleRegistry, policy: AdmissionPolicy, extra: Iterable[Rule] = ()) -> None:
        config = policy.config

        def wanted(rule: Rule) -> bool:
            if rule.id in config.disable:
                return False
            return config.enable_only is None or rule.id in config.enable_only

        rules = [r for r in registry if r.target is Target.K8S_OBJECT and wanted(r)] + list(extra)
        self.policy = policy
        self.by_id: dict[str, Rule] = {r.id: r for r in rules}
        self.other: frozenset[str] = frozenset(r.id for r in rules if r.pss_level is None)
        self.pss: frozenset[str] = frozenset(r.id for r in rules if r.pss_level is not None)
        self.kinds: frozenset[str] = frozenset(k for r in rules for k in r.kinds)
        self._cache: dict[tuple[PSSLevel, PSSVersion], frozenset[str]] = {}
        self._plans: dict[tuple[PSSPolicy, Mode | None], tuple[Pass, ...]] = {}

    def pss_ids(self, level: PSSLevel, version: PSSVersion) -> frozenset[str]:
        """The PSS checks Pod Security Admission runs for ``level`` at ``version`` (selected ones only)."""
        key = (level, version)
        found = self._cache.get(key)
        if found is None:
            found = frozenset(r.id for r in pss_rules_for(level, version)) & self.pss
            self._cache[key] = found
        return found

    def scan_pss_ids(self, version: PSSVersion) -> frozenset[str]:
        """The PSS rules ``cloudward scan`` reports at ``version``: all, minus those a selected rule replaces."""
        replaced = {base for new, base, minor in PSS_OVERRIDES if new in self.pss and version.at_least(minor)}
        return self.pss - replaced

    def plan(self, pss: PSSPolicy, rules_mode: Mode | None) -> tuple[Pass, ...]:
        """Which rules run at which PSS version and the mode each is judged in, for one namespace policy.

        Cached per distinct (PSA levels and versions, ``cloudward.io/rules-mode``):
        a cluster has a handful, and every review in those namespaces reuses it.
        """
        key = (pss, rules_mode)
        found = self._plans.get(key)
        if found is None:
            found = self._make_plan(pss, rules_mode)
            if len(self._plans) >= MAX_PLANS:
                self._plans.clear()
            self._plans[key] = found
        return found

    def _make_plan(self, pss: PSSPolicy, rules_mode: Mode | None) -> tuple[Pass, ...]:
        plan: dict[PSSVersion, dict[str, Mode]] = {}

        def add(version: PSSVersion, ids: Iterable[str], mode: Mode | None) -> None:
            modes = plan.setdefault(version, {})
            for rule_id in ids:
                m = mode if mode is not None else self.policy.rule_mode(rule_id, rules_mode)
                if m is not Mode.OFF and m > modes.get(rule_id, Mode.OFF):
                    modes[rule_id] = m

        for mode, level in pss.modes():
            if level.level is not PSSLevel.PRIVILEGED:
                add(level.version, self.pss_ids(level.level, level.version), mode)
        version = self.policy.pss_version
        add(version, self.other | self.scan_pss_ids(version), None)
        passes = []
        for v, modes in plan.items():
            if not modes:
                continue
            by_kind: dict[str, list[Rule]] = {}
            for rule_id in sorted(modes):  # the scan engine's order, so notes come out the same
                rule = self.by_id[rule_id]
                for kind in rule.kinds:
                    by_kind.setdefault(kind, []).append(rule)
            passes.append(Pass(v, modes, {k: tuple(rs) for k, rs in by_kind.items()}, RuleContext(pss_version=v)))
        return tuple(passes)


def evaluate(obj: K8sObject, passes: tuple[Pass, ...], exceptions: tuple[Exception_, ...], inline: bool,
             today: dt.date) -> tuple[Found, list[str]]:
    """Run every pass on ``obj``; returns its violations and warnings worth passing on (expired exceptions).

    A crashing rule raises ``RuleCrash`` naming the rule and the object; a gate
    that could not reach its registry says so instead of "crashed".
    """
    found: Found = {}
    notes: list[str] = []
    for p in passes:
        rules = p.by_kind.get(obj.kind, ())
        for rule in rules:
            mode = p.modes[rule.id]
            for v in _check(rule, obj, p.ctx):
                path = format_path(tuple(v.path))
                key = (rule.id, path)
                if key in found and mode <= found[key][1]:
                    continue
                suppressed = inline_suppression(obj, rule.id, v.path, v.container) if inline else None
                if suppressed is None:
                    suppressed, expired = config_suppression(exceptions, today, rule.id, obj.kind, obj.namespace,
                                                             obj.name, obj.file, v.container)
                    if expired is not None:
                        note = _expired_note(expired)
                        if note not in notes:
                            notes.append(note)
                found[key] = (Hit(rule.id, path, v.message, suppressed), mode)
    return found, notes


def violation_keys(obj: K8sObject, passes: tuple[Pass, ...]) -> set[tuple[str, str]]:
    """Only the (rule id, path) of each violation: all an UPDATE needs of the old object."""
    keys: set[tuple[str, str]] = set()
    for p in passes:
        for rule in p.by_kind.get(obj.kind, ()):
            keys.update((rule.id, format_path(tuple(v.path))) for v in _check(rule, obj, p.ctx))
    return keys


def _check(rule: Rule, obj: K8sObject, ctx: RuleContext) -> list[Violation]:
    try:
        return list(rule.check(obj, ctx))
    except GateUnavailable as e:  # a gate could not reach its registry: say so, not "crashed"
        raise RuleCrash(f"{rule.id}: {e}") from e
    except Exception as e:  # a crashing rule must become a deliberate answer, never a pass
        raise RuleCrash(f"rule {rule.id} crashed on {obj.ref().display()}: {type(e).__name__}: {e}") from e


def _expired_note(exc: Exception_) -> str:
    """The scan engine's warning for an expired exception, word for word."""
    return (f"exception for {', '.join(exc.rules)} expired on {exc.expires}; it no longer suppresses findings "
            "(renew or remove it)")


def registry_gate(allowed: tuple[str, ...]) -> Rule:
    """The allowed-registries gate as a rule, so it reports through the same engine and formats."""
    prefixes = tuple(a.rstrip("/") for a in allowed)

    def check(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
        spec = pod_spec(obj)
        if spec is None:
            return
        for container in spec.containers():
            image = container.image
            if image is None or not image.strip():
                continue
            name = normalized_name(image)
            if any(name == p or name.startswith(p + "/") for p in prefixes):
                continue
            yield Violation(message=f'container "{container.name}" image "{image}" ({name}) is not from an '
                            f"allowed registry or repository: {', '.join(allowed)}",
                            path=(*container.path, "image"), container=container.name)

    return Rule(
        id="pod.image-registry", title="Image is not from an allowed registry", severity=Severity.HIGH,
        target=Target.K8S_OBJECT, check=check, kinds=WORKLOAD_KINDS,
        description="Admission gate: every container image must come from a registry or repository prefix "
        "listed in admission.images.allowed_registries (Docker Hub short names count as docker.io/library/...).",
        remediation="Push the image to an allowed registry, or add its registry to "
        "admission.images.allowed_registries.",
        controls=Controls(nist_800_190=("4.1.5",), attack=("T1525",)),
    )


def normalized_name(image: str) -> str:
    """``registry/repository`` with Docker's defaults: ``nginx`` → ``docker.io/library/nginx``."""
    ref = parse_image(image)
    registry = ref.registry or "docker.io"
    repo = ref.repository
    if registry == "docker.io" and "/" not in repo:
        repo = "library/" + repo
    return f"{registry}/{repo}"

