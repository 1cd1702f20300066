"""An alert: one rule matching one event (or, after aggregation, several), with a stable fingerprint."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from cloudward.runtime.rules.model import Priority


@dataclasses.dataclass(frozen=True, slots=True)
class AlertSuppression:
    """Why an alert is accepted: a ``.cloudward.yaml`` exception (reported, never sent to sinks)."""

    reason: str
    origin: str  # file:line of the exception
    expires: dt.date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": "config", "reason": self.reason,
                "expires": self.expires.isoformat() if self.expires else None, "exception": self.origin}


@dataclasses.dataclass(frozen=True, slots=True)
class Alert:
    """What detection reports. ``count`` > 1 after de-duplication; ``last_time`` is then the latest match."""

    rule: str
    priority: Priority
    output: str
    time: str
    tags: tuple[str, ...]
    source: str
    event: dict[str, Any]
    fingerprint: str
    rule_id: str = ""
    output_fields: dict[str, Any] = dataclasses.field(default_factory=dict)
    file: str | None = None
    line: int | None = None
    count: int = 1
    last_time: str | None = None
    suppressed: AlertSuppression | None = None

    @property
    def attack(self) -> tuple[str, ...]:
        """MITRE ATT&CK technique ids among the tags."""
        return tuple(t for t in self.tags if t[:1] == "T" and t[1:5].isdigit())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: Falco's alert keys (rule, priority, output, time, tags, source, output_fields) plus ours."""
        return {
            "rule": self.rule,
            "rule_id": self.rule_id,
            "priority": self.priority.value,
            "severity": self.priority.severity.value,
            "output": self.output,
            "time": self.time,
            "tags": list(self.tags),
            "mitre_attack": list(self.attack),
            "source": self.source,
            "fingerprint": self.fingerprint,
            "count": self.count,
            "last_time": self.last_time or self.time,
            "location": {"file": self.file, "line": self.line} if self.file else None,
            "output_fields": self.output_fields,
            "suppressed": self.suppressed.to_dict() if self.suppressed else None,
            "event": self.event,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Alert:
        """Read back what ``to_dict`` wrote (dead-letter replay, tests)."""
        loc = d.get("location") or {}
        sup = d.get("suppressed")
        suppressed = None
        if isinstance(sup, dict):
            exp = sup.get("expires")
            suppressed = AlertSuppression(str(sup.get("reason", "")), str(sup.get("exception", "")),
                                          dt.date.fromisoformat(exp) if exp else None)
        return cls(rule=str(d["rule"]), priority=Priority.parse(str(d["priority"])), output=str(d.get("output", "")),
                   time=str(d.get("time", "")), tags=tuple(d.get("tags") or ()), source=str(d.get("source", "")),
                   event=dict(d.get("event") or {}), fingerprint=str(d.get("fingerprint", "")),
                   rule_id=str(d.get("rule_id", "")), output_fields=dict(d.get("output_fields") or {}),
                   file=loc.get("file"), line=loc.get("line"), count=int(d.get("count", 1)),
                   last_time=d.get("last_time"), suppressed=suppressed)


def fingerprint(rule: str, event: dict[str, Any]) -> str:
    """Stable across repeats and runs: sha256 over the rule, user, verb and target (never time or audit id)."""
    user = event.get("user")
    ref = event.get("objectRef")
    ref = ref if isinstance(ref, dict) else {}
    key = (rule, user.get("username") if isinstance(user, dict) else None, event.get("verb"), ref.get("resource"),
           ref.get("subresource"), ref.get("namespace"), ref.get("name"))
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


def fingerprint_fields(rule: str, fields: dict[str, Any]) -> str:
    """For alerts that arrive without an audit event (Falco JSON): the rule and its sorted output fields."""
    key = json.dumps([rule, sorted((k, str(v)) for k, v in fields.items() if k not in ("evt.time", "evt.rawtime"))],
                     separators=(",", ":"))
    return hashlib.sha256(key.encode()).hexdigest()[:32]
