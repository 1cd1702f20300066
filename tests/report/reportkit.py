"""Hand-built ScanReports for the report-format tests (no scanner involved).

``sample_report()`` mixes every case a format has to handle: several files
(relative, absolute with a space, ``<stdin>``, a Dockerfile), suppressed findings
of both sources, a rule evaluated without findings, a file-level finding without a
JSON path, a message with control characters, and one problem of each kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from cloudward.core.model import (
    Controls,
    Finding,
    Location,
    Problem,
    ProblemKind,
    PSSLevel,
    ResourceRef,
    Suppression,
    SuppressionSource,
    Violation,
)
from cloudward.core.report import ScanReport
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity


def _never(subject: Any, ctx: RuleContext) -> Iterator[Violation]:
    return iter(())


PRIVILEGED = Rule(
    id="pod.privileged",
    title="Privileged container",
    severity=Severity.CRITICAL,
    target=Target.K8S_OBJECT,
    check=_never,
    description="A privileged container has all host capabilities and device access.",
    remediation="Remove securityContext.privileged or set it to false.",
    kinds=frozenset({"Pod", "Deployment"}),
    references=("https://kubernetes.io/docs/concepts/security/pod-security-standards/",),
    controls=Controls(pss_level=PSSLevel.BASELINE, pss_control="Privileged Containers", cis=("5.2.2",),
                      nsa=("Kubernetes Pod security",), nist_800_190=("4.4.3",), attack=("T1611",)),
)
RUN_AS_NON_ROOT = Rule(
    id="pod.run-as-non-root",
    title="Container may run as root",
    severity=Severity.MEDIUM,
    target=Target.K8S_OBJECT,
    check=_never,
    description="Containers must set runAsNonRoot: true.",
    remediation="Set securityContext.runAsNonRoot: true.",
    kinds=frozenset({"Pod", "Deployment"}),
    controls=Controls(pss_level=PSSLevel.RESTRICTED, pss_control="Running as Non-root"),
)
USER_ROOT = Rule(
    id="dockerfile.user-root",
    title="Image runs as root",
    severity=Severity.HIGH,
    target=Target.DOCKERFILE,
    check=_never,
    description="The last USER instruction selects root.",
    remediation="Add USER with a non-root uid.",
    references=("https://docs.docker.com/reference/dockerfile/#user", "https://example.org/second"),
)
WILDCARD_VERBS = Rule(
    id="rbac.wildcard-verbs",
    title="Role grants every verb",
    severity=Severity.LOW,
    target=Target.K8S_OBJECT,
    check=_never,
    description="A rule with verbs: ['*'] grants future verbs too.",
    remediation="List the verbs needed.",
    kinds=frozenset({"Role", "ClusterRole"}),
)
RULES = (PRIVILEGED, RUN_AS_NON_ROOT, USER_ROOT, WILDCARD_VERBS)

WEB = ResourceRef(kind="Deployment", name="web", namespace="prod", api_version="apps/v1")
DEBUG_POD = ResourceRef(kind="Pod", name="debug", api_version="v1")


def finding(rule: Rule, file: str, line: int | None, *, column: int | None = None,
            path: tuple[str | int, ...] | None = None, resource: ResourceRef | None = None,
            message: str = "bad", severity: Severity | None = None, evidence: str | None = None,
            suppressed: Suppression | None = None) -> Finding:
    return Finding(
        rule_id=rule.id,
        severity=severity or rule.severity,
        title=rule.title,
        message=message,
        location=Location(file=file, line=line, column=column, path=path),
        resource=resource,
        controls=rule.controls,
        remediation=rule.remediation,
        evidence=evidence,
        suppressed=suppressed,
    )


def report(findings: tuple[Finding, ...] = (), problems: tuple[Problem, ...] = (),
           rules: tuple[Rule, ...] = RULES, files: int = 1, resources: int = 1) -> ScanReport:
    return ScanReport(findings=findings, problems=problems, rules=rules, files_scanned=files,
                      resources_scanned=resources)


CONTAINER0 = ("spec", "template", "spec", "containers", 0)

# Deliberately not in the order the reports must print them.
SAMPLE_FINDINGS = (
    finding(RUN_AS_NON_ROOT, "k8s/deploy.yaml", 30, column=11, path=(*CONTAINER0, "securityContext"), resource=WEB,
            message='container "app" does not set runAsNonRoot',
            suppressed=Suppression(SuppressionSource.INLINE, "accepted: legacy image", dt.date(2030, 1, 31))),
    finding(PRIVILEGED, "k8s/deploy.yaml", 12, column=9, path=(*CONTAINER0, "securityContext", "privileged"),
            resource=WEB, message='container "app" sets securityContext.privileged: true'),
    finding(USER_ROOT, "Dockerfile", 7, message="USER root", evidence="USER root"),
    finding(PRIVILEGED, "/abs/dir with space/pod.yaml", 5, column=3, path=("spec", "containers", 0), resource=DEBUG_POD,
            message='container "sh\x1b[2J\x00" sets securityContext.privileged: true'),
    finding(RUN_AS_NON_ROOT, "<stdin>", 3, path=("spec",), resource=DEBUG_POD,
            message="pod does not set runAsNonRoot", suppressed=Suppression(SuppressionSource.CONFIG)),
    finding(WILDCARD_VERBS, "k8s/rbac.yaml", 4, path=("rules", 0, "verbs"),
            resource=ResourceRef(kind="ClusterRole", name="admin-ish", api_version="rbac.authorization.k8s.io/v1"),
            message="rule 0 grants verbs: ['*']"),
)
SAMPLE_PROBLEMS = (
    Problem(ProblemKind.SKIP, "not a manifest or Dockerfile", file="logo.png"),
    Problem(ProblemKind.RULE, "rule pod.privileged crashed: KeyError 'spec'", file="k8s/deploy.yaml", line=1,
            rule_id="pod.privileged", resource=WEB),
    Problem(ProblemKind.INPUT, "mapping values are not allowed here", file="k8s/bad.yaml", line=3, column=5),
    Problem(ProblemKind.WARNING, "exception for pod.privileged expired on 2024-01-31", file=".cloudward.yaml", line=4),
)


def sample_report() -> ScanReport:
    return report(SAMPLE_FINDINGS, SAMPLE_PROBLEMS, files=7, resources=9)
