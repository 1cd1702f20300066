"""Wiring for the long-running modes (``--follow``, ``serve``), so the CLI stays a thin shell.

Both build the same pipeline: detection → ``.cloudward.yaml`` exceptions and
thresholds (``PolicyRun``) → optional aggregation → sinks, via ``Dispatcher``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from cloudward.core.config import Config
from cloudward.core.errors import InputError
from cloudward.runtime.alerts.noise import Aggregator
from cloudward.runtime.alerts.pipeline import PolicyRun, active_thresholds
from cloudward.runtime.alerts.sinks import Sink
from cloudward.runtime.events.audit_file import ProblemSink
from cloudward.runtime.events.follow import follow_audit_logs
from cloudward.runtime.events.webhook import AuditWebhookServer, Metrics
from cloudward.runtime.policy import DetectPolicy, parse_detect_section
from cloudward.runtime.rules.ruleset import RuleSet
from cloudward.runtime.serve import Dispatcher, run_events, run_webhook


def policy_from_config(config: Config) -> DetectPolicy:
    """The ``detect:`` section of a loaded ``.cloudward.yaml`` (defaults when it has none)."""
    return parse_detect_section(config.section("detect"), config.source or ".cloudward.yaml")


def policy_run(policy: DetectPolicy, ruleset: RuleSet, on_problem: ProblemSink | None = None,
               today: dt.date | None = None) -> PolicyRun:
    """A fresh run state: thresholds whose base rule is loaded, exceptions, today's date for expiry."""
    return PolicyRun(policy, active_thresholds(policy, (r.name for r in ruleset.rules)), today or dt.date.today(),
                     on_problem)


def follow_files(paths: Sequence[str | Path], ruleset: RuleSet, sinks: Sequence[Sink], stop: threading.Event,
                 on_problem: ProblemSink, *, policy: DetectPolicy | None = None,
                 dedup: tuple[float, tuple[str, ...]] | None = None, poll: float = 0.2) -> int:
    """Follow audit logs (each across rotation) until ``stop``; returns the number of alerts detected."""
    agg = Aggregator(*dedup) if dedup else None
    dispatcher = Dispatcher(sinks, agg, policy=policy_run(policy or DetectPolicy(), ruleset, on_problem))
    try:
        return run_events(follow_audit_logs(paths, stop, on_problem, poll=poll), ruleset, dispatcher)
    finally:
        dispatcher.close()


def serve(listen: str, ruleset: RuleSet, sinks: Sequence[Sink], stop: threading.Event, *, cert_file: str,
          key_file: str, client_ca: str | None, token_file: str | None, queue_size: int,
          policy: DetectPolicy | None = None, dedup_window: float | None = None,
          on_problem: ProblemSink | None = None, on_listening: Callable[[str], None] | None = None) -> None:
    """Run the audit webhook receiver until ``stop``; accepted batches are all processed before returning."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--listen {listen!r}: use HOST:PORT, e.g. 127.0.0.1:8443")
    token = None
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise InputError(f"cannot read token file: {e.strerror or e}", file=token_file) from None
        if not token:
            raise InputError("token file is empty", file=token_file)
    server = AuditWebhookServer(host.strip("[]"), int(port), cert_file=cert_file, key_file=key_file,
                                client_ca=client_ca, token=token, queue_size=queue_size)
    metrics: Metrics = server.metrics
    dispatcher = Dispatcher(sinks, Aggregator(dedup_window) if dedup_window else None, metrics,
                            policy_run(policy or DetectPolicy(), ruleset, on_problem))
    if on_listening is not None:
        on_listening(f"https://{server.address[0]}:{server.address[1]}{server.path}")
    run_webhook(server, ruleset, dispatcher, stop)
