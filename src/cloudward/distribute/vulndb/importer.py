"""``cloudward db import``: files, directories and zips into the database, all or nothing.

An unreadable input (corrupt zip, invalid JSON, unknown format) aborts the whole
import and leaves the database as it was; a record that violates the OSV schema
is skipped with a warning naming the file and id, and the rest are imported.
Each named file or directory is recorded as one source with its SHA-256 and time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from cloudward.distribute.vulndb.build import DbWriter, building, utc_now
from cloudward.distribute.vulndb.reading import Input, expand, open_input

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class ImportSummary:
    """What one named input contributed."""

    location: str
    formats: dict[str, int]  # format found → files of that format
    records: int
    skipped: int
    unknown_ecosystems: dict[str, int]


def import_paths(db_path: Path, paths: list[str], warn: Callable[[str], None] | None = None) -> list[ImportSummary]:
    """Import every path into ``db_path`` atomically; return a summary per named path."""
    emit = warn or (lambda msg: log.warning("%s", msg))
    summaries = []
    with building(db_path) as writer:
        now = utc_now()
        for p in paths:
            summaries.append(_import_one(writer, p, now, emit))
    return summaries


def _import_one(writer: DbWriter, p: str, now: str, warn: Callable[[str], None]) -> ImportSummary:
    files = expand([p])
    skipped = 0

    def counting_warn(msg: str) -> None:
        nonlocal skipped
        skipped += 1
        warn(msg)

    unknown: dict[str, int] = {}
    formats: Counter[str] = Counter()
    inputs: list[Input] = []
    kinds = set()
    for f in files:
        inp = open_input(f, now, counting_warn, unknown)
        inputs.append(inp)
        formats[inp.format] += 1
        kinds.add(inp.format)
    if len(files) == 1 and not Path(p).is_dir():
        sha = inputs[0].sha256
    else:
        h = hashlib.sha256()
        for f, inp in zip(files, inputs, strict=True):
            h.update(f"{f.relative_to(p)}\0{inp.sha256}\n".encode())
        sha = h.hexdigest()
    kind = next(iter(kinds)) if len(kinds) == 1 else "mixed"
    source_id = writer.add_source(kind, str(Path(p).resolve()), sha)
    before = writer.written
    for inp in inputs:
        for adv in inp.advisories:
            writer.add(adv, source_id)
    records = writer.written - before
    writer.finish_source(source_id, records, skipped)
    for eco, n in sorted(unknown.items()):
        warn(f"{p}: ecosystem {eco!r} is not supported for matching; {n} affected entries skipped")
    return ImportSummary(location=p, formats=dict(formats), records=records, skipped=skipped,
                         unknown_ecosystems=dict(unknown))
