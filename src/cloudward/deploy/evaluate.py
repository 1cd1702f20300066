"""Run the rules of ``cloudward scan`` on one admitted object, through the scan engine itself.

The same ``Scanner.add_object`` that scans a file checks the object of an
AdmissionReview (file ``<admission>``, JSON paths relative to the object), so
rule ids, messages and suppressions are identical in CI and at the API server.

PSS rules depend on the policy version (``ctx.pss_version``), and namespaces may
pin different versions per mode, so ``RuleSets`` groups the rules to run by
version; usually every mode is ``latest`` and one pass is enough.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from cloudward.core.config import Config
from cloudward.core.imageref import parse_image
from cloudward.core.model import Controls, Finding, PSSLevel, Violation
from cloudward.core.rules import PSSVersion, Rule, RuleContext, RuleRegistry, Target
from cloudward.core.settings import ScanSettings
from cloudward.core.severity import Severity
from cloudward.deploy.verifier import GateUnavailable
from cloudward.develop.engine import Scanner
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, pod_spec
from cloudward.rules.pss import PSS_OVERRIDES, pss_rules_for

ADMISSION_FILE = "<admission>"


class RuleCrash(Exception):
    """A rule raised on the admitted object; the webhook's failure mode decides the answer."""


@dataclasses.dataclass(frozen=True, slots=True)
class Evaluation:
    """Findings of one pass (one PSS version) and warnings worth passing on (expired exceptions)."""

    version: PSSVersion
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()


class RuleSets:
    """The rules admission can run, split into PSS and other rules; built once per policy.

    ``config`` is the shared ``.cloudward.yaml``: ``rules.disable`` and
    ``enable_only`` remove rules here exactly as they do for ``cloudward scan``.
    Cross-object (``K8S_SET``) and Dockerfile rules need more than one object
    and do not run at admission.
    """

    def __init__(self, registry: RuleRegistry, config: Config, extra: Iterable[Rule] = ()) -> None:
        def wanted(rule: Rule) -> bool:
            if rule.id in config.disable:
                return False
            return config.enable_only is None or rule.id in config.enable_only

        rules = [r for r in registry if r.target is Target.K8S_OBJECT and wanted(r)] + list(extra)
        self.by_id: dict[str, Rule] = {r.id: r for r in rules}
        self.other: frozenset[str] = frozenset(r.id for r in rules if r.pss_level is None)
        self.pss: frozenset[str] = frozenset(r.id for r in rules if r.pss_level is not None)
        self.kinds: frozenset[str] = frozenset(k for r in rules for k in r.kinds)
        self.config = config
        self._cache: dict[tuple[PSSLevel, PSSVersion], frozenset[str]] = {}
        self._scanners: dict[tuple[PSSVersion, frozenset[str], bool, dt.date], Scanner] = {}

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


    def scanner(self, version: PSSVersion, rule_ids: frozenset[str], inline: bool, today: dt.date) -> Scanner:
        """A fresh scanner for one object.

        The rules are indexed by kind once per selection (and day, which decides
        expired exceptions); each request gets ``Scanner.fresh()``: the same
        rules and settings with empty results, so every request that meets an
        expired exception says so.
        """
        key = (version, rule_ids, inline, today)
        template = self._scanners.get(key)
        if template is None:
            settings = ScanSettings(pss_version=version, inline_suppressions=inline, config=self.config)
            template = Scanner([self.by_id[i] for i in sorted(rule_ids)], settings, today)
            if len(self._scanners) >= 256:
                self._scanners.clear()
            self._scanners[key] = template
        return template.fresh()


def evaluate(obj: dict[str, Any], rule_ids: frozenset[str], rules: RuleSets, version: PSSVersion,
             inline_suppressions: bool, today: dt.date) -> Evaluation:
    """Run ``rule_ids`` on ``obj`` with the scan engine; a crashing rule raises ``RuleCrash``."""
    scanner = rules.scanner(version, rule_ids, inline_suppressions, today)
    findings = scanner.add_object(K8sObject(obj, ADMISSION_FILE))
    notes: list[str] = []
    for problem in scanner.problems:
        if problem.kind.value == "rule":
            marker = f"{GateUnavailable.__name__}: "
            if marker in problem.message:  # a gate could not reach its registry: say so, not "crashed"
                raise RuleCrash(f"{problem.rule_id}: {problem.message.split(marker, 1)[1]}")
            raise RuleCrash(problem.message)
        if problem.kind.value == "warning":
            notes.append(problem.message)
    return Evaluation(version, tuple(findings), tuple(notes))


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

