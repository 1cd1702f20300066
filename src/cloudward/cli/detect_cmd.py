"""``cloudward detect``: threat detection on Kubernetes audit logs with Falco-compatible rules."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from cloudward.cli.output import write_output
from cloudward.core.errors import InputError

PRIORITIES = "emergency, alert, critical, error, warning, notice, informational (info), debug"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("detect", help="detect threats in Kubernetes audit logs (Falco-compatible rules)",
                       description="Detect threats in Kubernetes audit events with Falco rules YAML.")
    dsub = p.add_subparsers(dest="detect_command", metavar="SOURCE", required=True)

    a = dsub.add_parser("audit", help="audit log files (JSON lines, .gz), offline or with --follow")
    a.add_argument("files", nargs="+", metavar="FILE", help="audit.k8s.io/v1 Event JSON-lines files (or .gz)")
    _rules_flags(a)
    a.add_argument("-f", "--format", choices=("json", "table", "sarif"), default="table")
    a.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically)")
    a.add_argument("--fail-on", metavar="PRIORITY", default="warning",
                   help=f"exit 1 when an alert has this priority or higher: {PRIORITIES} (default: warning)")
    a.add_argument("--dedup", action="store_true", help="fold repeats of a rule by the same user into one alert")
    a.add_argument("--dedup-window", type=float, default=300.0, metavar="SECONDS", help="default: 300")
    a.add_argument("--dedup-key", default="user", metavar="KEYS",
                   help="comma-separated: user, namespace, resource, name, verb, source_ip, fingerprint")
    a.add_argument("--dry-run", action="store_true", help="tuning report: how often each rule would fire")
    a.add_argument("--follow", action="store_true", help="keep reading FILE as it grows, across rotation; "
                   "alerts go to --sink (default: JSON lines on stdout)")
    _sink_flags(a)
    a.set_defaults(handler=run_audit)

    s = dsub.add_parser("serve", help="HTTPS receiver for the API server's audit webhook backend")
    _rules_flags(s)
    s.add_argument("--listen", default="127.0.0.1:8443", metavar="HOST:PORT")
    s.add_argument("--cert", required=True, metavar="FILE", help="server certificate (PEM)")
    s.add_argument("--key", required=True, metavar="FILE", help="server private key (PEM)")
    s.add_argument("--client-ca", metavar="FILE", help="require client certificates signed by this CA")
    s.add_argument("--token-file", metavar="FILE", help="require 'Authorization: Bearer <token>' with this token")
    s.add_argument("--queue-size", type=int, default=1024, metavar="BATCHES")
    s.add_argument("--dedup", action="store_true")
    s.add_argument("--dedup-window", type=float, default=300.0, metavar="SECONDS")
    _sink_flags(s)
    s.set_defaults(handler=run_serve)

    f = dsub.add_parser("falco", help="Falco JSON output lines (FILE or - for stdin)")
    f.add_argument("target", metavar="FILE|-")
    f.add_argument("-f", "--format", choices=("json", "table", "sarif"), default="table")
    f.add_argument("-o", "--output", metavar="FILE")
    f.add_argument("--fail-on", metavar="PRIORITY", default="warning")
    f.add_argument("--dedup", action="store_true")
    f.add_argument("--dedup-window", type=float, default=300.0, metavar="SECONDS")
    _sink_flags(f)
    f.set_defaults(handler=run_falco)


def _rules_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rules", action="append", default=[], metavar="FILE",
                   help="Falco rules YAML, repeatable, loaded in order (later files override and append); "
                   "'builtin' names cloudward's pack (the default when --rules is not given)")


def _sink_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sink", action="append", default=[], metavar="SPEC",
                   help="also send alerts to jsonl:PATH|-, webhook:URL, slack:URL or syslog:udp://HOST:PORT")
    p.add_argument("--dead-letter", metavar="FILE", help="where webhook/slack alerts go when delivery fails")
    p.add_argument("--sink-ca", metavar="FILE", help="CA bundle to verify webhook sinks (default: system CAs)")
    p.add_argument("--sink-rate", metavar="N/s", help="rate limit per webhook sink, e.g. 10/s")


def _priority(text: str) -> Any:
    from cloudward.runtime import Priority

    try:
        return Priority.parse(text)
    except ValueError as e:
        raise InputError(f"--fail-on: {e}") from None


def _sinks(args: argparse.Namespace) -> list[Any]:
    from cloudward.runtime.alerts.sinks import make_sink

    return [make_sink(s, dead_letter=args.dead_letter, ca_file=args.sink_ca, rate=args.sink_rate) for s in args.sink]


def _dedup_key(text: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in text.split(",") if k.strip())


def _render(report: Any, fmt: str) -> str:
    from cloudward.report import ReportFormat, render
    from cloudward.runtime.alerts.report import render_json, render_table, to_scan_report

    if fmt == "json":
        return str(render_json(report))
    if fmt == "sarif":
        return render(to_scan_report(report), ReportFormat.SARIF)
    return str(render_table(report))


def _problems(report: Any) -> None:
    for p in report.problems:
        print(f"cloudward: warning: {p.display()}", file=sys.stderr)


def run_audit(args: argparse.Namespace) -> int:
    from cloudward.runtime import detect_files, load_rules_args
    from cloudward.runtime.alerts.report import render_tuning, tuning_report

    fail_on = _priority(args.fail_on)
    ruleset = load_rules_args(args.rules)  # every rules error surfaces here, before any event is read
    if args.follow:
        return _follow(args, ruleset)
    sinks = _sinks(args)
    window = args.dedup_window if args.dedup else None
    try:
        report = detect_files(args.files, ruleset, dedup_window=window, dedup_key=_dedup_key(args.dedup_key))
    except ValueError as e:
        raise InputError(f"--dedup-key: {e}") from None
    _problems(report)
    if args.dry_run:
        doc = tuning_report(report.alerts, ruleset, report.events)
        write_output(render_tuning(doc, "json" if args.format == "json" else "table"), args.output)
        return 0
    for sink in sinks:
        for alert in report.alerts:
            sink.send(alert)
        sink.close()
    write_output(_render(report, args.format), args.output)
    return int(report.exit_code(fail_on))


def _follow(args: argparse.Namespace, ruleset: Any) -> int:
    from cloudward.runtime.alerts.noise import Aggregator
    from cloudward.runtime.alerts.sinks import JsonLinesSink
    from cloudward.runtime.events.follow import follow_audit_log
    from cloudward.runtime.serve import Dispatcher, run_events

    if len(args.files) != 1:
        raise InputError("--follow reads one log file (the one the API server writes)")
    stop = _stop_on_signals()
    sinks = _sinks(args) or [JsonLinesSink("-")]
    agg = Aggregator(args.dedup_window, _dedup_key(args.dedup_key)) if args.dedup else None
    dispatcher = Dispatcher(sinks, agg)
    events = follow_audit_log(Path(args.files[0]), stop,
                              lambda p: print(f"cloudward: warning: {p.display()}", file=sys.stderr))
    try:
        run_events(events, ruleset, dispatcher)
    finally:
        dispatcher.close()
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from cloudward.runtime import load_rules_args
    from cloudward.runtime.alerts.noise import Aggregator
    from cloudward.runtime.alerts.sinks import JsonLinesSink
    from cloudward.runtime.events.webhook import AuditWebhookServer
    from cloudward.runtime.serve import Dispatcher, run_webhook

    ruleset = load_rules_args(args.rules)
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--listen {args.listen!r}: use HOST:PORT, e.g. 127.0.0.1:8443")
    token = None
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise InputError(f"cannot read token file: {e.strerror or e}", file=args.token_file) from None
        if not token:
            raise InputError("token file is empty", file=args.token_file)
    server = AuditWebhookServer(host.strip("[]"), int(port), cert_file=args.cert, key_file=args.key,
                                client_ca=args.client_ca, token=token, queue_size=args.queue_size)
    sinks = _sinks(args) or [JsonLinesSink("-")]
    agg = Aggregator(args.dedup_window) if args.dedup else None
    dispatcher = Dispatcher(sinks, agg, server.metrics)
    stop = _stop_on_signals()
    print(f"cloudward: listening on https://{server.address[0]}:{server.address[1]}{server.path}", file=sys.stderr,
          flush=True)
    run_webhook(server, ruleset, dispatcher, stop)
    return 0


def run_falco(args: argparse.Namespace) -> int:
    from cloudward.runtime.alerts.noise import aggregate
    from cloudward.runtime.alerts.report import DetectReport
    from cloudward.runtime.events.falco_json import read_falco_alerts
    from cloudward.runtime.events.model import SourceProblem

    fail_on = _priority(args.fail_on)
    sinks = _sinks(args)
    problems: list[SourceProblem] = []
    alerts = list(read_falco_alerts(args.target, problems.append))
    if args.dedup:
        alerts = aggregate(alerts, args.dedup_window, ("fingerprint",))
    report = DetectReport(tuple(alerts), tuple(problems), None, len(alerts))
    _problems(report)
    for sink in sinks:
        for alert in alerts:
            sink.send(alert)
        sink.close()
    write_output(_render(report, args.format), args.output)
    return int(report.exit_code(fail_on))


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    return stop
