"""The finding model every stage reports in: where, what, how bad, which controls."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

from cloudward.core.errors import where_prefix
from cloudward.core.jsonpath import JsonPath, format_path
from cloudward.core.severity import Severity


class PSSLevel(enum.Enum):
    """Pod Security Standards levels, least to most restrictive."""

    PRIVILEGED = "privileged"
    BASELINE = "baseline"
    RESTRICTED = "restricted"

    @property
    def rank(self) -> int:
        return list(PSSLevel).index(self)


@dataclasses.dataclass(frozen=True, slots=True)
class Controls:
    """Control-framework mappings of a rule.

    ``pss_level``/``pss_control`` name the Pod Security Standards control exactly as
    the Kubernetes documentation titles it; the others are identifiers in their
    frameworks (CIS Kubernetes Benchmark "5.2.2", NSA/CISA Kubernetes Hardening
    Guide section titles, NIST SP 800-190 section "4.4.3", ATT&CK "T1611").
    """

    pss_level: PSSLevel | None = None
    pss_control: str | None = None
    cis: tuple[str, ...] = ()
    nsa: tuple[str, ...] = ()
    nist_800_190: tuple[str, ...] = ()
    attack: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.pss_level is not None:
            out["pss"] = {"level": self.pss_level.value, "control": self.pss_control}
        if self.cis:
            out["cis_kubernetes"] = list(self.cis)
        if self.nsa:
            out["nsa_cisa"] = list(self.nsa)
        if self.nist_800_190:
            out["nist_800_190"] = list(self.nist_800_190)
        if self.attack:
            out["mitre_attack"] = list(self.attack)
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is: a file (``-`` read as ``<stdin>``), 1-based line/column, JSON path."""

    file: str
    line: int | None = None
    column: int | None = None
    path: JsonPath | None = None
    layer: str | None = None  # the image layer digest, for files inside container images

    @property
    def json_path(self) -> str | None:
        return None if self.path is None else format_path(self.path)

    def display(self) -> str:
        out = self.file
        if self.line is not None:
            out += f":{self.line}"
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class ResourceRef:
    """The resource a finding is about: a Kubernetes object or a file-level artifact."""

    kind: str
    name: str
    namespace: str | None = None
    api_version: str | None = None

    def display(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }


class SuppressionSource(enum.Enum):
    INLINE = "inline"  # an annotation or comment in the scanned file
    CONFIG = "config"  # an exception in .cloudward.yaml
    VEX = "vex"  # a VEX statement (OpenVEX, CycloneDX) that the product is not affected


@dataclasses.dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding is suppressed; suppressed findings are still reported."""

    source: SuppressionSource
    reason: str | None = None
    expires: dt.date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.value,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    """What a rule's check function yields: a message and where in its subject.

    ``path`` is relative to the checked object; ``line`` is for line-based subjects
    (Dockerfiles); ``container`` names the container for per-container
    suppressions; ``subject`` is set by cross-object rules to name the object the
    violation belongs to.
    """

    message: str
    path: JsonPath = ()
    line: int | None = None
    column: int | None = None
    container: str | None = None
    subject: Any = None
    evidence: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One result of one rule on one resource, with everything a report needs."""

    rule_id: str
    severity: Severity
    title: str
    message: str
    location: Location
    resource: ResourceRef | None
    controls: Controls
    remediation: str = ""
    evidence: str | None = None
    suppressed: Suppression | None = None
    #: Stage-specific fields added to the same JSON shape (a vulnerability's id, package, fixed
    #: versions…); documented with the JSON report schema.
    extra: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "json_path": self.location.json_path,
            "layer": self.location.layer,
            "resource": self.resource.to_dict() if self.resource else None,
            "controls": self.controls.to_dict(),
            "remediation": self.remediation,
            "evidence": self.evidence,
            "suppressed": self.suppressed is not None,
            "suppression": self.suppressed.to_dict() if self.suppressed else None,
        }
        if self.extra:
            out.update(self.extra)
        return out


class ProblemKind(enum.Enum):
    """What went wrong, which decides the exit code.

    ``input``: the user's file or setting is wrong (exit 2). ``rule``: a rule
    crashed (exit 3). ``warning``: worth telling (an expired exception). ``skip``:
    a file or document that was deliberately not scanned (a debug note).
    """

    INPUT = "input"
    RULE = "rule"
    WARNING = "warning"
    SKIP = "skip"


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """An input error, a crashed rule, or a skipped file, as reports show it."""

    kind: ProblemKind
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    rule_id: str | None = None
    resource: ResourceRef | None = None

    def display(self) -> str:
        return where_prefix(self.file, self.line, self.column) + self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "rule_id": self.rule_id,
            "resource": self.resource.to_dict() if self.resource else None,
        }


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class TextFile:
    """A scanned file's text, for rules that read any file as text (secrets)."""

    path: str
    text: str
    #: Views computed once per file and shared by the rules that ask (all secret matches).
    derived: dict[str, Any] = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)
