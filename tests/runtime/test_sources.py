"""Audit log sources: gzip, bad lines, oversized lines, time-ordered merge, and --follow across real rotation."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudward.runtime.events.audit_file import read_audit_file, read_audit_files
from cloudward.runtime.events.builder import audit_event
from cloudward.runtime.events.follow import follow_audit_log, follow_audit_logs
from cloudward.runtime.events.model import EventRecord, SourceProblem
from tests.runtime.conftest import TRACE


def line(i: int, t: str = "2026-11-29T10:00:00Z") -> str:
    return json.dumps(audit_event("get", "pods", name=f"p{i}", time=t, audit_id=f"id-{i}")) + "\n"


def test_gzip_is_read_by_content(tmp_path: Path) -> None:
    src = (TRACE / "exec_pod.json").read_bytes()
    gz = tmp_path / "audit.log.1"  # rotated name without .gz: detected by the magic bytes
    gz.write_bytes(gzip.compress(src))
    problems: list[SourceProblem] = []
    [rec] = read_audit_file(gz, problems.append)
    assert rec.event["auditID"] == "ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6" and problems == []


def test_bad_lines_are_skipped_with_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "audit.log"
    good = line(1)
    other = json.dumps({"kind": "Event", "apiVersion": "audit.k8s.io/v2alpha9", "verb": "get"})
    p.write_text(good + "not json\n" + other + "\n" + good[:40] + "\n" + good)
    problems: list[SourceProblem] = []
    recs = list(read_audit_file(p, problems.append))
    assert [r.line for r in recs] == [1, 5]
    assert [(pr.line, pr.message.split(":")[1].strip()[:14]) for pr in problems] == [
        (2, "not a JSON obj"), (3, "unsupported ap"), (4, "not a JSON obj")]


def test_oversized_line_is_discarded_without_stopping(tmp_path: Path) -> None:
    p = tmp_path / "audit.log"
    huge = audit_event("create", "configmaps", name="big", request_object={"data": {"x": "a" * 200_000}})
    p.write_text(line(1) + json.dumps(huge) + "\n" + line(3))
    problems: list[SourceProblem] = []
    recs = list(read_audit_file(p, problems.append, max_line=50_000))
    assert [r.line for r in recs] == [1, 3]
    assert problems[0].line == 2 and "longer than 50000" in problems[0].message


def test_files_merge_in_event_time_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text(line(1, "2026-11-29T10:00:01Z") + line(3, "2026-11-29T10:00:03Z"))
    b.write_text(line(2, "2026-11-29T10:00:02.5+00:00") + line(4, "2026-11-29T10:00:04Z"))
    recs = list(read_audit_files([a, b], lambda p: None))
    assert [r.event["auditID"] for r in recs] == ["id-1", "id-2", "id-3", "id-4"]


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait on a real condition (bounded), never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


class Follower:
    def __init__(self, *paths: Path) -> None:
        self.stop = threading.Event()
        self.seen: list[str] = []
        self.problems: list[SourceProblem] = []
        self._thread = threading.Thread(target=self._run, args=paths, daemon=True)
        self._thread.start()

    def _run(self, *paths: Path) -> None:
        rec: EventRecord
        events = follow_audit_log(paths[0], self.stop, self.problems.append, poll=0.02) if len(paths) == 1 else \
            follow_audit_logs(paths, self.stop, self.problems.append, poll=0.02)
        for rec in events:
            self.seen.append(str(rec.event["auditID"]))

    def close(self) -> None:
        self.stop.set()
        self._thread.join(5)


@pytest.mark.parametrize("mode", ["rename", "copytruncate"])
def test_follow_survives_rotation_without_loss_or_repeat(tmp_path: Path, mode: str) -> None:
    log = tmp_path / "audit.log"
    log.write_text(line(1) + line(2))
    f = Follower(log)
    try:
        wait_for(lambda: f.seen == ["id-1", "id-2"])
        with open(log, "a") as fh:
            fh.write(line(3))
            fh.write(line(4)[:30])  # a partial line: must wait for its newline
        wait_for(lambda: "id-3" in f.seen)
        with open(log, "a") as fh:
            fh.write(line(4)[30:])
        if mode == "copytruncate":
            # copytruncate loses whatever is written between the reader's last read and the truncate
            # (inherent to that rotation mode); a reader keeping up has read it, so wait for that
            wait_for(lambda: "id-4" in f.seen)
        if mode == "rename":
            os.rename(log, tmp_path / "audit.log.1")
            log.write_text(line(5))
        else:
            shutil.copy(log, tmp_path / "audit.log.1")
            with open(log, "r+") as fh:
                fh.truncate(0)
            with open(log, "a") as fh:
                fh.write(line(5))
        wait_for(lambda: "id-5" in f.seen)
        with open(log, "a") as fh:
            fh.write(line(6))
        wait_for(lambda: "id-6" in f.seen)
    finally:
        f.close()
    assert f.seen == ["id-1", "id-2", "id-3", "id-4", "id-5", "id-6"]
    assert f.problems == []


def test_follow_several_files_each_across_rotation(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "audit.log", tmp_path / "b" / "audit.log"  # e.g. two API servers' logs
    a.parent.mkdir()
    b.parent.mkdir()
    a.write_text(line(1))
    f = Follower(a, b)  # b does not exist yet: it is picked up when it appears
    try:
        wait_for(lambda: f.seen == ["id-1"])
        b.write_text(line(2))
        wait_for(lambda: "id-2" in f.seen)
        with open(a, "a") as fh:
            fh.write(line(3))
        os.rename(a, a.with_suffix(".log.1"))  # rename rotation of a, right after a write
        a.write_text(line(4))
        shutil.copy(b, b.with_suffix(".log.1"))  # copytruncate rotation of b, once it has been read
        with open(b, "r+") as fh:
            fh.truncate(0)
        with open(b, "a") as fh:
            fh.write(line(5))
        wait_for(lambda: {"id-3", "id-4", "id-5"} <= set(f.seen))
        with open(a, "a") as fh:
            fh.write(line(6))
        with open(b, "a") as fh:
            fh.write(line(7))
        wait_for(lambda: {"id-6", "id-7"} <= set(f.seen))
    finally:
        f.close()
    assert sorted(f.seen) == [f"id-{i}" for i in range(1, 8)]  # nothing lost, nothing twice
    assert [x for x in f.seen if x in ("id-1", "id-3", "id-4", "id-6")] == ["id-1", "id-3", "id-4", "id-6"]
    assert f.problems == []


def test_follow_memory_stays_flat(tmp_path: Path) -> None:
    """Following many events must not accumulate them (the follower keeps only a partial line)."""
    import tracemalloc

    log = tmp_path / "audit.log"
    log.write_text("")
    stop = threading.Event()
    count = 0
    sizes: list[int] = []

    def writer() -> None:
        with open(log, "a") as fh:
            for i in range(6000):
                fh.write(line(i))
                if i % 500 == 0:
                    fh.flush()
    tracemalloc.start()
    threading.Thread(target=writer, daemon=True).start()
    ev: Any
    for ev in follow_audit_log(log, stop, lambda p: None, poll=0.01):
        count += 1
        if count % 1000 == 0:
            sizes.append(tracemalloc.get_traced_memory()[0])
        if count == 6000:
            stop.set()
    tracemalloc.stop()
    assert count == 6000
    assert max(sizes[1:]) - min(sizes[1:]) < 2_000_000, sizes


def test_missing_file_fails_before_reading(tmp_path: Path) -> None:
    from cloudward.core.errors import InputError

    good = tmp_path / "a.log"
    good.write_text(line(1))
    with pytest.raises(InputError, match="audit log not found"):
        read_audit_files([good, tmp_path / "missing.log"], lambda p: None)  # raised on the call, not on iteration
