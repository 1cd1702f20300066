"""Threshold rules across events: N alerts of some rules for one key within a window become one burst alert.

Falco rules see one event at a time, so "a user got 403 forty times in a minute"
(permission discovery, ATT&CK T1613/T1087) cannot be written as a condition. The
tracker watches the alerts of base rules (``Forbidden API Request``) and keeps, per
key (by default the user), the times of the last ``count`` of them. When ``count``
fall within ``window`` seconds of event time, a burst opens; it stays open while
further alerts follow within ``window`` of the previous one, and its ``count`` is
the total. A ``distinct`` threshold counts distinct values of a field instead
(namespaces whose secrets one person listed): per value only its newest alert is
kept, and the burst's ``count`` is the number of values. Memory per key is
bounded by ``count``; idle keys are forgotten by ``expire``.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.alerts.noise import KEYS, alert_timestamp
from cloudward.runtime.policy import Threshold
from cloudward.runtime.rules.fields import dig


@dataclasses.dataclass
class Burst:
    """An open (or closed) burst; ``alert()`` is its report at the current count."""

    threshold: Threshold
    key: tuple[Any, ...]
    first: Alert
    last_t: float
    last_time: str
    count: int
    sent: int = 0  # the count last reported (live mode sends the total again only if it grew)
    values: set[Any] | None = None  # a distinct threshold's values seen

    def alert(self) -> Alert:
        th, first = self.threshold, self.first
        who = " ".join(f"{k}={v if v is not None else '<NA>'}" for k, v in zip(th.by, self.key, strict=True))
        what = f"{self.count} x {th.rule!r}" if th.distinct is None else \
            f"{th.rule!r} in {self.count} distinct {th.distinct} values"
        output = f"{what} within {th.window:g}s ({who}), {first.time} to {self.last_time}; first: {first.output}"
        fields: dict[str, Any] = {"burst.rule": th.rule, "burst.count": self.count, "burst.window": th.window,
                                  **{f"burst.{k}": v for k, v in zip(th.by, self.key, strict=True)}}
        if th.distinct is not None:
            fields["burst.distinct"] = th.distinct
            fields[f"burst.{th.distinct}s"] = sorted(str(v) for v in self.values or ())
        fp = hashlib.sha256(repr((th.name, self.key)).encode()).hexdigest()[:32]
        return Alert(th.name, th.priority, output, first.time, th.tags or first.tags, first.source, first.event, fp,
                     th.slug, fields, first.file, first.line, self.count, self.last_time)


class BurstTracker:
    """Feed alerts in event order; ``add`` reports bursts that opened or closed."""

    def __init__(self, thresholds: Sequence[Threshold]) -> None:
        self.thresholds = tuple(thresholds)
        self._by_rule: dict[str, list[Threshold]] = {}
        for th in thresholds:
            for rule in th.rules:
                self._by_rule.setdefault(rule, []).append(th)
        self._window = {th.name: th.window for th in thresholds}
        #: per (threshold, key): recent alert times within the window, sorted, at most ``count`` of them
        self._recent: dict[tuple[str, tuple[Any, ...]], list[tuple[float, Alert]]] = {}
        self._high: dict[tuple[str, tuple[Any, ...]], float] = {}  # the newest time seen per key
        self._open: dict[tuple[str, tuple[Any, ...]], Burst] = {}

    def add(self, alert: Alert) -> tuple[list[Burst], list[Burst]]:
        """(bursts this alert opened, bursts it closed: same key, after a gap longer than the window).

        An alert more than ``window`` older than the newest one seen for its key (out of
        order, or from an API server with a skewed clock) does not count.
        """
        thresholds = self._by_rule.get(alert.rule)
        if not thresholds or alert.suppressed is not None:
            return [], []
        t = alert_timestamp(alert)
        opened: list[Burst] = []
        closed: list[Burst] = []
        for th in thresholds:
            key = tuple(_value(alert.event, k) for k in th.by)
            value = None if th.distinct is None else _value(alert.event, th.distinct)
            if th.distinct is not None and value is None:
                continue  # nothing to count distinctly
            slot = (th.name, key)
            b = self._open.get(slot)
            if b is not None:
                if t < b.last_t - th.window:
                    continue  # too late to count
                if t - b.last_t <= th.window:
                    if b.values is None:
                        b.count += 1
                    else:
                        b.values.add(value)
                        b.count = len(b.values)
                    if t >= b.last_t:
                        b.last_t, b.last_time = t, alert.time
                    continue
                closed.append(self._open.pop(slot))
            high = max(self._high.get(slot, t), t)
            if t < high - th.window:
                continue
            self._high[slot] = high
            recent = self._recent.setdefault(slot, [])
            if th.distinct is not None:  # keep one alert per value: the newest
                same = next((i for i, (_, a) in enumerate(recent) if _value(a.event, th.distinct) == value), None)
                if same is not None:
                    if recent[same][0] > t:
                        continue
                    del recent[same]
            bisect.insort(recent, (t, alert), key=lambda x: x[0])
            while recent[0][0] < high - th.window:
                recent.pop(0)
            if len(recent) >= th.count:  # all within [high - window, high]
                first = recent[0][1]
                values = None if th.distinct is None else {_value(a.event, th.distinct) for _, a in recent}
                b = Burst(th, key, first, high, recent[-1][1].time, len(recent), values=values)
                self._open[slot] = b
                del self._recent[slot], self._high[slot]
                opened.append(b)
        return opened, closed

    def expire(self, now: float) -> list[Burst]:
        """Close bursts idle for longer than their window before ``now``; forget stale counters."""
        done = [s for s, b in self._open.items() if now - b.last_t > b.threshold.window]
        for s in [s for s, high in self._high.items() if now - high > self._window[s[0]]]:
            del self._recent[s], self._high[s]
        return [self._open.pop(s) for s in done]

    def flush(self) -> list[Burst]:
        out = sorted(self._open.values(), key=lambda b: alert_timestamp(b.first))
        self._open.clear()
        self._recent.clear()
        self._high.clear()
        return out


def _value(event: dict[str, Any], key: str) -> Any:
    v = dig(event, *KEYS[key])
    return tuple(v) if isinstance(v, list) else v
