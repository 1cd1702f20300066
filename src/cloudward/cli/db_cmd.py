"""``cloudward db import|update|status``: the local vulnerability database."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

DEFAULT_MAX_AGE_DAYS = 7


def add_db_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="FILE", help="vulnerability database (default: $CLOUDWARD_DB, else "
                   "$XDG_CACHE_HOME/cloudward/vuln.db)")


def add_freshness_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-db-age", metavar="DAYS", type=float, default=None,
                   help=f"warn when the database is older than this (default: {DEFAULT_MAX_AGE_DAYS}; env "
                   "CLOUDWARD_MAX_DB_AGE)")
    p.add_argument("--require-fresh-db", action="store_true", help="fail (exit 2) instead of warning when the "
                   "database is older than --max-db-age")


def db_path(args: argparse.Namespace) -> Path:
    from cloudward.distribute.vulndb import default_db_path

    return Path(args.db) if args.db else default_db_path(os.environ)


def check_freshness(status: Any, args: argparse.Namespace) -> None:
    """Warn (or, with --require-fresh-db, fail) when the database is older than the allowed age."""
    from cloudward.core.errors import InputError

    limit = args.max_db_age
    if limit is None:
        env = os.environ.get("CLOUDWARD_MAX_DB_AGE")
        try:
            limit = float(env) if env else DEFAULT_MAX_AGE_DAYS
        except ValueError:
            raise InputError(f"CLOUDWARD_MAX_DB_AGE must be a number of days, not {env!r}") from None
    age = status.age(dt.datetime.now(dt.UTC))
    if age is None or age <= dt.timedelta(days=limit):
        return
    msg = (f"the vulnerability database was last updated {age.days} days ago (limit {limit:g}); run "
           "'cloudward db update'")
    if args.require_fresh_db:
        raise InputError(msg, file=status.path)
    print(f"cloudward: warning: {msg}", file=sys.stderr)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("db", help="manage the local vulnerability database",
                       description="Import, update and inspect the local vulnerability database (OSV, Debian "
                       "security tracker, Alpine secdb).")
    dsub = p.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    imp = dsub.add_parser("import", help="import OSV JSON files/directories/zips, Debian tracker or Alpine secdb JSON")
    imp.add_argument("paths", nargs="+", metavar="PATH")
    add_db_flag(imp)
    imp.set_defaults(handler=run_import)
    upd = dsub.add_parser("update", help="download OSV's per-ecosystem archives (skipping unchanged ones)")
    add_db_flag(upd)
    upd.add_argument("--base-url", metavar="URL", default=None, help="where the <Ecosystem>/all.zip archives are "
                     "(default: OSV's public export; env CLOUDWARD_DB_BASE_URL)")
    upd.add_argument("--ecosystem", action="append", metavar="NAME", help="update only these ecosystems "
                     "(repeatable; default: every supported one)")
    upd.set_defaults(handler=run_update)
    st = dsub.add_parser("status", help="sources, record counts, age and schema version")
    add_db_flag(st)
    st.add_argument("-f", "--format", choices=("table", "json"), default="table")
    add_freshness_flags(st)
    st.set_defaults(handler=run_status)


def _warn(msg: str) -> None:
    print(f"cloudward: warning: {msg}", file=sys.stderr)


def run_import(args: argparse.Namespace) -> int:
    from cloudward.distribute.vulndb import import_paths

    path = db_path(args)
    for s in import_paths(path, args.paths, _warn):
        kinds = ", ".join(f"{n} × {fmt}" if n > 1 else fmt for fmt, n in s.formats.items())
        print(f"{s.location}: {kinds}: {s.records} records imported, {s.skipped} skipped")
    print(f"database: {path}")
    return 0


def run_update(args: argparse.Namespace) -> int:
    from cloudward.distribute.vulndb import DEFAULT_BASE_URL, DEFAULT_ECOSYSTEMS, update

    base = args.base_url or os.environ.get("CLOUDWARD_DB_BASE_URL") or DEFAULT_BASE_URL
    ecos = tuple(args.ecosystem) if args.ecosystem else DEFAULT_ECOSYSTEMS
    path = db_path(args)
    for r in update(path, ecos, base, warn=_warn):
        print(f"{r.ecosystem}: " + (f"{r.records} records imported" if r.changed else "unchanged, skipped"))
    print(f"database: {path}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from cloudward.distribute.vulndb import VulnDB

    with VulnDB(db_path(args)) as db:
        st = db.status()
    if args.format == "json":
        print(json.dumps({"path": st.path, "schema_version": st.schema_version, "updated_at": st.updated_at,
                          "advisories": st.advisories, "withdrawn": st.withdrawn, "size_bytes": st.size_bytes,
                          "affected_by_ecosystem": st.affected_by_ecosystem,
                          "sources": [_source(s) for s in st.sources]},
                         indent=2))
    else:
        print(f"database:       {st.path} ({st.size_bytes / 1e6:.1f} MB, schema version {st.schema_version})")
        print(f"updated:        {st.updated_at}")
        print(f"advisories:     {st.advisories} ({st.withdrawn} withdrawn)")
        for eco, n in st.affected_by_ecosystem.items():
            print(f"  {eco:<14}{n} affected packages")
        print("sources:")
        for s in st.sources:
            print(f"  {s.imported_at}  {s.kind:<30} {s.records:>8} records  sha256:{s.sha256[:16]}  {s.location}")
    check_freshness(st, args)
    return 0


def _source(s: Any) -> dict[str, Any]:
    return {k: getattr(s, k) for k in ("kind", "location", "sha256", "imported_at", "records", "skipped", "etag",
                                       "last_modified")}
