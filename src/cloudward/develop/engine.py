"""The scan engine: runs the selected rules over objects and Dockerfiles.

Rules are indexed by kind once per run, so each object meets only the rules
that apply to it. A rule that raises becomes a ``rule`` problem naming the rule
and the resource (the run exits 3) — never a silent pass.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from cloudward.core.config import Exception_
from cloudward.core.errors import InputError
from cloudward.core.model import (
    Finding,
    Location,
    Problem,
    ProblemKind,
    ResourceRef,
    Suppression,
    SuppressionSource,
    TextFile,
    Violation,
)
from cloudward.core.report import ScanReport
from cloudward.core.rules import Rule, RuleContext, RuleRegistry, Target
from cloudward.core.settings import ScanSettings
from cloudward.develop.dockerfile import Dockerfile, parse_dockerfile
from cloudward.develop.suppress import config_suppression, inline_suppression
from cloudward.k8s.index import ObjectIndex
from cloudward.k8s.loader import Skipped, iter_documents
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import pod_spec

log = logging.getLogger(__name__)


def select_rules(registry: RuleRegistry, settings: ScanSettings) -> list[Rule]:
    """The rules this run evaluates, after --pss and the config's rule choices."""
    cfg = settings.config
    out = []
    for rule in registry:
        if settings.pss is not None:
            level = rule.controls.pss_level
            if level is None or level.rank > settings.pss.rank:
                continue
        if rule.id in cfg.disable:
            continue
        if cfg.enable_only is not None and rule.id not in cfg.enable_only:
            continue
        out.append(rule)
    version = settings.pss_version
    replaced = {r.replaces for r in out if r.replaces and version.at_least(r.replaces_since)}
    return [r for r in out if r.id not in replaced]


@dataclasses.dataclass(frozen=True, slots=True)
class ScanPart:
    """What a worker process hands back: its findings, problems and detached objects."""

    findings: tuple[Finding, ...]
    problems: tuple[Problem, ...]
    objects: tuple[K8sObject, ...]
    files: int


class Scanner:
    """Accumulates findings over many inputs; ``report()`` adds cross-object results."""

    def __init__(self, rules: Iterable[Rule], settings: ScanSettings, today: dt.date | None = None) -> None:
        self.rules = tuple(rules)
        self.settings = settings
        self.today = today or dt.date.today()
        self.ctx = RuleContext(pss_version=settings.pss_version)
        self._severity = dict(settings.config.severity)
        self._by_kind: dict[str, list[Rule]] = defaultdict(list)
        self._set_rules: list[Rule] = []
        self._dockerfile_rules: list[Rule] = []
        self._text_rules: list[Rule] = []
        for rule in self.rules:
            if rule.target is Target.K8S_OBJECT:
                for kind in rule.kinds:
                    self._by_kind[kind].append(rule)
            elif rule.target is Target.K8S_SET:
                self._set_rules.append(rule)
            elif rule.target is Target.DOCKERFILE:
                self._dockerfile_rules.append(rule)
            elif rule.target is Target.TEXT:
                self._text_rules.append(rule)
            # IMAGE rules belong to the distribute stage's image scan, not to files
        self.findings: list[Finding] = []
        self.problems: list[Problem] = []
        self.objects: list[K8sObject] = []
        self.files = 0
        self._expired_seen: set[str] = set()

    # -- inputs ---------------------------------------------------------------

    def fresh(self) -> Scanner:
        """An empty scanner with the same rules and settings (the admission webhook: one per request)."""
        return Scanner(self.rules, self.settings, self.today)

    def add_manifest_text(self, text: str, file: str) -> None:
        self.files += 1
        self.add_text(text, file)
        json_fallback = file.lower().endswith(".json")
        for item in iter_documents(text, file, json_fallback=json_fallback):
            if isinstance(item, K8sObject):
                self.add_object(item)
            elif isinstance(item, Skipped):
                self.problems.append(Problem(ProblemKind.SKIP, item.reason, file=item.file, line=item.line))
            elif "{{" in text and item.message.startswith("invalid YAML"):
                self.problems.append(Problem(ProblemKind.WARNING, "looks like an unrendered template ('{{ }}'), not "
                                             "YAML; render it (helm template, kustomize, …) and scan the output",
                                             file=item.file, line=item.line))
            else:
                self.problems.append(_input_problem(item))

    def add_object(self, obj: K8sObject) -> list[Finding]:
        """Evaluate the per-object rules on one object; returns (and keeps) its findings."""
        rules = self._by_kind.get(obj.kind, ())
        if not rules and obj.kind not in _KNOWN_WITHOUT_RULES:
            self.problems.append(Problem(ProblemKind.SKIP, f"no rules for kind {obj.kind} ({obj.api_version}); "
                                         "only cross-object checks apply", file=obj.file, line=obj.line))
        start = len(self.findings)
        ref = obj.ref()
        for rule in rules:
            for v in self._run(rule, obj, ref, obj.file, obj.line):
                self.findings.append(self._k8s_finding(rule, obj, v, ref))
        self.objects.append(_retained(obj) if self._set_rules else obj)
        return self.findings[start:]

    def add_text(self, text: str, file: str, dockerfile: Dockerfile | None = None) -> None:
        """Run the text rules (secrets) over a file's raw text; Dockerfile comments can suppress them."""
        if not self._text_rules:
            return
        subject = TextFile(file, text)
        ref = ResourceRef(kind="File", name=file)
        for rule in self._text_rules:
            for v in self._run(rule, subject, ref, file, None):
                suppressed = None
                if dockerfile is not None and self.settings.inline_suppressions and v.line is not None:
                    reason = dockerfile.ignored(rule.id, v.line)
                    if reason is not None:
                        suppressed = Suppression(SuppressionSource.INLINE, reason or None)
                if suppressed is None:
                    suppressed = self._config_suppression(rule.id, "File", None, file, file, None)
                self.findings.append(self._finding(rule, v, Location(file, v.line, v.column), ref, suppressed))

    def add_dockerfile_text(self, text: str, file: str) -> None:
        self.files += 1
        try:
            df = parse_dockerfile(text, file)
        except InputError as e:
            self.problems.append(_input_problem(e))
            self.add_text(text, file)
            return
        self.add_text(text, file, df)
        ref = ResourceRef(kind="Dockerfile", name=file)
        for rule in self._dockerfile_rules:
            for v in self._run(rule, df, ref, file, None):
                self.findings.append(self._dockerfile_finding(rule, df, ref, v))

    # -- results --------------------------------------------------------------

    def part(self) -> ScanPart:
        """This scanner's per-file results, ready to cross a process boundary (no YAML nodes)."""
        return ScanPart(tuple(self.findings), tuple(self.problems), tuple(o.detached() for o in self.objects),
                        self.files)

    def merge(self, part: ScanPart) -> None:
        """Add a worker's results, in order; an expired exception is reported once overall."""
        self.findings.extend(part.findings)
        for problem in part.problems:
            if problem.kind is ProblemKind.WARNING:
                key = f"{problem.file}:{problem.line}"
                if key in self._expired_seen:
                    continue
                self._expired_seen.add(key)
            self.problems.append(problem)
        self.objects.extend(part.objects)
        self.files += part.files

    def report(self) -> ScanReport:
        if self._set_rules and self.objects:
            index = ObjectIndex(self.objects)
            for rule in self._set_rules:
                for v in self._run(rule, index, None, None, None):
                    subject = v.subject
                    if not isinstance(subject, K8sObject):
                        self.problems.append(Problem(ProblemKind.RULE, f"rule {rule.id} reported a violation "
                                                     "without a subject object", rule_id=rule.id))
                        continue
                    self.findings.append(self._k8s_finding(rule, subject, v))
        findings = sorted(self.findings, key=lambda f: (f.location.file, f.location.line or 0, f.rule_id,
                                                        f.location.json_path or ""))
        return ScanReport(findings=tuple(findings), problems=tuple(self.problems), rules=self.rules,
                          files_scanned=self.files, resources_scanned=len(self.objects))

    # -- internals ------------------------------------------------------------

    def _run(self, rule: Rule, subject: object, ref: ResourceRef | None, file: str | None,
             line: int | None) -> list[Violation]:
        try:
            return list(rule.check(subject, self.ctx))
        except Exception as e:  # a crashing rule must become a visible error, never a pass
            on = f" on {ref.display()}" if ref else ""
            log.debug("rule %s crashed%s", rule.id, on, exc_info=True)
            self.problems.append(Problem(ProblemKind.RULE, f"rule {rule.id} crashed{on}: {type(e).__name__}: {e}",
                                         file=file, line=line, rule_id=rule.id, resource=ref))
            return []

    def _k8s_finding(self, rule: Rule, obj: K8sObject, v: Violation, ref: ResourceRef | None = None) -> Finding:
        line, column = obj.locate(v.path)
        suppressed = None
        if self.settings.inline_suppressions:
            suppressed = inline_suppression(obj, rule.id, v.path, v.container)
        if suppressed is None:
            suppressed = self._config_suppression(rule.id, obj.kind, obj.namespace, obj.name, obj.file, v.container)
        return self._finding(rule, v, Location(obj.file, line, column, obj.full_path(v.path)), ref or obj.ref(),
                             suppressed)

    def _dockerfile_finding(self, rule: Rule, df: Dockerfile, ref: ResourceRef, v: Violation) -> Finding:
        suppressed = None
        if self.settings.inline_suppressions and v.line is not None:
            reason = df.ignored(rule.id, v.line)
            if reason is not None:
                suppressed = Suppression(SuppressionSource.INLINE, reason or None)
        if suppressed is None:
            suppressed = self._config_suppression(rule.id, "Dockerfile", None, ref.name, ref.name, None)
        return self._finding(rule, v, Location(df.file, v.line), ref, suppressed)

    def _config_suppression(self, rule_id: str, kind: str | None, namespace: str | None, name: str | None,
                            file: str, container: str | None) -> Suppression | None:
        suppressed, expired = config_suppression(self.settings.exceptions, self.today, rule_id, kind, namespace,
                                                 name, file, container)
        if expired is not None:
            self._warn_expired(expired)
        return suppressed

    def _warn_expired(self, exc: Exception_) -> None:
        if exc.origin in self._expired_seen:
            return
        self._expired_seen.add(exc.origin)
        self.problems.append(Problem(ProblemKind.WARNING, f"exception for {', '.join(exc.rules)} expired on "
                                     f"{exc.expires}; it no longer suppresses findings (renew or remove it)",
                                     file=exc.origin.rsplit(":", 1)[0], line=int(exc.origin.rsplit(":", 1)[1])))

    def _finding(self, rule: Rule, v: Violation, location: Location, ref: ResourceRef,
                 suppressed: Suppression | None) -> Finding:
        return Finding(rule_id=rule.id, severity=self._severity.get(rule.id, rule.severity), title=rule.title,
                       message=v.message, location=location, resource=ref, controls=rule.controls,
                       remediation=rule.remediation, evidence=v.evidence, suppressed=suppressed)


def _retained(obj: K8sObject) -> K8sObject:
    """What cross-object rules keep of an object, so memory does not grow with pod specs and data.

    Workloads keep identity, metadata and their pod template's metadata (labels
    are what selectors match); ConfigMaps and Secrets keep identity only. Every
    other kind (RBAC, NetworkPolicies, Services, Namespaces, unknown kinds) is
    small and kept whole.
    """
    if obj.kind in ("ConfigMap", "Secret"):
        return obj.slim(())
    pod = pod_spec(obj)
    if pod is None:
        return obj
    slim = obj.slim((pod.metadata_path,))
    target: dict[str, Any] = slim.data
    for step in pod.path[:-1]:
        target = target.setdefault(str(step), {})
    target[str(pod.path[-1])] = {}  # pod_spec() finds the template by its spec
    return slim


def _input_problem(e: InputError) -> Problem:
    return Problem(ProblemKind.INPUT, e.message, file=e.file, line=e.line, column=e.column)


#: Kinds we know and deliberately have no per-object rules for (no "no rules" note).
_KNOWN_WITHOUT_RULES = frozenset({"ConfigMap", "Secret", "Namespace", "NetworkPolicy", "ServiceAccount",
                                  "PersistentVolumeClaim", "PodDisruptionBudget", "HorizontalPodAutoscaler",
                                  "LimitRange", "ResourceQuota", "PriorityClass", "StorageClass", "Endpoints",
                                  "EndpointSlice", "CustomResourceDefinition", "Event"})
