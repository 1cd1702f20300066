"""The develop stage: scan Kubernetes manifests and Dockerfiles before they ship.

``scan(targets, settings)`` is the whole public API: the CLI parses flags into
``ScanSettings``, calls it, and renders the ``ScanReport``.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Sequence
from typing import BinaryIO

from cloudward.core.model import Problem
from cloudward.core.report import ScanReport
from cloudward.core.rules import RuleRegistry
from cloudward.core.settings import ScanSettings
from cloudward.develop.engine import Scanner, select_rules
from cloudward.develop.feed import scan_source
from cloudward.develop.parallel import scan_in_processes, worker_count
from cloudward.develop.sources import Source, discover

__all__ = ["scan"]


def scan(targets: Sequence[str], settings: ScanSettings, registry: RuleRegistry | None = None, *,
         stdin: BinaryIO | None = None, today: dt.date | None = None) -> ScanReport:
    """Scan files, directories, globs and ``-`` (stdin) with the selected rules."""
    if registry is None:
        from cloudward.rules import builtin_rules

        registry = builtin_rules()
    scanner = Scanner(select_rules(registry, settings), settings, today)
    # Parsing creates millions of small objects that live until the end of the run;
    # the cyclic collector would re-traverse them over and over (3x slower on large
    # inputs) while finding nothing to free, so it is paused for the scan.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        files: list[Source] = []
        for item in discover(targets, settings.config):
            if isinstance(item, Problem):
                scanner.problems.append(item)
            elif item.path is None:
                scan_source(scanner, item, settings, stdin)
            else:
                files.append(item)
        workers = worker_count(settings.jobs, files)
        if workers > 1:
            scan_in_processes(scanner, files, settings, workers)
        else:
            for item in files:
                scan_source(scanner, item, settings, None)
        return scanner.report()
    finally:
        if gc_was_enabled:
            gc.enable()
