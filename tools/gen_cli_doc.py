"""Regenerate docs/cli.md from the commands' own --help (run by `make docs`; a test checks it)."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTRO = ("Each block below is the command's own `--help` (a test keeps them in sync; `make docs` regenerates "
         "this page). Exit codes: 0 clean, 1 findings at or above `--fail-on` (or a failed verification), "
         "2 usage or input error, 3 operational error (see the README).")


def commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path, depth first, in the order ``--help`` lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from commands(sub, (*prefix, name))


def help_text(args: tuple[str, ...]) -> str:
    from cloudward.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main([*args, "--help"])
    return out.getvalue().rstrip()


def render() -> str:
    from cloudward.cli.main import build_parser

    os.environ["COLUMNS"] = "100"
    parts = ["# Command-line reference", "", INTRO]
    for args in [(), *commands(build_parser())]:
        parts += ["", f"## cloudward {' '.join(args)}".rstrip(), "", "```text", help_text(args), "```"]
    parts += ["", (ROOT / "tools" / "cli_doc_examples.md").read_text().rstrip(), ""]
    return "\n".join(parts)


if __name__ == "__main__":
    (ROOT / "docs" / "cli.md").write_text(render())
