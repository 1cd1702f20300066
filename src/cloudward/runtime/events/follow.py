"""``--follow``: keep reading an audit log as the API server appends to it, across rotation.

The follower holds the file open and remembers its inode. On reaching the end it
checks the path: a different inode means the log was renamed away (logrotate's
default, and the API server's own ``--audit-log-maxsize`` rotation), so the old file
is drained to its end and the new one read from the start; a file shorter than our
offset means it was truncated in place (copytruncate), so reading restarts at 0.
A partial last line is kept until its newline arrives. Nothing is read twice;
copytruncate itself can lose lines written between its copy and its truncate,
which no reader can recover.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from cloudward.runtime.events.audit_file import MAX_LINE, ProblemSink, decode_line
from cloudward.runtime.events.model import EventRecord, SourceProblem


def follow_audit_log(path: str | Path, stop: threading.Event, on_problem: ProblemSink, *,
                     poll: float = 0.2, from_start: bool = True, max_line: int = MAX_LINE) -> Iterator[EventRecord]:
    """Yield events as they are appended to ``path`` until ``stop`` is set."""
    p = Path(path)
    name = str(path)
    fh, ino = _open_wait(p, stop, poll)
    if fh is None:
        return
    if not from_start:
        fh.seek(0, os.SEEK_END)
    buf = b""
    line_no = 0
    try:
        while not stop.is_set():
            chunk = fh.read(1 << 16)
            if chunk:
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for raw in lines:
                    line_no += 1
                    if len(raw) > max_line:
                        on_problem(SourceProblem(f"skipped: line longer than {max_line} bytes", name, line_no))
                        continue
                    yield from decode_line(raw, name, line_no, on_problem)
                if len(buf) > max_line:
                    on_problem(SourceProblem(f"skipped: line longer than {max_line} bytes", name, line_no + 1))
                    buf = b""
                continue
            try:
                st = os.stat(p)
            except FileNotFoundError:
                stop.wait(poll)  # renamed away and not yet recreated: keep draining, then wait
                continue
            if st.st_ino != ino:
                rest = fh.read()
                if rest:  # the writer's last lines after our previous read: drain them first
                    fh.seek(-len(rest), os.SEEK_CUR)
                    continue
                fh.close()
                if buf:
                    yield from decode_line(buf, name, line_no + 1, on_problem)
                    buf = b""
                fh, ino = _open_wait(p, stop, poll)
                line_no = 0
                if fh is None:
                    return
                continue
            if st.st_size < fh.tell():
                fh.seek(0)  # truncated in place (copytruncate)
                buf = b""
                line_no = 0
                continue
            stop.wait(poll)
    finally:
        if fh is not None:
            fh.close()


def _open_wait(p: Path, stop: threading.Event, poll: float) -> tuple[IO[bytes] | None, int]:
    while not stop.is_set():
        try:
            fh = open(p, "rb")  # noqa: SIM115 - owned by the follower loop
        except FileNotFoundError:
            stop.wait(poll)
            continue
        return fh, os.fstat(fh.fileno()).st_ino
    return None, 0
