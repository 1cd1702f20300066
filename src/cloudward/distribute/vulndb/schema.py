"""The SQLite layout of the vulnerability database and its version.

``PRAGMA user_version`` holds ``SCHEMA_VERSION``. A database from a newer
cloudward is refused (we cannot know what it means); an older one is refused by
scans with advice and rebuilt from scratch by the next import or update (its
rows were written by older parsing rules, so they are not carried over).

Version 2 added ``advisories.related`` and ``advisories.covers`` and splits
Ubuntu's product lines (``20.04/fips-updates``) from their base release.
"""

from __future__ import annotations

SCHEMA_VERSION = 2

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,          -- osv-json, osv-zip, debian-tracker, alpine-secdb
    location TEXT NOT NULL,      -- file path or URL
    sha256 TEXT NOT NULL,
    imported_at TEXT NOT NULL,   -- RFC 3339 UTC
    records INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT
);
CREATE TABLE IF NOT EXISTS advisories (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    published TEXT,
    withdrawn TEXT,
    summary TEXT NOT NULL,
    aliases TEXT NOT NULL,       -- JSON array
    cvss TEXT NOT NULL,          -- JSON array of vectors
    database_severity TEXT,
    refs TEXT NOT NULL,          -- JSON array of URLs
    source_id INTEGER NOT NULL,
    related TEXT NOT NULL,       -- JSON array: OSV related ids (shown, not merged)
    covers TEXT NOT NULL         -- JSON array: the vulnerabilities a notice fixes, when several
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS affected (
    advisory_id TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    release TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL           -- JSON: r=ranges, v=versions, s=status, u=distro severity, p=purl
);
CREATE INDEX IF NOT EXISTS affected_lookup ON affected (ecosystem, name, release);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory_id);
CREATE TABLE IF NOT EXISTS aliases (alias TEXT NOT NULL, advisory_id TEXT NOT NULL, PRIMARY KEY (alias, advisory_id))
    WITHOUT ROWID;
"""
