"""Reading the vulnerability database: lookups by package, advisory details, status.

Opened read-only, so a scan never changes the file and a concurrent update
(which swaps in a new file) cannot disturb it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from cloudward.core.errors import InputError
from cloudward.distribute.vulndb.model import Affected, DistroStatus, Event, Range
from cloudward.distribute.vulndb.schema import SCHEMA_VERSION


def default_db_path(env: Mapping[str, str]) -> Path:
    """``$CLOUDWARD_DB``, else ``$XDG_CACHE_HOME/cloudward/vuln.db``, else ``~/.cache/cloudward/vuln.db``."""
    if env.get("CLOUDWARD_DB"):
        return Path(env["CLOUDWARD_DB"])
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path(env.get("HOME", "~")) / ".cache"
    return base.expanduser() / "cloudward" / "vuln.db"


@dataclasses.dataclass(frozen=True, slots=True)
class AdvisoryInfo:
    """What a report needs of an advisory besides the affected entry that matched."""

    id: str
    aliases: tuple[str, ...]
    withdrawn: str | None
    summary: str
    cvss: tuple[str, ...]
    database_severity: str | None
    references: tuple[str, ...]
    related: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()  # a notice's several vulnerabilities (see ``Advisory.covers``)


@dataclasses.dataclass(frozen=True, slots=True)
class SourceInfo:
    kind: str
    location: str
    sha256: str
    imported_at: str
    records: int
    skipped: int
    etag: str | None = None
    last_modified: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class DbStatus:
    path: str
    schema_version: int
    updated_at: str | None
    advisories: int
    withdrawn: int
    affected_by_ecosystem: dict[str, int]
    sources: tuple[SourceInfo, ...]
    size_bytes: int

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        if self.updated_at is None:
            return None
        return now - dt.datetime.fromisoformat(self.updated_at.replace("Z", "+00:00"))


def check_schema(conn: sqlite3.Connection, path: str) -> int:
    """Refuse files that are not a cloudward database or come from a newer schema."""
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as e:
        raise InputError(f"not a cloudward vulnerability database ({e}); choose another --db or delete it",
                         file=path) from e
    if version > SCHEMA_VERSION:
        raise InputError(f"database schema version {version} is newer than this cloudward understands "
                         f"({SCHEMA_VERSION}); upgrade cloudward or use another --db", file=path)
    if version == 0 or "advisories" not in tables:
        raise InputError("not a cloudward vulnerability database (no schema version); choose another --db",
                         file=path)
    return version


@dataclasses.dataclass(frozen=True, slots=True)
class DbAge:
    """Just enough to judge freshness, without counting records (``status()`` scans every table)."""

    path: str
    updated_at: str | None

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        if self.updated_at is None:
            return None
        return now - dt.datetime.fromisoformat(self.updated_at.replace("Z", "+00:00"))


def affected_from_json(ecosystem: str, release: str, name: str, data: str) -> Affected:
    d = orjson.loads(data)
    ranges = tuple(Range(t, tuple(Event(k, v) for k, v in evs)) for t, evs in d.get("r", ()))
    status = DistroStatus(d["s"]) if d.get("s") else None
    return Affected(ecosystem=ecosystem, release=release, name=name, ranges=ranges, versions=tuple(d.get("v", ())),
                    status=status, distro_severity=d.get("u"), purl=d.get("p"))


def affected_to_json(a: Affected) -> str:
    d: dict[str, object] = {}
    if a.ranges:
        d["r"] = [[r.type, [[e.kind, e.version] for e in r.events]] for r in a.ranges]
    if a.versions:
        d["v"] = list(a.versions)
    if a.status is not None:
        d["s"] = a.status.value
    if a.distro_severity:
        d["u"] = a.distro_severity
    if a.purl:
        d["p"] = a.purl
    return json.dumps(d, separators=(",", ":"))


#: A constant column list (no user text is ever formatted into SQL here).
_INFO_COLUMNS = "id, aliases, withdrawn, summary, cvss, database_severity, refs, related, covers"


def _info(row: tuple[Any, ...]) -> AdvisoryInfo:
    """An ``AdvisoryInfo`` from a row of ``_INFO_COLUMNS``."""
    loads = orjson.loads
    return AdvisoryInfo(id=row[0], aliases=tuple(loads(row[1])), withdrawn=row[2], summary=row[3],
                        cvss=tuple(loads(row[4])), database_severity=row[5], references=tuple(loads(row[6])),
                        related=tuple(loads(row[7])), covers=tuple(loads(row[8])))


class VulnDB:
    """A read-only handle on one database file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("no vulnerability database here; run 'cloudward db update' or 'cloudward db import "
                             "FILE...' first, or pass --db", file=str(self.path))
        try:
            self._conn = sqlite3.connect(f"file:{self.path.resolve()}?mode=ro", uri=True, check_same_thread=False)
            # Read-only twice over (the URI mode and the connection). No mmap: measured on the 200k-record
            # bench it saved no time and added ~30 MB of resident pages to a scan.
            self._conn.execute("PRAGMA query_only = ON")
        except sqlite3.Error as e:
            raise InputError(f"cannot open the vulnerability database: {e}", file=str(self.path)) from e
        self.schema_version = check_schema(self._conn, str(self.path))
        if self.schema_version < SCHEMA_VERSION:
            self._conn.close()
            raise InputError(f"database schema version {self.schema_version} is older than this cloudward's "
                             f"({SCHEMA_VERSION}); run 'cloudward db update' (or your 'db import' again) to rebuild "
                             "it", file=str(self.path))
        self._advisory = functools.lru_cache(maxsize=65536)(self._load_advisory)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def candidates_by_name(self, ecosystem: str, release: str, names: Iterable[str]
                           ) -> dict[str, list[tuple[AdvisoryInfo, Affected]]]:
        """Every live (not withdrawn) advisory entry filed under any of ``names``, in one query.

        The matcher's hot path: one indexed join per (ecosystem, release) instead of one query per
        package plus one per advisory. Per name, entries come in (release, insertion) order, the
        order ``candidates`` yields them in. Each advisory is decoded once however many names share it.
        """
        wanted = json.dumps(sorted(set(names)))
        rows = self._conn.execute(
            "SELECT f.name, f.release, f.data, a.id, a.aliases, a.summary, a.cvss, a.database_severity, a.refs, "
            "a.related, a.covers FROM affected AS f JOIN advisories AS a ON a.id = f.advisory_id "
            "WHERE f.ecosystem = ? AND f.name IN (SELECT value FROM json_each(?)) AND f.release IN (?, '') "
            "AND a.withdrawn IS NULL ORDER BY f.name, f.release, f.rowid", (ecosystem, wanted, release)).fetchall()
        out: dict[str, list[tuple[AdvisoryInfo, Affected]]] = {}
        infos: dict[str, AdvisoryInfo] = {}
        loads = orjson.loads
        for name, rel, data, aid, aliases, summary, cvss, db_sev, refs, related, covers in rows:
            info = infos.get(aid)
            if info is None:
                info = infos[aid] = AdvisoryInfo(id=aid, aliases=tuple(loads(aliases)), withdrawn=None,
                                                 summary=summary, cvss=tuple(loads(cvss)),
                                                 database_severity=db_sev, references=tuple(loads(refs)),
                                                 related=tuple(loads(related)), covers=tuple(loads(covers)))
            out.setdefault(name, []).append((info, affected_from_json(ecosystem, rel, name, data)))
        return out

    def lenders(self, ids: Iterable[str]) -> dict[str, list[AdvisoryInfo]]:
        """id → the advisories that are it or name it as an alias *and* carry a CVSS vector or severity word.

        For matches whose own records have no score: two queries for all of them, and
        only records that can lend something are decoded.
        """
        wanted = json.dumps(sorted(set(ids)))
        pairs = self._conn.execute(
            "SELECT alias, advisory_id FROM aliases WHERE alias IN (SELECT value FROM json_each(?)) "
            "UNION SELECT id, id FROM advisories WHERE id IN (SELECT value FROM json_each(?))",
            (wanted, wanted)).fetchall()
        needed = json.dumps(sorted({aid for _, aid in pairs}))
        infos = {r[0]: _info(r) for r in self._conn.execute(
            f"SELECT {_INFO_COLUMNS} FROM advisories WHERE id IN (SELECT value FROM json_each(?)) "  # noqa: S608
            "AND (cvss != '[]' OR database_severity IS NOT NULL)", (needed,))}
        out: dict[str, list[AdvisoryInfo]] = {}
        for key, aid in pairs:
            if aid in infos:
                out.setdefault(key, []).append(infos[aid])
        return out

    def age_info(self) -> DbAge:
        """When the database was last written, for the freshness check of every scan (cheap)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'updated_at'").fetchone()
        return DbAge(path=str(self.path), updated_at=row[0] if row else None)

    def advisory(self, advisory_id: str) -> AdvisoryInfo | None:
        result: AdvisoryInfo | None = self._advisory(advisory_id)
        return result

    def _load_advisory(self, advisory_id: str) -> AdvisoryInfo | None:
        row = self._conn.execute(f"SELECT {_INFO_COLUMNS} FROM advisories WHERE id = ?",  # noqa: S608
                                 (advisory_id,)).fetchone()
        return None if row is None else _info(row)

    def status(self) -> DbStatus:
        c = self._conn
        meta = dict(c.execute("SELECT key, value FROM meta").fetchall())
        sources = tuple(SourceInfo(*r) for r in c.execute(
            "SELECT kind, location, sha256, imported_at, records, skipped, etag, last_modified "
            "FROM sources ORDER BY id"))
        by_eco = dict(c.execute("SELECT ecosystem, COUNT(*) FROM affected GROUP BY ecosystem ORDER BY ecosystem"))
        return DbStatus(
            path=str(self.path), schema_version=self.schema_version, updated_at=meta.get("updated_at"),
            advisories=c.execute("SELECT COUNT(*) FROM advisories").fetchone()[0],
            withdrawn=c.execute("SELECT COUNT(*) FROM advisories WHERE withdrawn IS NOT NULL").fetchone()[0],
            affected_by_ecosystem=by_eco, sources=sources, size_bytes=self.path.stat().st_size)
