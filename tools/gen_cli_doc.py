"""Regenerate docs/cli.md from the commands' own --help (run by `make docs`; a test checks it)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [[], ["scan"], ["rules", "list"], ["config", "show"]]


def help_text(args: list[str]) -> str:
    from cloudward.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main([*args, "--help"])
    return out.getvalue().rstrip()


def main() -> None:
    os.environ["COLUMNS"] = "100"
    parts = ["# Command-line reference", "",
             "Each block below is the command's own `--help` (a test keeps them in sync; `make docs` regenerates "
             "this page). Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 usage or input error, "
             "3 operational error (see the README)."]
    for args in COMMANDS:
        parts += ["", f"## cloudward {' '.join(args)}".rstrip(), "", "```text", help_text(args), "```"]
    parts += ["", (ROOT / "tools" / "cli_doc_examples.md").read_text().rstrip(), ""]
    (ROOT / "docs" / "cli.md").write_text("\n".join(parts))


if __name__ == "__main__":
    sys.exit(main())
