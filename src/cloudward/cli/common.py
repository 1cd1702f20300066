"""Pieces several commands share: config loading and settings from flags."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cloudward.core.errors import ConfigError, InputError
from cloudward.core.severity import Severity

if TYPE_CHECKING:  # the config loader pulls in YAML: imported by the commands that read a config
    from cloudward.core.config import Config
    from cloudward.core.rules import RuleRegistry
    from cloudward.core.settings import ScanSettings


def add_settings_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="policy file (default: the nearest .cloudward.yaml upward from "
                   "the first target)")
    p.add_argument("--fail-on", metavar="SEVERITY", help="exit 1 when an unsuppressed finding has this severity or "
                   "higher: info, low, medium, high, critical (default: low)")
    p.add_argument("--pss", metavar="LEVEL", help="report only Pod Security Standards violations of this level "
                   "(baseline or restricted), as Pod Security Admission judges them")
    p.add_argument("--pss-version", metavar="VERSION", help="Pod Security Standards policy version: v1.N or latest "
                   "(default: latest)")
    p.add_argument("--no-inline-suppressions", dest="inline_suppressions", action="store_const", const=False,
                   default=None, help="ignore cloudward.io/ignore annotations and '# cloudward:ignore' comments, so "
                   "authors cannot exempt their own workloads")
    p.add_argument("--max-file-size", metavar="SIZE", help="refuse files larger than this (default: 64MiB)")
    p.add_argument("-j", "--jobs", metavar="N", help="worker processes for large scans (default: 0 = one per core "
                   "when there are many files)")


def load_project_config(explicit: str | None, targets: Sequence[str]) -> Config:
    from cloudward.core.config import Config, find_config, load_config

    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError("config file not found; check the --config path", file=explicit)
        return load_config(path)
    first = next((t for t in targets if t != "-"), None)
    found = find_config(Path(first) if first and os.path.exists(first) else Path.cwd())
    return load_config(found) if found else Config()


def settings_from_args(args: argparse.Namespace, targets: Sequence[str], registry: RuleRegistry) -> ScanSettings:
    from cloudward.core.settings import resolve_scan_settings

    config = load_project_config(args.config, targets)
    for rule_id, where in config.rule_ids():
        if rule_id not in registry:
            raise ConfigError(f"unknown rule id {rule_id!r} in {where}; see 'cloudward rules list'",
                              file=config.source, line=config.line_of(rule_id))
    flags = {
        "fail_on": args.fail_on,
        "pss": args.pss,
        "pss_version": args.pss_version,
        "inline_suppressions": args.inline_suppressions,
        "max_file_size": args.max_file_size,
        "jobs": args.jobs,
    }
    return resolve_scan_settings(flags, os.environ, config)


def severity_set(text: str | None, flag: str = "--severity") -> frozenset[Severity] | None:
    """``high,critical`` → those severities; ``None`` when the flag was not given."""
    if not text:
        return None
    try:
        return frozenset(Severity.parse(t) for t in text.split(",") if t.strip())
    except ValueError as e:
        raise InputError(f"{flag}: {e}") from None
