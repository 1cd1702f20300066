"""Feeding one source to the scanner: read it safely, decide manifest or Dockerfile."""

from __future__ import annotations

import re
from typing import BinaryIO

from cloudward.core.errors import InputError
from cloudward.core.model import Problem, ProblemKind
from cloudward.core.settings import ScanSettings
from cloudward.develop.engine import Scanner
from cloudward.develop.reading import BinaryFile, read_source
from cloudward.develop.sources import Source, SourceKind

_DOCKERFILE_START = re.compile(r"^(?:\s*(?:#[^\n]*)?\n)*\s*(FROM|ARG)\s", re.IGNORECASE)


def scan_source(scanner: Scanner, item: Source, settings: ScanSettings, stdin: BinaryIO | None) -> None:
    """Read one file (or stdin) and feed it to the scanner as a manifest stream or a Dockerfile.

    Standard input has no name to go by, so it is a Dockerfile when its first
    instruction is FROM or ARG, and a manifest stream otherwise.
    """
    try:
        text = read_source(item, settings.max_file_size, stdin)
    except BinaryFile:
        scanner.problems.append(Problem(ProblemKind.SKIP, "binary file, not scanned", file=item.display))
        return
    except InputError as e:
        scanner.problems.append(Problem(ProblemKind.INPUT, e.message, file=e.file, line=e.line))
        return
    kind = item.kind
    if item.path is None and _DOCKERFILE_START.match(text):
        kind = SourceKind.DOCKERFILE
    if kind is SourceKind.DOCKERFILE:
        scanner.add_dockerfile_text(text, item.display)
    else:
        scanner.add_manifest_text(text, item.display)
