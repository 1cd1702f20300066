"""Run the db and sbom command groups in-process, with main()'s error-to-exit-code mapping.

Until the lead registers them in cli/main.py, tests build a parser of their own
from the same add_parser functions.
"""

from __future__ import annotations

import sys

from cloudward.cli import db_cmd, sbom_cmd
from cloudward.cli.main import _Parser
from cloudward.core.errors import CloudwardError


def run(argv: list[str]) -> int:
    parser = _Parser(prog="cloudward")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    db_cmd.add_parser(sub)
    sbom_cmd.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except CloudwardError as e:
        print(f"cloudward: error: {e}", file=sys.stderr)
        return e.exit_code
