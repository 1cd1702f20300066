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

#: Latency buckets in seconds: the interesting range is 100 µs to 50 ms.
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
        self.cert_reloads = Counter("cloudward_admission_tls_reloads", "TLS certificate reloads", registry=r)

    def record(self, endpoint: str, decision: AdmissionDecision, seconds: float) -> None:
        self.latency.labels(endpoint).observe(seconds)
        if decision.error is not None:
            self.errors.labels("internal").inc()
        outcome = "denied" if not decision.allowed else "allowed"
        ns = decision.namespace or "<cluster>"
        self.decisions.labels(outcome, ns, "true" if decision.dry_run else "false").inc()
        for r in decision.results:
            if r.excepted is None:
                self.violations.labels(r.rule_id, r.mode.label, ns).inc()

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        registry: Any = self.registry
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
