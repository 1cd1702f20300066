"""The admission stage's typed values: the request we judge and the decision we return.

``AdmissionRequest`` is parsed at the edge from an ``admission.k8s.io/v1``
AdmissionReview (``wire.parse_review``); the pure ``review()`` takes it and
returns an ``AdmissionDecision``; ``wire`` encodes that back to JSON. Nothing
here does I/O.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any


class Operation(enum.Enum):
    """The API operation being admitted, as the API server names it."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    CONNECT = "CONNECT"


class Mode(enum.IntEnum):
    """What a violation does; higher wins when several policies apply to one violation.

    ``OFF``: not evaluated. ``AUDIT``: allowed, recorded in audit annotations and
    metrics. ``WARN``: allowed, returned as a ``warnings`` entry the client shows.
    ``ENFORCE``: the request is denied.
    """

    OFF = 0
    AUDIT = 1
    WARN = 2
    ENFORCE = 3

    @classmethod
    def parse(cls, text: str) -> Mode:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"{text!r} is not a mode; use enforce, warn, audit or off") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class FailureMode(enum.Enum):
    """What an internal error (a crashed rule, a bug) answers: deny (closed) or allow (open)."""

    CLOSED = "closed"
    OPEN = "open"


@dataclasses.dataclass(frozen=True, slots=True)
class UserInfo:
    """Who sent the request (``request.userInfo``); used for username exemptions."""

    username: str = ""
    groups: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class AdmissionRequest:
    """The fields of ``request`` in an AdmissionReview that admission decisions depend on.

    ``kind``/``resource`` are (group, version, kind|resource) triples; ``object``
    and ``old_object`` are the decoded JSON objects (``None`` where the API
    server sends ``null``: DELETE has no object, CREATE no old object).
    """

    uid: str
    operation: Operation
    kind: tuple[str, str, str] = ("", "v1", "")
    resource: tuple[str, str, str] = ("", "v1", "")
    sub_resource: str = ""
    name: str = ""
    namespace: str = ""
    user: UserInfo = UserInfo()
    object: dict[str, Any] | None = None
    old_object: dict[str, Any] | None = None
    dry_run: bool = False
    api_version: str = "admission.k8s.io/v1"

    @property
    def resource_display(self) -> str:
        res = self.resource[2] + (f"/{self.sub_resource}" if self.sub_resource else "")
        return f"{res}.{self.resource[0]}" if self.resource[0] else res


@dataclasses.dataclass(frozen=True, slots=True)
class RuleResult:
    """One violation with the mode it was judged in; ``kept`` is True on UPDATE when the old object had it too."""

    rule_id: str
    mode: Mode
    message: str
    path: str
    kept: bool = False
    excepted: str | None = None  # reason of the config exception that lifted it


@dataclasses.dataclass(frozen=True, slots=True)
class AdmissionDecision:
    """The answer to one request, ready to encode as ``response`` of an AdmissionReview.

    ``code`` is the HTTP-like status in ``response.status.code`` (403 when
    denied by policy, 500 when failing closed on an internal error).
    """

    uid: str
    allowed: bool
    code: int = 200
    message: str = ""
    reason: str = ""
    warnings: tuple[str, ...] = ()
    audit_annotations: tuple[tuple[str, str], ...] = ()
    results: tuple[RuleResult, ...] = ()
    patch: bytes | None = None
    namespace: str = ""
    dry_run: bool = False
    error: str | None = None

    def violations(self, mode: Mode) -> list[RuleResult]:
        return [r for r in self.results if r.mode is mode and r.excepted is None]
