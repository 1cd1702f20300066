"""Long-running detection: events from the webhook queue or a followed log, alerts to sinks.

``Dispatcher`` applies optional aggregation (first alert of a group goes out at
once; the group's total follows when its window closes) and fans alerts out to
every sink. ``run_webhook`` drains the receiver's queue until stopped, then drains
what was accepted before exiting, so no accepted batch is lost on shutdown.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Sequence

from cloudward.core.errors import CloudwardError
from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.alerts.noise import Aggregator, alert_timestamp
from cloudward.runtime.alerts.pipeline import PolicyRun
from cloudward.runtime.alerts.sinks import Sink
from cloudward.runtime.engine import detect
from cloudward.runtime.events.model import EventRecord
from cloudward.runtime.events.webhook import AuditWebhookServer, Metrics
from cloudward.runtime.rules.ruleset import RuleSet

log = logging.getLogger(__name__)


class Dispatcher:
    """Send alerts to sinks after exceptions and thresholds, optionally aggregated.

    Suppressed alerts are counted (``cloudward_detect_alerts_suppressed_total``), never sent.
    A failing sink is logged and never stops the others.
    """

    def __init__(self, sinks: Sequence[Sink], aggregator: Aggregator | None = None,
                 metrics: Metrics | None = None, policy: PolicyRun | None = None) -> None:
        self.sinks = list(sinks)
        self.aggregator = aggregator
        self.metrics = metrics
        self.policy = policy

    def handle(self, alert: Alert) -> None:
        if self.metrics:
            self.metrics.inc("cloudward_detect_alerts_total")
        for a in self.policy.live(alert) if self.policy else (alert,):
            if a.suppressed is not None:
                if self.metrics:
                    self.metrics.inc("cloudward_detect_alerts_suppressed_total")
                continue
            self._route(a)

    def _route(self, alert: Alert) -> None:
        if self.aggregator is None:
            self._send(alert)
            return
        for closed in self.aggregator.add(alert):
            if closed.count > 1:
                self._send(closed)  # a closed group: its first alert with the final count
        if self.aggregator.opened(alert):
            self._send(alert)
        for closed in self.aggregator.expire(alert_timestamp(alert)):
            if closed.count > 1:
                self._send(closed)

    def _send(self, alert: Alert) -> None:
        for sink in self.sinks:
            try:
                sink.send(alert)
            except (OSError, CloudwardError) as e:
                log.error("sink %s failed: %s", sink.name, e)

    def close(self) -> None:
        for a in self.policy.close() if self.policy else ():
            if a.suppressed is None:
                self._route(a)
        if self.aggregator is not None:
            for closed in self.aggregator.flush():
                if closed.count > 1:
                    self._send(closed)
        for sink in self.sinks:
            sink.close()


def run_events(events: Iterable[EventRecord], ruleset: RuleSet, dispatcher: Dispatcher) -> int:
    """Detect over a (possibly endless) event stream; returns the number of alerts."""
    n = 0
    for alert in detect(events, ruleset):
        dispatcher.handle(alert)
        n += 1
    return n


def run_webhook(server: AuditWebhookServer, ruleset: RuleSet, dispatcher: Dispatcher,
                stop: threading.Event) -> None:
    """Consume accepted batches until ``stop``; then stop the server and drain the queue completely."""
    server.start()
    try:
        while not stop.is_set():
            try:
                batch = server.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            run_events(batch, ruleset, dispatcher)
    finally:
        server.stop()
        while True:
            try:
                batch = server.queue.get_nowait()
            except queue.Empty:
                break
            run_events(batch, ruleset, dispatcher)
        dispatcher.close()
