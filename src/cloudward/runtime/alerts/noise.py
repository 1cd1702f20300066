"""Noise control: aggregation windows (de-duplication) and per-sink rate limits.

``Aggregator`` folds alerts of the same rule and key (by default the user) that fall
within ``window`` seconds of the first one into a single alert with a ``count`` and
the time of the last one. It works on event time, so replaying an old log gives the
same result as watching it live; events up to ``window`` out of order still join
their group.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.rules.fields import dig, event_time

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
        parts: list[Any] = [a.rule]
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
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()
        self.refused = 0

    def allow(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            self.refused += 1
            return False
