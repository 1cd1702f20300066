"""An audit event as the engine sees it: the decoded JSON object and where it came from."""

from __future__ import annotations

import dataclasses
from typing import Any

#: audit.k8s.io versions whose Event shape the ka.* fields read (v1beta1 differs only by extra fields).
AUDIT_API_VERSIONS = frozenset({"audit.k8s.io/v1", "audit.k8s.io/v1beta1"})


@dataclasses.dataclass(frozen=True, slots=True)
class EventRecord:
    """One audit.k8s.io Event (``event`` is the decoded object) and its origin, ``file:line`` or a batch."""

    event: dict[str, Any]
    file: str | None = None
    line: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SourceProblem:
    """A line or batch that was skipped, and why; sources report these and go on."""

    message: str
    file: str | None = None
    line: int | None = None

    def display(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        return where + self.message


def check_event(obj: Any) -> str | None:
    """Why ``obj`` is not an audit Event we can evaluate, or None when it is."""
    if not isinstance(obj, dict):
        return f"not an audit event (a JSON {type(obj).__name__}, expected an object)"
    kind = obj.get("kind")
    if kind is not None and kind != "Event":
        return f"not an audit event (kind {kind!r}, expected 'Event')"
    api = obj.get("apiVersion")
    if api is not None and api not in AUDIT_API_VERSIONS:
        return f"unsupported apiVersion {api!r}; expected audit.k8s.io/v1"
    if kind is None and "verb" not in obj and "auditID" not in obj:
        return "not an audit event (no kind, verb or auditID)"
    return None
