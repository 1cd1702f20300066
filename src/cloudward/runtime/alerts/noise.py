"""Noise control: aggregation windows (de-duplication) and per-sink rate limits.

``Aggregator`` folds alerts of the same rule and key (by default the user) that fall
within ``window`` seconds of the first one into a single alert with a ``count`` and
the time of the last one. It works on event time, so replaying an old log gives the
same result as watching it live; events up to ``window`` out of order still join
their group.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.rules.fields import dig, event_time
from cloudward.runtime.rules.model import Priority

KEYS: dict[str, tuple[str, ...]] = {
    "user": ("user", "username"),
    "namespace": ("objectRef", "namespace"),
    "resource": ("objectRef", "resource"),
    "name": ("objectRef", "name"),
    "verb": ("verb",),
    "source_ip": ("sourceIPs",),
}


@dataclasses.dataclass
class _Group:
    first: Alert
    start: float
    last_t: float
    last_time: str
    count: int


class Aggregator:
    """Group alerts by (rule, key) within a time window of event time."""

    def __init__(self, window: float = 300.0, key: tuple[str, ...] = ("user",)) -> None:
        unknown = [k for k in key if k not in KEYS and k != "fingerprint"]
        if unknown:
            raise ValueError(f"unknown dedup key {unknown[0]!r}; use: fingerprint, {', '.join(KEYS)}")
        self.window = window
        self.key = key
        self._open: dict[tuple[Any, ...], _Group] = {}

    def _key(self, a: Alert) -> tuple[Any, ...]:
        parts: list[Any] = [a.rule, a.suppressed is not None]  # accepted alerts never fold into live ones
        for k in self.key:
            v = a.fingerprint if k == "fingerprint" else dig(a.event, *KEYS[k])
            parts.append(tuple(v) if isinstance(v, list) else v)
        return tuple(parts)

    def add(self, alert: Alert) -> Iterator[Alert]:
        """Feed one alert; yields groups that this alert closed (same key, outside the window)."""
        t = alert_timestamp(alert)
        k = self._key(alert)
        g = self._open.get(k)
        if g is not None and abs(t - g.start) <= self.window:
            g.count += 1
            if t >= g.last_t:
                g.last_t, g.last_time = t, alert.time
            return
        if g is not None:
            yield _emit(g)
        self._open[k] = _Group(alert, t, t, alert.time, 1)

    def opened(self, alert: Alert) -> bool:
        """True when ``alert`` started the group it is in (so a live dispatcher sends it at once)."""
        g = self._open.get(self._key(alert))
        return g is not None and g.first is alert

    def expire(self, now: float) -> Iterator[Alert]:
        """Yield (and forget) groups whose window ended before ``now`` (event time, seconds)."""
        done = [k for k, g in self._open.items() if now - g.start > self.window]
        for k in done:
            yield _emit(self._open.pop(k))

    def flush(self) -> Iterator[Alert]:
        groups = sorted(self._open.values(), key=lambda g: g.start)
        self._open.clear()
        for g in groups:
            yield _emit(g)


def aggregate(alerts: Iterable[Alert], window: float = 300.0, key: tuple[str, ...] = ("user",)) -> list[Alert]:
    """Offline de-duplication: every group once, ordered by its first alert's time."""
    agg = Aggregator(window, key)
    out: list[Alert] = []
    for a in alerts:
        out.extend(agg.add(a))
    out.extend(agg.flush())
    out.sort(key=alert_timestamp)
    return out


def _emit(g: _Group) -> Alert:
    if g.count == 1:
        return g.first
    return dataclasses.replace(g.first, count=g.count, last_time=g.last_time)


def alert_timestamp(a: Alert) -> float:
    t = event_time(a.event)
    if t is None and a.time:
        try:
            t = dt.datetime.fromisoformat(a.time.replace("Z", "+00:00"))
        except ValueError:
            t = None
    return t.timestamp() if t is not None else 0.0


class RateLimiter:
    """Token bucket: ``rate`` alerts per second with bursts of ``burst``; counts what it refuses."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()
        self.refused = 0

    def allow(self) -> bool:
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            self.refused += 1
            return False


class RateSummary:
    """Alerts a rate limit refused, folded into one "N alerts suppressed by rate limit" record per window.

    Why not the dead-letter file: that file is for alerts a sink failed to deliver and
    that should be replayed; replaying alerts a rate limit refused would defeat the
    limit. The summary tells the receiver how many were held back, of which rules and
    when; the alerts themselves stay in the run's other sinks and reports.
    """

    def __init__(self, sink: str, window: float = 60.0) -> None:
        self.sink = sink
        self.window = window
        self._reset()

    def _reset(self) -> None:
        self.start: float | None = None  # clock time of the first refusal in the open window
        self.count = 0
        self._by_rule: collections.Counter[str] = collections.Counter()
        self._first = ""
        self._last = ""
        self._priority = Priority.DEBUG

    def add(self, alert: Alert, now: float) -> None:
        if self.start is None:
            self.start, self._first = now, alert.time
        self.count += 1
        self._by_rule[alert.rule] += 1
        self._last = max(self._last, alert.last_time or alert.time)
        if alert.priority.rank > self._priority.rank:
            self._priority = alert.priority

    def due(self, now: float) -> bool:
        return self.start is not None and now - self.start >= self.window

    def take(self) -> Alert | None:
        """The summary of the open window (and a fresh window), or None when nothing was refused."""
        if self.start is None:
            return None
        rules = ", ".join(f"{r}: {n}" for r, n in self._by_rule.most_common())
        fp = hashlib.sha256(repr((self.sink, self._first)).encode()).hexdigest()[:32]
        alert = Alert("Alerts Suppressed By Rate Limit", self._priority,
                      f"{self.count} alerts suppressed by rate limit on {self.sink} ({rules})", self._first,
                      ("cloudward", "rate_limit"), "cloudward", {}, fp, "cloudward.rate-limit-summary",
                      {"rate_limit.suppressed": self.count, "rate_limit.by_rule": dict(self._by_rule),
                       "rate_limit.sink": self.sink}, count=self.count, last_time=self._last or self._first)
        self._reset()  # start the next window
        return alert
