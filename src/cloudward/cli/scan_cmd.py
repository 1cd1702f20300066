"""``cloudward scan``: Kubernetes manifests and Dockerfiles."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from typing import Any

from cloudward.cli.common import add_settings_flags, settings_from_args
from cloudward.cli.output import use_color, write_output
from cloudward.core.model import ProblemKind

log = logging.getLogger(__name__)

FORMATS = ("table", "json", "sarif", "junit")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("scan", help="scan Kubernetes manifests and Dockerfiles",
                       description="Scan Kubernetes YAML/JSON manifests (files, directories, globs, '-' for stdin) "
                       "and Dockerfiles for Pod Security Standards violations and hardening issues.")
    p.add_argument("targets", nargs="*", metavar="TARGET", default=["."],
                   help="files, directories (recursive), globs, or '-' for stdin (default: .)")
    p.add_argument("-f", "--format", choices=FORMATS, default="table", help="report format (default: table)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    add_settings_flags(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # A scan allocates many small objects that all live until the report is written, and the
    # process ends right after: the cyclic collector would only re-traverse them (about 10%).
    gc.disable()
    from cloudward.develop import scan
    from cloudward.report import ReportFormat, render_bytes
    from cloudward.rules import builtin_rules

    registry = builtin_rules()
    settings = settings_from_args(args, args.targets, registry)
    report = scan(args.targets, settings, registry)
    for problem in report.problems:
        if problem.kind is ProblemKind.SKIP:
            log.info("skipped %s", problem.display())
        elif problem.kind is ProblemKind.WARNING:
            print(f"cloudward: warning: {problem.display()}", file=sys.stderr)
        else:
            print(f"cloudward: error: {problem.display()}", file=sys.stderr)
    text = render_bytes(report, ReportFormat(args.format), color=args.format == "table" and use_color(args.output))
    write_output(text, args.output)
    return report.exit_code(settings.fail_on)
