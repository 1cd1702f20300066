"""Writing the database: build a new file beside the old one, then swap it in.

Every change (import or update) copies the current database into a temporary
file in the same directory, writes there, checks it, fsyncs it and renames it
over the old one. An interrupted or failed run leaves the previous database
untouched and usable, and readers never see half a file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cloudward.core.errors import OperationalError
from cloudward.distribute.vulndb.model import Advisory
from cloudward.distribute.vulndb.schema import DDL, SCHEMA_VERSION
from cloudward.distribute.vulndb.store import affected_to_json, check_schema

log = logging.getLogger(__name__)


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DbWriter:
    """An open build file; use through ``building(path)``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.written = 0
        self.kept_newer = 0

    def add_source(self, kind: str, location: str, sha256: str, *, etag: str | None = None,
                   last_modified: str | None = None) -> int:
        cur = self.conn.execute(
            "INSERT INTO sources (kind, location, sha256, imported_at, records, skipped, etag, last_modified) "
            "VALUES (?, ?, ?, ?, 0, 0, ?, ?)", (kind, location, sha256, utc_now(), etag, last_modified))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def finish_source(self, source_id: int, records: int, skipped: int) -> None:
        self.conn.execute("UPDATE sources SET records = ?, skipped = ? WHERE id = ?", (records, skipped, source_id))

    def previous_source(self, location: str) -> tuple[str | None, str | None, str] | None:
        """(etag, last_modified, sha256) of the newest import from ``location``, for conditional downloads."""
        row = self.conn.execute("SELECT etag, last_modified, sha256 FROM sources WHERE location = ? ORDER BY id DESC "
                                "LIMIT 1", (location,)).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def add(self, adv: Advisory, source_id: int) -> None:
        c = self.conn
        row = c.execute("SELECT modified, aliases FROM advisories WHERE id = ?", (adv.id,)).fetchone()
        if adv.partial:
            aliases = sorted(set(adv.aliases) | set(json.loads(row[1]) if row else ()))
            self._put(adv, aliases, source_id)
            for a in adv.affected:
                c.execute("DELETE FROM affected WHERE advisory_id = ? AND ecosystem = ? AND release = ? AND name = ?",
                          (adv.id, a.ecosystem, a.release, a.name))
        else:
            if row is not None and row[0] > adv.modified:
                self.kept_newer += 1
                return
            if row is not None:
                c.execute("DELETE FROM affected WHERE advisory_id = ?", (adv.id,))
                c.execute("DELETE FROM aliases WHERE advisory_id = ?", (adv.id,))
            self._put(adv, list(adv.aliases), source_id)
        c.executemany("INSERT INTO affected VALUES (?, ?, ?, ?, ?)",
                      [(adv.id, a.ecosystem, a.release, a.name, affected_to_json(a)) for a in adv.affected])
        c.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?)", [(al, adv.id) for al in adv.aliases])
        self.written += 1

    def _put(self, adv: Advisory, aliases: list[str], source_id: int) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO advisories (id, modified, published, withdrawn, summary, aliases, cvss, "
            "database_severity, refs, source_id, related, covers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (adv.id, adv.modified, adv.published, adv.withdrawn, adv.summary, json.dumps(aliases),
             json.dumps(list(adv.cvss)), adv.database_severity, json.dumps(list(adv.references)), source_id,
             json.dumps(list(adv.related)), json.dumps(list(adv.covers))))


@contextlib.contextmanager
def building(path: Path) -> Iterator[DbWriter]:
    """Yield a writer on a copy of ``path`` (or a new database); swap it in only if the block succeeds."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".building", dir=parent)
        os.close(fd)
    except OSError as e:
        raise OperationalError(f"cannot create a new database beside {path}: {e.strerror or e}; check that "
                               f"{parent} is writable") from e
    tmp = Path(tmp_name)
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        if path.exists():
            old = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
            try:
                if check_schema(old, str(path)) == SCHEMA_VERSION:
                    old.backup(conn)
                else:
                    log.warning("%s has an older database schema; building a new database from this import "
                                "alone (run 'cloudward db update' or re-import every source)", path)
            finally:
                old.close()
        conn.execute("PRAGMA journal_mode = OFF")  # the build file is private until the swap
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        _create(conn)
        writer = DbWriter(conn)
        yield writer
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('updated_at', ?)", (utc_now(),))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise OperationalError(f"the new database failed SQLite's integrity check; {path} is unchanged")
        conn.close()
        conn = None
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(parent)
    except sqlite3.Error as e:
        raise OperationalError(f"writing the vulnerability database failed ({e}); the previous database at {path} "
                               "is unchanged — free disk space or choose another --db") from e
    except OSError as e:
        raise OperationalError(f"writing the vulnerability database failed ({e.strerror or e}); the previous "
                               f"database at {path} is unchanged") from e
    finally:
        if conn is not None:
            conn.close()
        tmp.unlink(missing_ok=True)


def _create(conn: sqlite3.Connection) -> None:
    for stmt in DDL.split(";"):
        if stmt.strip():
            conn.execute(stmt)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
