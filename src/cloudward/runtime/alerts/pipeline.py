"""Apply a ``DetectPolicy`` to alerts: mark the accepted ones (exceptions) and add burst alerts (thresholds).

Suppressed alerts are kept and reported as suppressed (JSON, SARIF ``suppressions``),
as scan findings are; they do not count for ``--fail-on``, are not sent to sinks and
do not feed thresholds. An expired exception suppresses nothing and is reported
once as a warning naming its ``file:line``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable

from cloudward.core.errors import ConfigError
from cloudward.runtime.alerts.burst import Burst, BurstTracker
from cloudward.runtime.alerts.model import Alert, AlertSuppression
from cloudward.runtime.alerts.noise import alert_timestamp
from cloudward.runtime.events.model import SourceProblem
from cloudward.runtime.policy import AlertException, DetectPolicy, Threshold


def active_thresholds(policy: DetectPolicy, rule_names: Iterable[str]) -> tuple[Threshold, ...]:
    """Thresholds whose base rules are all loaded; one from ``.cloudward.yaml`` naming an unknown rule is an error."""
    names = set(rule_names)
    out = []
    for th in policy.thresholds:
        missing = [r for r in th.rules if r not in names]
        if not missing:
            out.append(th)
        elif th.origin != "<builtin>":
            file, _, line = th.origin.rpartition(":")
            raise ConfigError(f"threshold counts alerts of rule {missing[0]!r}, which no loaded rules file enables; "
                              "use a rule name as written after 'rule:' in the rules", file=file,
                              line=int(line) if line.isdigit() else None)
    return tuple(out)


class PolicyRun:
    """The state of one run under a policy: the burst tracker and the warnings given so far."""

    def __init__(self, policy: DetectPolicy, thresholds: Iterable[Threshold], today: dt.date,
                 on_problem: Callable[[SourceProblem], None] | None = None) -> None:
        self.exceptions = [(exc, exc.compile()) for exc in policy.exceptions]
        self.on_problem = on_problem
        self.today = today
        self.tracker = BurstTracker(tuple(thresholds))
        self.problems: list[SourceProblem] = []
        self._warned: set[str] = set()
        self.suppressed = 0

    def mark(self, alert: Alert) -> Alert:
        """The alert, with ``suppressed`` set when an unexpired exception accepts it."""
        for exc, matches in self.exceptions:
            if not matches(alert.rule, alert.rule_id, alert.event):
                continue
            if exc.expired(self.today):
                self._warn_expired(exc)
                continue
            self.suppressed += 1
            return dataclasses.replace(alert, suppressed=AlertSuppression(exc.reason, exc.origin, exc.expires))
        return alert

    def _warn_expired(self, exc: AlertException) -> None:
        if exc.origin in self._warned:
            return
        self._warned.add(exc.origin)
        file, _, line = exc.origin.rpartition(":")
        problem = SourceProblem(f"exception for {', '.join(exc.rules)} expired on {exc.expires}; it no longer "
                                "suppresses alerts (renew or remove it)", file or None,
                                int(line) if line.isdigit() else None)
        self.problems.append(problem)
        if self.on_problem is not None:
            self.on_problem(problem)

    # -- live (``--follow``, ``serve``): report bursts when they open, and their total when they close ----------
    def live(self, alert: Alert) -> list[Alert]:
        """The marked alert, then any burst alert it opened or closed (an opened burst is sent at once)."""
        marked = self.mark(alert)
        out = [marked]
        opened, closed = self.tracker.add(marked)
        out += self._totals(closed + self.tracker.expire(alert_timestamp(marked)))
        for b in opened:
            b.sent = b.count
            out.append(self.mark(b.alert()))
        return out

    def close(self) -> list[Alert]:
        return self._totals(self.tracker.flush())

    def _totals(self, bursts: list[Burst]) -> list[Alert]:
        return [self.mark(b.alert()) for b in bursts if b.count > b.sent]


def apply_policy(alerts: Iterable[Alert], run: PolicyRun) -> list[Alert]:
    """Offline: every alert marked, and each burst once, placed where it crossed its threshold, with its total."""
    out: list[Alert | Burst] = []
    for a in alerts:
        marked = run.mark(a)
        out.append(marked)
        opened, _closed = run.tracker.add(marked)
        out.extend(opened)
    run.tracker.flush()
    return [run.mark(x.alert()) if isinstance(x, Burst) else x for x in out]
