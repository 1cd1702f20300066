"""``cloudward``: parse arguments, call a stage API, render, exit with a documented code.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error,
3 operational error (a crashed rule, an I/O failure). Only ``CloudwardError``
is caught; a traceback is shown only with ``-v``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from cloudward import __version__
from cloudward.cli import (
    admission_cmd,
    config_cmd,
    db_cmd,
    detect_cmd,
    image_cmd,
    rules_cmd,
    sbom_cmd,
    scan_cmd,
    sign_cmd,
)
from cloudward.core.errors import CloudwardError

log = logging.getLogger("cloudward")

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT, EXIT_OPERATIONAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n(see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cloudward", description="Cloud-native security for every stage of a workload's life.")
    parser.add_argument("--version", action="version", version=f"cloudward {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="show skipped files and notes (-v) and debug details with tracebacks (-vv)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    scan_cmd.add_parser(sub)
    image_cmd.add_parser(sub)
    sbom_cmd.add_parser(sub)
    db_cmd.add_parser(sub)
    sign_cmd.add_parser(sub)
    admission_cmd.add_parser(sub)
    detect_cmd.add_parser(sub)
    rules_cmd.add_parser(sub)
    config_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    try:
        code: int = args.handler(args)
        return code
    except CloudwardError as e:
        log.debug("error", exc_info=True)
        print(f"cloudward: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("cloudward: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_CLEAN
    except OSError as e:
        log.debug("I/O error", exc_info=True)
        print(f"cloudward: error: {e}", file=sys.stderr)
        return EXIT_OPERATIONAL


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("cloudward: %(levelname)s: %(message)s"))
    root = logging.getLogger("cloudward")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def entry() -> None:
    sys.exit(main())
