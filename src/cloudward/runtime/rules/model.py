"""What a loaded Falco rules file holds: priorities, lists, macros, rules, exceptions.

Values here are plain, frozen data: the loader builds them, the compiler turns the
rules of one source into callables. Rules of other sources (``syscall``) are kept
exactly as written so a file mixing sources loads, and a later sensor can use them.
"""

from __future__ import annotations

import dataclasses
import enum

from cloudward.core.severity import Severity

#: The event source cloudward's audit engine evaluates (Falco's k8saudit plugin name for it).
K8S_AUDIT_SOURCE = "k8s_audit"
#: Falco's default when a rule names no source.
DEFAULT_SOURCE = "syscall"


class Priority(enum.Enum):
    """Falco's priorities, most to least severe; the value is Falco's JSON spelling."""

    EMERGENCY = "Emergency"
    ALERT = "Alert"
    CRITICAL = "Critical"
    ERROR = "Error"
    WARNING = "Warning"
    NOTICE = "Notice"
    INFORMATIONAL = "Informational"
    DEBUG = "Debug"

    @property
    def rank(self) -> int:
        """0 for DEBUG up to 7 for EMERGENCY, so ``a.rank >= b.rank`` means "at least as severe"."""
        return _RANK[self]

    @property
    def severity(self) -> Severity:
        """The shared Severity this priority maps to in cloudward reports (SARIF, tables)."""
        return _SEVERITY[self]

    @classmethod
    def parse(cls, text: str) -> Priority:
        """Case-insensitive, accepting Falco's aliases ``INFO`` and ``informational``."""
        key = text.strip().upper()
        if key == "INFO":
            key = "INFORMATIONAL"
        try:
            return cls[key]
        except KeyError:
            names = "emergency, alert, critical, error, warning, notice, informational (info), debug"
            raise ValueError(f"unknown priority {text!r}; use one of: {names}") from None


_RANK = {p: 7 - i for i, p in enumerate(Priority)}
_SEVERITY = {
    Priority.EMERGENCY: Severity.CRITICAL,
    Priority.ALERT: Severity.CRITICAL,
    Priority.CRITICAL: Severity.CRITICAL,
    Priority.ERROR: Severity.HIGH,
    Priority.WARNING: Severity.MEDIUM,
    Priority.NOTICE: Severity.LOW,
    Priority.INFORMATIONAL: Severity.INFO,
    Priority.DEBUG: Severity.INFO,
}


@dataclasses.dataclass(frozen=True, slots=True)
class Where:
    """A place in a rules file, for error messages and SARIF: ``file:line`` (1-based)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclasses.dataclass(frozen=True, slots=True)
class ListDef:
    name: str
    items: tuple[str, ...]
    where: Where


@dataclasses.dataclass(frozen=True, slots=True)
class MacroDef:
    name: str
    condition: str
    where: Where


@dataclasses.dataclass(frozen=True, slots=True)
class ExceptionDef:
    """One Falco rule exception: fields compared with comps against each tuple of values."""

    name: str
    fields: tuple[str, ...]
    comps: tuple[str, ...]
    values: tuple[tuple[object, ...], ...]
    single_field: bool  # ``fields: name`` (not a list): values are one flat list
    where: Where


@dataclasses.dataclass(frozen=True, slots=True)
class RuleDef:
    """A rule as the files define it after append/override merging (not yet compiled)."""

    name: str
    condition: str
    output: str
    priority: Priority
    desc: str = ""
    source: str = DEFAULT_SOURCE
    tags: tuple[str, ...] = ()
    enabled: bool = True
    exceptions: tuple[ExceptionDef, ...] = ()
    skip_if_unknown_filter: bool = False
    where: Where = Where("<memory>", 0)
    condition_where: Where | None = None

    @property
    def attack(self) -> tuple[str, ...]:
        """MITRE ATT&CK technique ids among the tags (``T1609``, ``T1552.007``)."""
        return tuple(t for t in self.tags if _is_technique(t))


def _is_technique(tag: str) -> bool:
    if len(tag) < 5 or tag[0] != "T" or not tag[1:5].isdigit():
        return False
    rest = tag[5:]
    return rest == "" or (rest[0] == "." and rest[1:].isdigit() and len(rest) == 4)


@dataclasses.dataclass(frozen=True, slots=True)
class RulesFile:
    """Everything a sequence of rules files defined, merged in load order."""

    rules: tuple[RuleDef, ...]
    macros: dict[str, MacroDef]
    lists: dict[str, ListDef]
    files: tuple[str, ...]

    def rules_for(self, source: str) -> tuple[RuleDef, ...]:
        return tuple(r for r in self.rules if r.source == source)
