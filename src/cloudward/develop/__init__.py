"""The develop stage: scan Kubernetes manifests and Dockerfiles before they ship.

``scan(targets, settings)`` is the whole public API: the CLI parses flags into
``ScanSettings``, calls it, and renders the ``ScanReport``.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Sequence
from typing import BinaryIO

from cloudward.core.errors import InputError
from cloudward.core.model import Problem, ProblemKind
from cloudward.core.report import ScanReport
from cloudward.core.rules import RuleRegistry
from cloudward.core.settings import ScanSettings
from cloudward.develop.engine import Scanner, select_rules
from cloudward.develop.reading import BinaryFile, read_source
from cloudward.develop.sources import SourceKind, discover

__all__ = ["scan"]

_DOCKERFILE_START = re.compile(r"^(?:\s*(?:#[^\n]*)?\n)*\s*(FROM|ARG)\s", re.IGNORECASE)


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
        _scan_into(scanner, targets, settings, stdin)
        return scanner.report()
    finally:
        if gc_was_enabled:
            gc.enable()


def _scan_into(scanner: Scanner, targets: Sequence[str], settings: ScanSettings, stdin: BinaryIO | None) -> None:
    for item in discover(targets, settings.config):
        if isinstance(item, Problem):
            scanner.problems.append(item)
            continue
        try:
            text = read_source(item, settings.max_file_size, stdin)
        except BinaryFile:
            scanner.problems.append(Problem(ProblemKind.SKIP, "binary file, not scanned", file=item.display))
            continue
        except InputError as e:
            scanner.problems.append(Problem(ProblemKind.INPUT, e.message, file=e.file, line=e.line))
            continue
        kind = item.kind
        if item.path is None and _DOCKERFILE_START.match(text):
            kind = SourceKind.DOCKERFILE
        if kind is SourceKind.DOCKERFILE:
            scanner.add_dockerfile_text(text, item.display)
        else:
            scanner.add_manifest_text(text, item.display)
