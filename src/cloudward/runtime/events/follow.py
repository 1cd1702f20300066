"""``--follow``: keep reading audit logs as the API server appends to them, across rotation.

Each followed file holds its file open and remembers its inode. On reaching the end
it checks the path: a different inode means the log was renamed away (logrotate's
default, and the API server's own ``--audit-log-maxsize`` rotation), so the old file
is drained to its end and the new one read from the start; a file shorter than our
offset, or whose first bytes changed, means it was truncated in place
(copytruncate) — and maybe already refilled past our offset — so reading restarts
at 0.
A partial last line is kept until its newline arrives. Nothing is read twice;
copytruncate itself can lose lines written between its copy and its truncate,
which no reader can recover.

Several files (one per API server, say) are polled in turn by one loop, so events
of one file keep their order; across files they come in arrival order (a live
stream cannot wait for the slowest file to merge by time).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from cloudward.runtime.events.audit_file import MAX_LINE, ProblemSink, decode_line
from cloudward.runtime.events.model import EventRecord, SourceProblem

_CHUNK = 1 << 16
_HEAD = 512  # an audit line's first 512 bytes include its auditID, so two files' heads differ


def follow_audit_log(path: str | Path, stop: threading.Event, on_problem: ProblemSink, *,
                     poll: float = 0.2, from_start: bool = True, max_line: int = MAX_LINE) -> Iterator[EventRecord]:
    """Yield events as they are appended to ``path`` until ``stop`` is set."""
    return follow_audit_logs([path], stop, on_problem, poll=poll, from_start=from_start, max_line=max_line)


def follow_audit_logs(paths: Sequence[str | Path], stop: threading.Event, on_problem: ProblemSink, *,
                      poll: float = 0.2, from_start: bool = True,
                      max_line: int = MAX_LINE) -> Iterator[EventRecord]:
    """Yield events appended to any of ``paths`` (each followed across rotation) until ``stop`` is set."""
    followers = [_FollowedFile(Path(p), on_problem, from_start, max_line) for p in paths]
    try:
        while not stop.is_set():
            busy = False
            for f in followers:
                records, progressed = f.read()
                busy = busy or progressed
                yield from records
                if stop.is_set():
                    return
            if not busy:
                stop.wait(poll)
    finally:
        for f in followers:
            f.close()


class _FollowedFile:
    """One followed path: its open file, inode, unfinished line and line count."""

    def __init__(self, path: Path, on_problem: ProblemSink, from_start: bool, max_line: int) -> None:
        self.path = path
        self.name = str(path)
        self.on_problem = on_problem
        self.max_line = max_line
        self._seek_end = not from_start  # only for the file found at start-up, never after rotation
        self.fh: IO[bytes] | None = None
        self.ino = 0
        self.buf = b""
        self.line_no = 0
        self.head: bytes | None = None  # the file's first bytes, to notice a truncate followed by a rewrite

    def read(self) -> tuple[list[EventRecord], bool]:
        """What can be read now without blocking, and whether anything happened (data or a rotation)."""
        if self.fh is None and not self._open():
            return [], False
        assert self.fh is not None
        chunk = self.fh.read(_CHUNK)
        if chunk:
            return self._feed(chunk), True
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return [], False  # renamed away and not yet recreated: wait
        if st.st_ino != self.ino:
            rest = self.fh.read()  # the writer's last lines after our previous read: drain them first
            if rest:
                return self._feed(rest), True
            self.fh.close()
            self.fh, self.head = None, None
            out = []
            if self.buf:
                out = list(decode_line(self.buf, self.name, self.line_no + 1, self.on_problem))
            self.buf, self.line_no = b"", 0
            return out, True
        if st.st_size < self.fh.tell() or self._head_changed():
            self.fh.seek(0)  # truncated in place (copytruncate), maybe already refilled past our offset
            self.buf, self.line_no, self.head = b"", 0, None
            return [], True
        return [], False

    def _head_changed(self) -> bool:
        """Whether the file's first bytes differ from what we read there (size alone misses a quick refill)."""
        assert self.fh is not None
        fd = self.fh.fileno()
        if self.head is None:
            self.head = os.pread(fd, min(_HEAD, self.fh.tell()), 0)
            return False
        return bool(self.head) and os.pread(fd, len(self.head), 0) != self.head

    def _feed(self, chunk: bytes) -> list[EventRecord]:
        out: list[EventRecord] = []
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for raw in lines:
            self.line_no += 1
            if len(raw) > self.max_line:
                self.on_problem(SourceProblem(f"skipped: line longer than {self.max_line} bytes", self.name,
                                              self.line_no))
                continue
            out.extend(decode_line(raw, self.name, self.line_no, self.on_problem))
        if len(self.buf) > self.max_line:
            self.on_problem(SourceProblem(f"skipped: line longer than {self.max_line} bytes", self.name,
                                          self.line_no + 1))
            self.buf = b""
        return out

    def _open(self) -> bool:
        try:
            self.fh = open(self.path, "rb")  # noqa: SIM115 - owned by this follower until close()
        except FileNotFoundError:
            return False
        self.ino = os.fstat(self.fh.fileno()).st_ino
        if self._seek_end:
            self.fh.seek(0, os.SEEK_END)
            self._seek_end = False
        return True

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None
