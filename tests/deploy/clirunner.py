"""Run ``cloudward admission ...`` as a real process before and after the command is registered.

When ``cloudward.cli.main`` already registers the ``admission`` group this is
just ``cloudward``; until then it builds the same parser around
``admission_cmd.add_parser`` and maps errors to exit codes as main does.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from cloudward.cli import main as cli_main

    parser = cli_main.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    if "admission" not in sub.choices:  # type: ignore[attr-defined]
        from cloudward.cli import admission_cmd

        admission_cmd.add_parser(sub)
    args = parser.parse_args(argv)
    cli_main._setup_logging(args.verbose)
    try:
        return int(args.handler(args))
    except cli_main.CloudwardError as e:
        print(f"cloudward: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
