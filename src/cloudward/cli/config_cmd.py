"""``cloudward config show``: the effective settings and where each value came from."""

from __future__ import annotations

import argparse
from typing import Any

from cloudward.cli.common import add_settings_flags, settings_from_args
from cloudward.cli.output import write_output


def add_parser(sub: Any) -> None:
    p = sub.add_parser("config", help="inspect the effective configuration")
    csub = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    sp = csub.add_parser("show", help="print each setting, its value and its source (flag, environment, config, "
                         "default)")
    sp.add_argument("targets", nargs="*", metavar="TARGET", default=["."],
                    help="where to look for .cloudward.yaml (default: .)")
    add_settings_flags(sp)
    sp.set_defaults(handler=run_show)


def run_show(args: argparse.Namespace) -> int:
    from cloudward.rules import builtin_rules

    settings = settings_from_args(args, args.targets, builtin_rules())
    cfg = settings.config
    lines = [f"config file: {cfg.source or '(none found)'}"]
    for name in ("fail_on", "pss", "pss_version", "inline_suppressions", "max_file_size", "jobs"):
        value = getattr(settings, name)
        shown = value.value if hasattr(value, "value") else value
        lines.append(f"{name}: {shown if shown is not None else '(all rules)'}  [{settings.sources.get(name)}]")
    lines.append(f"disabled rules: {', '.join(sorted(cfg.disable)) or '(none)'}")
    lines.append(f"severity overrides: {', '.join(f'{r}={s.value}' for r, s in cfg.severity) or '(none)'}")
    lines.append(f"excluded paths: {', '.join(cfg.exclude) or '(none)'}")
    lines.append(f"exceptions: {len(cfg.exceptions)}")
    write_output("\n".join(lines) + "\n", None)
    return 0
