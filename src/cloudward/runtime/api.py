"""The runtime stage's entry points, in the user's words: load rules, detect on files, report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.alerts.noise import aggregate
from cloudward.runtime.alerts.pipeline import PolicyRun, active_thresholds, apply_policy
from cloudward.runtime.alerts.report import DetectReport
from cloudward.runtime.builtin import builtin_rules_text
from cloudward.runtime.engine import detect
from cloudward.runtime.events.audit_file import MAX_LINE, read_audit_files
from cloudward.runtime.events.model import EventRecord, SourceProblem
from cloudward.runtime.policy import DetectPolicy
from cloudward.runtime.rules.ruleset import RuleSet, load_ruleset

#: ``--rules builtin`` names the built-in pack, so it can be combined with (and ordered among) files
BUILTIN = "builtin"


def load_rules_args(rules: Sequence[str]) -> RuleSet:
    """Rules files in order, ``builtin`` standing for the built-in pack; none given means the built-in pack."""
    sources: list[str | Path | tuple[str, str]] = []
    for r in rules or [BUILTIN]:
        sources.append(builtin_rules_text() if r == BUILTIN else Path(r))
    return load_ruleset(sources)


def detect_files(paths: Sequence[str | Path], ruleset: RuleSet, *, dedup_window: float | None = None,
                 dedup_key: tuple[str, ...] = ("user",), max_line: int = MAX_LINE,
                 policy: DetectPolicy | None = None, today: dt.date | None = None) -> DetectReport:
    """Run ``ruleset`` over audit log files (merged in time order); every match, or groups with ``dedup_window``.

    ``policy`` (``.cloudward.yaml``'s ``detect:``) marks accepted alerts as suppressed and adds burst
    alerts; without it the built-in thresholds apply and nothing is suppressed.
    """
    policy = policy or DetectPolicy()
    run = PolicyRun(policy, active_thresholds(policy, (r.name for r in ruleset.rules)), today or dt.date.today())
    problems: list[SourceProblem] = []
    counter = _Counter()
    events = counter.count(read_audit_files(paths, problems.append, max_line))
    alerts: list[Alert] = apply_policy(detect(events, ruleset), run)
    if dedup_window is not None:
        alerts = aggregate(alerts, dedup_window, dedup_key)
    return DetectReport(tuple(alerts), tuple(problems) + tuple(run.problems), ruleset, counter.n,
                        tuple(run.tracker.thresholds))


class _Counter:
    """Counts events as they stream past, without holding them."""

    def __init__(self) -> None:
        self.n = 0

    def count(self, it: Iterable[EventRecord]) -> Iterator[EventRecord]:
        for x in it:
            self.n += 1
            yield x


__all__ = ["BUILTIN", "EventRecord", "detect_files", "load_rules_args"]
