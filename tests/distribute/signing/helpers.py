"""Run the real CLI entry point (``cloudward.cli.main.main``) with the signing commands registered.

Until the lead adds ``sign_cmd.add_parser(sub)`` to ``build_parser``, this wraps
``build_parser`` so tests exercise main's real error-to-exit-code mapping.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import logging
import sys

import cloudward.cli.main as cli_main
from cloudward.cli import sign_cmd


@dataclasses.dataclass
class CliResult:
    code: int
    out: str
    err: str


class _NoTty(io.StringIO):
    def isatty(self) -> bool:
        return False


def run_cli(argv: list[str], *, stdin_tty: bool = False) -> CliResult:
    original = cli_main.build_parser

    def build() -> argparse.ArgumentParser:
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "sign" not in sub.choices:
            sign_cmd.add_parser(sub)
        return parser

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger("cloudward")  # main() installs a handler; put the logger back afterwards
    saved = (root.handlers[:], root.level, root.propagate)
    cli_main.build_parser = build  # type: ignore[assignment]
    old_stdin = sys.stdin
    sys.stdin = _NoTty() if not stdin_tty else old_stdin
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main.main(argv)
            except SystemExit as e:  # argparse usage errors
                code = int(e.code or 0)
    finally:
        cli_main.build_parser = original  # type: ignore[assignment]
        sys.stdin = old_stdin
        root.handlers[:], root.level, root.propagate = saved[0], saved[1], saved[2]
    return CliResult(code, out.getvalue(), err.getvalue())
