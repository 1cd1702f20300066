"""``cloudward detect``: threat detection on Kubernetes audit logs with Falco-compatible rules."""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import signal
import sys
import threading
from typing import Any

from cloudward.cli.common import load_project_config
from cloudward.cli.output import write_output
from cloudward.core.errors import InputError

PRIORITIES = "emergency, alert, critical, error, warning, notice, informational (info), debug"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("detect", help="detect threats in Kubernetes audit logs (Falco-compatible rules)",
                       description="Detect threats in Kubernetes audit events with Falco rules YAML.")
    dsub = p.add_subparsers(dest="detect_command", metavar="SOURCE", required=True)

    a = dsub.add_parser("audit", help="audit log files (JSON lines, .gz), offline or with --follow")
    a.add_argument("files", nargs="+", metavar="FILE", help="audit.k8s.io/v1 Event JSON-lines files (or .gz)")
    _common(a, report=True)
    a.add_argument("--dedup-key", default="user", metavar="KEYS",
                   help="comma-separated: user, namespace, resource, name, verb, source_ip, fingerprint")
    a.add_argument("--dry-run", action="store_true", help="tuning report: how often each rule would fire")
    a.add_argument("--follow", action="store_true", help="keep reading every FILE as it grows, across rotation; "
                   "alerts go to --sink (default: JSON lines on stdout)")
    a.set_defaults(handler=run_audit)

    s = dsub.add_parser("serve", help="HTTPS receiver for the API server's audit webhook backend")
    _common(s, report=False)
    s.add_argument("--listen", default="127.0.0.1:8443", metavar="HOST:PORT")
    s.add_argument("--cert", required=True, metavar="FILE", help="server certificate (PEM)")
    s.add_argument("--key", required=True, metavar="FILE", help="server private key (PEM)")
    s.add_argument("--client-ca", metavar="FILE", help="require client certificates signed by this CA")
    s.add_argument("--token-file", metavar="FILE", help="require 'Authorization: Bearer <token>' with this token")
    s.add_argument("--queue-size", type=int, default=1024, metavar="BATCHES")
    s.set_defaults(handler=run_serve)

    f = dsub.add_parser("falco", help="Falco JSON output lines (FILE or - for stdin)")
    f.add_argument("target", metavar="FILE|-")
    _common(f, report=True, rules=False)
    f.set_defaults(handler=run_falco)


def _common(p: argparse.ArgumentParser, *, report: bool, rules: bool = True) -> None:
    if rules:
        p.add_argument("--rules", action="append", default=[], metavar="FILE",
                       help="Falco rules YAML, repeatable, loaded in order (later files override and append); "
                       "'builtin' names cloudward's pack (the default when --rules is not given)")
    p.add_argument("--config", metavar="FILE", help="policy file with a detect: section (exceptions, thresholds); "
                   "default: the nearest .cloudward.yaml upward from the first FILE, else the working directory")
    if report:
        p.add_argument("-f", "--format", choices=("json", "table", "sarif"), default="table")
        p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically)")
        p.add_argument("--fail-on", metavar="PRIORITY", default="warning",
                       help=f"exit 1 when an unsuppressed alert has this priority or higher: {PRIORITIES} "
                       "(default: warning)")
    p.add_argument("--dedup", action="store_true", help="fold repeats of a rule by the same key into one alert")
    p.add_argument("--dedup-window", type=float, default=300.0, metavar="SECONDS", help="default: 300")
    p.add_argument("--sink", action="append", default=[], metavar="SPEC",
                   help="also send alerts to jsonl:PATH|-, webhook:URL, slack:URL or syslog:udp://HOST:PORT")
    p.add_argument("--dead-letter", metavar="FILE", help="where webhook/slack alerts go when delivery fails")
    p.add_argument("--sink-ca", metavar="FILE", help="CA bundle to verify webhook sinks (default: system CAs)")
    p.add_argument("--sink-rate", metavar="N/s", help="rate limit per webhook sink, e.g. 10/s; alerts over it are "
                   "summarised in one record per minute")


def _priority(text: str) -> Any:
    from cloudward.runtime import Priority

    try:
        return Priority.parse(text)
    except ValueError as e:
        raise InputError(f"--fail-on: {e}") from None


def _policy(args: argparse.Namespace, targets: list[str]) -> Any:
    from cloudward.runtime.live import policy_from_config

    return policy_from_config(load_project_config(args.config, targets))


def _sinks(args: argparse.Namespace) -> list[Any]:
    from cloudward.runtime.alerts.sinks import make_sink

    return [make_sink(s, dead_letter=args.dead_letter, ca_file=args.sink_ca, rate=args.sink_rate) for s in args.sink]


def _dedup_key(text: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in text.split(",") if k.strip())


def _warn(problem: Any) -> None:
    print(f"cloudward: warning: {problem.display()}", file=sys.stderr, flush=True)


def _finish(report: Any, args: argparse.Namespace, sinks: list[Any]) -> int:
    from cloudward.report import ReportFormat, render
    from cloudward.runtime.alerts.report import render_json, render_table, to_scan_report

    for p in report.problems:
        _warn(p)
    for sink in sinks:
        for alert in report.active:  # accepted (suppressed) alerts are reported, never sent
            sink.send(alert)
        sink.close()
    if args.format == "json":
        text = render_json(report)
    elif args.format == "sarif":
        text = render(to_scan_report(report), ReportFormat.SARIF)
    else:
        text = render_table(report)
    write_output(text, args.output)
    return int(report.exit_code(_priority(args.fail_on)))


def run_audit(args: argparse.Namespace) -> int:
    # The offline report keeps every alert and its event until it is written, then the process
    # ends: the cyclic collector would only re-traverse them (measured: 54k vs 40k events/s).
    gc.disable()
    from cloudward.runtime import detect_files, load_rules_args
    from cloudward.runtime.alerts.report import render_tuning, tuning_report

    _priority(args.fail_on)
    ruleset = load_rules_args(args.rules)  # every rules error surfaces here, before any event is read
    policy = _policy(args, args.files)
    try:
        key = _dedup_key(args.dedup_key)
        if args.follow:
            return _follow(args, ruleset, policy, key)
        sinks = _sinks(args)
        report = detect_files(args.files, ruleset, dedup_window=args.dedup_window if args.dedup else None,
                              dedup_key=key, policy=policy)
    except ValueError as e:
        raise InputError(f"--dedup-key: {e}") from None
    if args.dry_run:
        for p in report.problems:
            _warn(p)
        doc = tuning_report(report.alerts, ruleset, report.events, report.thresholds)
        write_output(render_tuning(doc, "json" if args.format == "json" else "table"), args.output)
        return 0
    return _finish(report, args, sinks)


def _follow(args: argparse.Namespace, ruleset: Any, policy: Any, key: tuple[str, ...]) -> int:
    from cloudward.runtime.alerts.sinks import JsonLinesSink
    from cloudward.runtime.live import follow_files

    stop = _stop_on_signals()
    sinks = _sinks(args) or [JsonLinesSink("-")]
    follow_files(args.files, ruleset, sinks, stop, _warn, policy=policy,
                 dedup=(args.dedup_window, key) if args.dedup else None)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from cloudward.runtime import load_rules_args
    from cloudward.runtime.alerts.sinks import JsonLinesSink
    from cloudward.runtime.live import serve

    ruleset = load_rules_args(args.rules)
    policy = _policy(args, [])
    sinks = _sinks(args) or [JsonLinesSink("-")]
    serve(args.listen, ruleset, sinks, _stop_on_signals(), cert_file=args.cert, key_file=args.key,
          client_ca=args.client_ca, token_file=args.token_file, queue_size=args.queue_size, policy=policy,
          dedup_window=args.dedup_window if args.dedup else None, on_problem=_warn,
          on_listening=lambda url: print(f"cloudward: listening on {url}", file=sys.stderr, flush=True))
    return 0


def run_falco(args: argparse.Namespace) -> int:
    from cloudward.runtime.alerts.noise import aggregate
    from cloudward.runtime.alerts.pipeline import PolicyRun, apply_policy
    from cloudward.runtime.alerts.report import DetectReport
    from cloudward.runtime.events.falco_json import read_falco_alerts
    from cloudward.runtime.events.model import SourceProblem

    _priority(args.fail_on)
    sinks = _sinks(args)
    run = PolicyRun(_policy(args, [args.target]), (), dt.date.today())  # exceptions only
    problems: list[SourceProblem] = []
    alerts = apply_policy(read_falco_alerts(args.target, problems.append), run)
    if args.dedup:
        alerts = aggregate(alerts, args.dedup_window, ("fingerprint",))
    return _finish(DetectReport(tuple(alerts), tuple(problems + run.problems), None, len(alerts)), args, sinks)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    return stop
