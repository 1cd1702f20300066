"""Scanning many files on every core: workers load and check files, the parent merges.

Per-file work (parsing and per-object rules) is independent, so it is split
into contiguous chunks of the sorted file list and run in forked worker
processes. Each worker returns its findings, problems and the (position-only)
objects that cross-object rules need; the parent merges them in file order and
runs the cross-object rules once over everything. Small scans stay in one
process, where forking would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from cloudward.core.rules import Rule
from cloudward.core.settings import ScanSettings
from cloudward.develop.engine import Scanner, ScanPart
from cloudward.develop.feed import scan_source
from cloudward.develop.sources import Source

#: Below this many files (or bytes), one process is faster than forking workers.
MIN_FILES = 24
MIN_BYTES = 256 * 1024

# What forked workers inherit: set just before the pool forks, cleared after.
_job: tuple[tuple[Rule, ...], ScanSettings, object] | None = None


def worker_count(jobs: int, files: Sequence[Source]) -> int:
    """How many processes to use: ``jobs`` if set (>0), else one per core for large scans."""
    if jobs > 0:
        return min(jobs, max(1, len(files)))
    if "fork" not in multiprocessing.get_all_start_methods() or len(files) < MIN_FILES:
        return 1
    if threading.active_count() > 1:  # forking a threaded process (a server embedding scan()) can deadlock
        return 1
    size = 0
    for f in files:
        try:
            size += os.stat(f.path).st_size if f.path is not None else 0
        except OSError:
            continue
        if size >= MIN_BYTES:
            return min(len(os.sched_getaffinity(0)), 8)
    return 1


def scan_in_processes(scanner: Scanner, files: Sequence[Source], settings: ScanSettings, workers: int) -> None:
    """Scan ``files`` in ``workers`` forked processes and merge the results into ``scanner``."""
    global _job
    chunks = _chunks(files, workers * 4)
    _job = (scanner.rules, settings, scanner.today)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for part in pool.map(_scan_chunk, chunks):
                scanner.merge(part)
    finally:
        _job = None


def _scan_chunk(files: Sequence[Source]) -> ScanPart:
    assert _job is not None, "worker started without a job"
    rules, settings, today = _job
    worker = Scanner(rules, settings, today)  # type: ignore[arg-type]
    for item in files:
        scan_source(worker, item, settings, None)
    return worker.part()


def _chunks(files: Sequence[Source], count: int) -> list[Sequence[Source]]:
    """Contiguous chunks of similar total size, so file order (and "first definition") is kept."""
    sizes = []
    for f in files:
        try:
            sizes.append(os.stat(f.path).st_size if f.path is not None else 1)
        except OSError:
            sizes.append(1)
    target = max(1, sum(sizes) // max(1, count))
    out: list[Sequence[Source]] = []
    start = acc = 0
    for i, size in enumerate(sizes):
        acc += size
        if acc >= target:
            out.append(files[start : i + 1])
            start, acc = i + 1, 0
    if start < len(files):
        out.append(files[start:])
    return out
