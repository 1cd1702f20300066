"""Prometheus metrics of the webhook, correct across worker processes.

prometheus_client writes the text exposition format for us and, in its
multiprocess mode, lets every worker record into memory-mapped files that any
worker's ``/metrics`` sums up — without it a scrape would see one random worker.
Multiprocess mode is chosen by ``PROMETHEUS_MULTIPROC_DIR``, which the server
sets before forking (and before this module imports prometheus_client).
"""

from __future__ import annotations

import os
from typing import Any

from cloudward.deploy.model import AdmissionDecision
from cloudward.deploy.verifier import GateStats

#: Latency buckets in seconds: the interesting range is 100 µs to 50 ms.
#: Label children kept for the hot path (per metric and label values).
MAX_CHILDREN = 10_000
#: Registry round trips: 5 ms to 10 s.
REGISTRY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The webhook's counters and latency histogram."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("cloudward_admission_requests", "HTTP requests by endpoint and status code",
                                ["endpoint", "code"], registry=r)
        self.decisions = Counter("cloudward_admission_decisions", "Admission decisions by result and namespace",
                                 ["decision", "namespace", "dry_run"], registry=r)
        self.violations = Counter("cloudward_admission_violations",
                                  "Violations by rule, mode (enforce/warn/audit) and namespace",
                                  ["rule", "mode", "namespace"], registry=r)
        self.errors = Counter("cloudward_admission_errors", "Bad requests and internal errors by type", ["type"],
                              registry=r)
        self.latency = Histogram("cloudward_admission_review_seconds", "Time to decode, evaluate and encode one "
                                 "AdmissionReview", ["endpoint"], buckets=BUCKETS, registry=r)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self.cert_reloads = Counter("cloudward_admission_tls_reloads", "TLS certificate reloads", registry=r)
        self.gate_cache = Counter("cloudward_admission_gate_cache", "Image gate cache lookups by gate, cache "
                                  "(digest, verdict, report) and result (hit, miss)", ["gate", "cache", "result"],
                                  registry=r)
        self.gate_registry = Histogram("cloudward_admission_gate_registry_seconds", "Registry operations of the "
                                       "image gates (resolve a tag, verify a signature)", ["gate", "operation"],
                                       buckets=REGISTRY_BUCKETS, registry=r)
        self.gate_failures = Counter("cloudward_admission_gate_failures", "Image gates that could not decide, by "
                                     "reason (unavailable, credentials, budget)", ["gate", "reason"], registry=r)
        self.gate_offloaded = Counter("cloudward_admission_gate_offloaded", "Reviews judged in the registry "
                                      "thread pool, by outcome (answered, budget)", ["outcome"], registry=r)

    def record(self, endpoint: str, decision: AdmissionDecision, seconds: float) -> None:
        """Count one answered review.

        On the hot path: a review has 10-25 violations, and each ``labels()``
        call validates and looks up its labels under a lock, so label children
        are kept in a dict here and violations of one rule are added at once.
        """
        self._child(self.latency, (endpoint,)).observe(seconds)
        if decision.error is not None:
            self._child(self.errors, ("internal",)).inc()
        outcome = "denied" if not decision.allowed else "allowed"
        ns = decision.namespace or "<cluster>"
        self._child(self.decisions, (outcome, ns, "true" if decision.dry_run else "false")).inc()
        counts: dict[tuple[str, str, str], int] = {}
        for r in decision.results:
            if r.excepted is None:
                key = (r.rule_id, r.mode.label, ns)
                counts[key] = counts.get(key, 0) + 1
        for key, n in counts.items():
            self._child(self.violations, key).inc(n)

    def _child(self, metric: Any, labels: tuple[str, ...]) -> Any:
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            if len(self._children) >= MAX_CHILDREN:  # namespaces come and go; do not grow without bound
                self._children.clear()
            child = self._children[key] = metric.labels(*labels)
        return child

    def gate_stats(self) -> GateStats:
        return _PrometheusGateStats(self)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        registry: Any = self.registry
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST


class _PrometheusGateStats(GateStats):
    """Gate events as Prometheus metrics; called from the event loop and the registry threads alike."""

    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics

    def cache(self, gate: str, cache: str, hit: bool) -> None:
        self.m._child(self.m.gate_cache, (gate, cache, "hit" if hit else "miss")).inc()

    def registry(self, gate: str, operation: str, seconds: float) -> None:
        self.m._child(self.m.gate_registry, (gate, operation)).observe(seconds)

    def failure(self, gate: str, reason: str) -> None:
        self.m._child(self.m.gate_failures, (gate, reason)).inc()
