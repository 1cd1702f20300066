"""Read audit.k8s.io Event JSON lines, as the API server's log backend writes them (also gzipped).

Bad lines (truncated, not JSON, another apiVersion, larger than the line limit)
are reported to ``on_problem`` with ``file:line`` and skipped, so one torn line at
the end of a rotated log never hides the rest. Lines longer than the limit are
discarded while reading, without holding them in memory. Several files are merged
in event-time order.
"""

from __future__ import annotations

import gzip
import heapq
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from cloudward.core import jsonsafe
from cloudward.core.errors import InputError
from cloudward.runtime.events.model import EventRecord, SourceProblem, check_event
from cloudward.runtime.rules.fields import event_time

MAX_LINE = 16 * 1024 * 1024
ProblemSink = Callable[[SourceProblem], None]
_CHUNK = 1 << 16


def open_log(path: Path) -> IO[bytes]:
    """Open a log file, transparently gunzipping when it starts with the gzip magic bytes."""
    try:
        fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - returned to the caller
    except FileNotFoundError:
        raise InputError("audit log not found; check the path", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory; give audit log files", file=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot read audit log: {e.strerror or e}", file=str(path)) from None
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        fh.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]  # GzipFile is a binary IO
    return fh


def read_lines(fh: IO[bytes], max_line: int = MAX_LINE) -> Iterator[tuple[int, bytes | None]]:
    """``(line_number, bytes)`` per line; ``bytes`` is None for a line over ``max_line`` (discarded unread)."""
    n = 0
    while True:
        line = fh.readline(max_line + 1)
        if not line:
            return
        n += 1
        if len(line) > max_line and not line.endswith(b"\n"):
            while True:  # drain the rest of the oversized line in bounded chunks
                rest = fh.readline(_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield n, None
            continue
        yield n, line


def decode_line(raw: bytes, file: str, line: int, on_problem: ProblemSink) -> Iterator[EventRecord]:
    """Decode one line: an Event, or an EventList (webhook dumps), or report why not."""
    text = raw.strip()
    if not text:
        return
    try:
        obj = jsonsafe.loads(text)
    except ValueError as e:
        msg = str(e).split(":")[0]
        on_problem(SourceProblem(f"skipped: not a JSON object ({msg}; truncated or corrupt line?)", file, line))
        return
    if isinstance(obj, dict) and obj.get("kind") == "EventList":
        items = obj.get("items")
        for item in items if isinstance(items, list) else ():
            why = check_event(item)
            if why:
                on_problem(SourceProblem(f"skipped: {why}", file, line))
            else:
                yield EventRecord(item, file, line)
        return
    why = check_event(obj)
    if why:
        on_problem(SourceProblem(f"skipped: {why}", file, line))
        return
    yield EventRecord(obj, file, line)


def read_audit_file(path: str | Path, on_problem: ProblemSink, max_line: int = MAX_LINE) -> Iterator[EventRecord]:
    """Every audit event in one file, in file order."""
    p = Path(path)
    name = str(path)
    with open_log(p) as fh:
        try:
            for n, raw in read_lines(fh, max_line):
                if raw is None:
                    on_problem(SourceProblem(f"skipped: line longer than {max_line} bytes", name, n))
                    continue
                yield from decode_line(raw, name, n, on_problem)
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            on_problem(SourceProblem(f"stopped reading: {e} (truncated gzip?)", name))


def read_audit_files(paths: Iterable[str | Path], on_problem: ProblemSink,
                     max_line: int = MAX_LINE) -> Iterator[EventRecord]:
    """Events of several files merged by event time (each file is read in its own order).

    Every path is checked here, eagerly, so a missing file fails before any event is read.
    """
    paths = list(paths)
    for p in paths:
        if not Path(p).is_file():
            if not Path(p).exists():
                raise InputError("audit log not found; check the path", file=str(p))
            raise InputError("not a regular file; give audit log files", file=str(p))
    if len(paths) == 1:
        return read_audit_file(paths[0], on_problem, max_line)
    streams = [read_audit_file(p, on_problem, max_line) for p in paths]
    return heapq.merge(*streams, key=_time_key)


def _time_key(rec: EventRecord) -> float:
    t = event_time(rec.event)
    return t.timestamp() if t is not None else 0.0
