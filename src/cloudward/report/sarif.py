"""SARIF 2.1.0 output, shaped for GitHub code scanning (and any other SARIF viewer).

GitHub turns each result into an alert and keeps tracking it across commits by
``partialFingerprints``; it shows ``security-severity`` as critical/high/medium/low
and the rule's ``help`` as the alert's documentation. So every evaluated rule is
described (not only those that fired), fingerprints ignore line numbers, and
suppressed findings are reported with ``suppressions`` instead of being dropped.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote, urlsplit

import cloudward
from cloudward.core.model import Controls, Finding, Problem, ProblemKind, SuppressionSource
from cloudward.core.report import ScanReport
from cloudward.core.rules import Rule, Target
from cloudward.core.severity import Severity
from cloudward.report._common import problem_level, sorted_findings, sorted_problems

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/cloudward/cloudward"
#: Base id of relative artifact URIs: the directory the scan ran in, normally the repository root.
SRCROOT = "%SRCROOT%"
#: Versioned key of our fingerprint; bump the suffix if what goes into the hash changes.
FINGERPRINT_KEY = "cloudward/v1"
#: GitHub rejects a run whose rules carry more than 20 tags (and displays only 10).
MAX_TAGS = 20

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub maps > 9.0 to critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
_SUPPRESSION_KIND = {SuppressionSource.INLINE: "inSource", SuppressionSource.CONFIG: "external",
                     SuppressionSource.VEX: "external"}
_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")
_PSEUDO_FILE = re.compile(r"^<[^<>]*>$")


def rule_name(rule_id: str) -> str:
    """``rbac.wildcard-verbs`` -> ``RbacWildcardVerbs``: SARIF wants an identifier-like name."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[.\-_]+", rule_id) if part)


def artifact_location(file: str) -> dict[str, str]:
    """A valid SARIF artifactLocation for whatever the user named the file.

    Relative paths stay relative to ``%SRCROOT%`` (GitHub resolves them against the
    repository root); absolute paths become ``file:`` URIs; pseudo files such as
    ``<stdin>`` become a percent-encoded relative reference with no base, because
    they name nothing on disk. Undecodable bytes (surrogate escapes) are encoded back.
    """
    if file == "-" or _PSEUDO_FILE.match(file):
        name = "<stdin>" if file == "-" else file
        return {"uri": quote(name, safe="", errors="surrogateescape")}
    if _WINDOWS_ABSOLUTE.match(file):
        return {"uri": PureWindowsPath(file).as_uri()}
    if file.startswith("/"):
        return {"uri": PurePosixPath(posixpath.normpath(file)).as_uri()}
    rel = posixpath.normpath(file)
    return {"uri": quote(rel, safe="/", errors="surrogateescape"), "uriBaseId": SRCROOT}


def fingerprint(finding: Finding) -> str:
    """A hash of rule id, resource and JSON path: stable when lines move.

    File-level findings without a JSON path (Dockerfiles) use their evidence or
    message instead, which names the offending instruction rather than its line.
    """
    resource = finding.resource.display() if finding.resource else ""
    where = finding.location.json_path
    if where is None:
        where = finding.evidence if finding.evidence is not None else finding.message
    data = "\x00".join((finding.rule_id, resource, where))
    return hashlib.sha256(data.encode("utf-8", "surrogateescape")).hexdigest()


def _is_url(reference: str) -> bool:
    """References may be prose ("CIS Docker Benchmark 4.9"); only real URLs become links."""
    parts = urlsplit(reference)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in reference)


def _tags(controls: Controls, target: Target | None) -> list[str]:
    """Most useful first, because GitHub shows only the first 10 tags."""
    tags = ["security"]
    if target is not None:
        tags.append("dockerfile" if target is Target.DOCKERFILE else "kubernetes")
    if controls.pss_level is not None:
        tags.append(f"PSS:{controls.pss_level.value}")
    tags += [f"CIS-{c}" for c in controls.cis]
    tags += [f"ATTACK-{t}" for t in controls.attack]
    tags += [f"NIST-800-190-{s}" for s in controls.nist_800_190]
    tags += [f"NSA-CISA:{s}" for s in controls.nsa]
    return list(dict.fromkeys(tags))[:MAX_TAGS]


def _attack_url(technique: str) -> str:
    return "https://attack.mitre.org/techniques/" + technique.replace(".", "/") + "/"


def _control_lines(controls: Controls, *, markdown: bool) -> list[str]:
    lines = []
    if controls.pss_level is not None:
        control = f": {controls.pss_control}" if controls.pss_control else ""
        lines.append(f"Pod Security Standards ({controls.pss_level.value}){control}")
    if controls.cis:
        lines.append("CIS Kubernetes Benchmark: " + ", ".join(controls.cis))
    if controls.nsa:
        lines.append("NSA/CISA Kubernetes Hardening Guide: " + "; ".join(controls.nsa))
    if controls.nist_800_190:
        lines.append("NIST SP 800-190: " + ", ".join(controls.nist_800_190))
    if controls.attack:
        ids = [f"[{t}]({_attack_url(t)})" if markdown else t for t in controls.attack]
        lines.append("MITRE ATT&CK: " + ", ".join(ids))
    return lines


def _help(description: str, remediation: str, references: tuple[str, ...], controls: Controls) -> dict[str, str]:
    text = [description] if description else []
    md = [description] if description else []
    if remediation:
        text.append(f"Remediation: {remediation}")
        md.append(f"**Remediation:** {remediation}")
    if controls_text := _control_lines(controls, markdown=False):
        text.append("Controls:\n" + "\n".join(f"- {line}" for line in controls_text))
        md.append("**Controls:**\n\n" + "\n".join(f"- {line}" for line in _control_lines(controls, markdown=True)))
    if references:
        text.append("References:\n" + "\n".join(f"- {ref}" for ref in references))
        md.append("**References:**\n\n" + "\n".join(f"- <{ref}>" if _is_url(ref) else f"- {ref}"
                                                     for ref in references))
    return {"text": "\n\n".join(text), "markdown": "\n\n".join(md)}


def _descriptor(rule_id: str, title: str, description: str, remediation: str, references: tuple[str, ...],
                severity: Severity, controls: Controls, target: Target | None) -> dict[str, Any]:
    desc: dict[str, Any] = {
        "id": rule_id,
        "name": rule_name(rule_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": description or title},
        "help": _help(description, remediation, references, controls),
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": {
            "tags": _tags(controls, target),
            "security-severity": _SECURITY_SEVERITY[severity],
            "precision": "high",
            "severity": severity.value,
            "controls": controls.to_dict(),
        },
    }
    urls = [ref for ref in references if _is_url(ref)]
    if urls:
        desc["helpUri"] = urls[0]
    return desc


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    return _descriptor(rule.id, rule.title, rule.description, rule.remediation, rule.references,
                       rule.severity, rule.controls, rule.target)


def _finding_descriptor(finding: Finding) -> dict[str, Any]:
    """For a finding whose rule the report does not list: describe it from the finding itself."""
    return _descriptor(finding.rule_id, finding.title, finding.title, finding.remediation, (),
                       finding.severity, finding.controls, None)


def _region(line: int | None, column: int | None) -> dict[str, int]:
    # GitHub requires a start line; a finding about a whole file points at its first line.
    region = {"startLine": line if line is not None and line >= 1 else 1}
    if line is not None and column is not None and column >= 1:
        region["startColumn"] = column
    return region


def _location(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": artifact_location(loc.file), "region": _region(loc.line, loc.column)},
    }
    logical: list[dict[str, str]] = []
    resource = finding.resource.display() if finding.resource else None
    if finding.resource is not None and resource is not None:
        logical.append({"name": finding.resource.name, "fullyQualifiedName": resource, "kind": "resource"})
    json_path = loc.json_path
    if json_path is not None:
        fqn = f"{resource}:{json_path}" if resource else json_path
        logical.append({"name": json_path, "fullyQualifiedName": fqn, "kind": "property" if loc.path else "object"})
    if logical:
        location["logicalLocations"] = logical
    if loc.layer:
        location["properties"] = {"layer": loc.layer}  # the image layer that holds the file
    return location


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
        "properties": {"severity": finding.severity.value},
    }
    if finding.evidence is not None:
        result["properties"]["evidence"] = finding.evidence
    if finding.suppressed is not None:
        sup = finding.suppressed
        suppression: dict[str, Any] = {"kind": _SUPPRESSION_KIND[sup.source], "status": "accepted"}
        if sup.reason:
            suppression["justification"] = sup.reason
        if sup.expires is not None:
            suppression["properties"] = {"expires": sup.expires.isoformat()}
        result["suppressions"] = [suppression]
    return result


def _notification(problem: Problem, rule_index: dict[str, int]) -> dict[str, Any]:
    note: dict[str, Any] = {
        "level": problem_level(problem.kind),
        "message": {"text": problem.message},
        "descriptor": {"id": f"cloudward.{problem.kind.value}"},
        "properties": {"kind": problem.kind.value},
    }
    if problem.file is not None:
        note["locations"] = [{"physicalLocation": {
            "artifactLocation": artifact_location(problem.file),
            "region": _region(problem.line, problem.column),
        }}]
    if problem.rule_id is not None:
        ref: dict[str, Any] = {"id": problem.rule_id}
        if problem.rule_id in rule_index:
            ref["index"] = rule_index[problem.rule_id]
        note["associatedRule"] = ref
    if problem.resource is not None:
        note["properties"]["resource"] = problem.resource.display()
    return note


def sarif_log(report: ScanReport) -> dict[str, Any]:
    """The SARIF log as data: one run, every evaluated rule, every finding and problem."""
    findings = sorted_findings(report)
    descriptors = {rule.id: _rule_descriptor(rule) for rule in report.rules}
    for finding in findings:
        if finding.rule_id not in descriptors:
            descriptors[finding.rule_id] = _finding_descriptor(finding)
    rules = [descriptors[rule_id] for rule_id in sorted(descriptors)]
    rule_index = {desc["id"]: i for i, desc in enumerate(rules)}
    notifications = [_notification(p, rule_index) for p in sorted_problems(report)]
    invocation: dict[str, Any] = {"executionSuccessful": not report.problems_of(ProblemKind.RULE)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run = {
        "tool": {"driver": {
            "name": "cloudward",
            "version": cloudward.__version__,
            "semanticVersion": cloudward.__version__,
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, rule_index[f.rule_id]) for f in findings],
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: ScanReport) -> str:
    return json.dumps(sarif_log(report), indent=2, ensure_ascii=True) + "\n"
