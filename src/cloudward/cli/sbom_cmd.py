"""``cloudward sbom scan``: vulnerabilities of the packages in a CycloneDX or SPDX JSON SBOM."""

from __future__ import annotations

import argparse
import gc
import sys
from typing import Any

from cloudward.cli.common import severity_set
from cloudward.cli.db_cmd import add_db_flag, add_freshness_flags, check_freshness, db_path
from cloudward.cli.output import write_output

FORMATS = ("table", "json", "sarif")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sbom", help="work with SBOMs", description="Scan CycloneDX or SPDX JSON SBOMs.")
    ssub = p.add_subparsers(dest="sbom_command", metavar="COMMAND", required=True)
    s = ssub.add_parser("scan", help="match an SBOM's packages against the vulnerability database",
                        description="Read a CycloneDX or SPDX JSON SBOM (cloudward's, syft's, trivy's...) and report "
                        "the known vulnerabilities of its packages.")
    s.add_argument("sbom", metavar="FILE")
    add_db_flag(s)
    s.add_argument("--vex", action="append", metavar="FILE", default=[], help="OpenVEX or CycloneDX VEX document; "
                   "not_affected/fixed statements suppress matches (repeatable)")
    s.add_argument("--ignore-unfixed", action="store_true", help="drop vulnerabilities without a fixed version "
                   "(unfixed, no-dsa, postponed, ignored, end-of-life)")
    s.add_argument("--severity", metavar="LIST", help="report only these severities, e.g. high,critical")
    s.add_argument("--fail-on", metavar="SEVERITY", default="low", help="exit 1 when an unsuppressed "
                   "vulnerability has this severity or higher (default: low)")
    s.add_argument("-f", "--format", choices=FORMATS, default="table")
    s.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically)")
    add_freshness_flags(s)
    s.set_defaults(handler=run_scan)


def run_scan(args: argparse.Namespace) -> int:
    # Matches and findings all live until the report is written and the process ends: the cyclic
    # collector would only re-traverse them.
    gc.disable()
    from cloudward.core.errors import InputError
    from cloudward.core.model import Problem, ProblemKind
    from cloudward.core.severity import Severity
    from cloudward.distribute.match import MatchOptions, VexIndex, cyclonedx_vex, load_vex, match
    from cloudward.distribute.match.report import build_report, render_table
    from cloudward.distribute.sbomread import read_sbom
    from cloudward.distribute.vulndb import VulnDB
    from cloudward.report import ReportFormat, render_bytes

    try:
        fail_on = Severity.parse(args.fail_on)
    except ValueError as e:
        raise InputError(f"--fail-on: {e}") from None
    options = MatchOptions(ignore_unfixed=args.ignore_unfixed, severities=severity_set(args.severity))
    sbom = read_sbom(args.sbom)
    vex = cyclonedx_vex(sbom.document, args.sbom) if sbom.format.startswith("CycloneDX") else VexIndex()
    for path in args.vex:
        vex = vex.merged(load_vex(path))
    problems: list[Problem] = []
    with VulnDB(db_path(args)) as db:
        check_freshness(db.age_info(), args)
        matches = list(match(sbom.packages, db, options, vex,
                             warn=lambda m: problems.append(Problem(ProblemKind.WARNING, m, file=args.sbom))))
    for p in problems:
        print(f"cloudward: warning: {p.display()}", file=sys.stderr)
    report = build_report(matches, args.sbom, problems, packages=len(sbom.packages))
    if args.format in ("json", "sarif"):
        write_output(render_bytes(report, ReportFormat(args.format)), args.output)
    else:
        write_output(render_table(matches), args.output)
    return report.exit_code(fail_on)
