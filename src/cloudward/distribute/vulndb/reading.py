"""Reading import inputs and recognising their format from their content.

Inputs are OSV JSON records (one per file, a JSON array, or ``{"vulns": [...]}``),
directories of them, OSV's per-ecosystem ``all.zip`` archives, the Debian
tracker's JSON export and Alpine secdb JSON. Zips are read member by member in
memory — never extracted — with limits on member count, member size, total size
and compression ratio, so a zip bomb or a hostile archive cannot exhaust the disk
or memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cloudward.core import jsonsafe
from cloudward.core.errors import InputError
from cloudward.distribute.vulndb import alpine, debian
from cloudward.distribute.vulndb.model import Advisory
from cloudward.distribute.vulndb.osv import RecordError, parse_record

MAX_JSON_FILE = 1 << 30  # the Debian tracker export is ~100 MB; refuse anything absurd
MAX_ZIP_MEMBERS = 2_000_000
MAX_ZIP_MEMBER = 32 << 20
MAX_ZIP_TOTAL = 16 << 30
MAX_ZIP_RATIO = 200


class Format:
    OSV_RECORDS = "OSV JSON"
    OSV_ZIP = "OSV zip archive"
    DEBIAN_TRACKER = "Debian security tracker JSON"
    ALPINE_SECDB = "Alpine secdb JSON"


@dataclasses.dataclass
class Input:
    """One file to import: its detected format, digest and advisories (a lazy iterator)."""

    location: str
    format: str
    sha256: str
    advisories: Iterator[Advisory]
    skipped: int = 0


Warn = Callable[[str], None]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _osv_records(data: Any) -> list[Any] | None:
    if isinstance(data, dict) and "id" in data and "modified" in data:
        return [data]
    if isinstance(data, dict) and isinstance(data.get("vulns"), list):
        return list(data["vulns"])
    if isinstance(data, list) and data and all(isinstance(d, dict) and "id" in d for d in data):
        return data
    return None


def open_input(path: Path, now: str, warn: Warn, unknown: dict[str, int]) -> Input:
    """Recognise ``path``'s format from its content and prepare its advisories."""
    loc = str(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
        size = path.stat().st_size
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", file=loc) from e
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return Input(loc, Format.OSV_ZIP, _sha256(path), _zip_records(path, warn, unknown))
    if size > MAX_JSON_FILE:
        raise InputError(f"file is larger than {MAX_JSON_FILE >> 20} MiB; refusing to load it", file=loc)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        data = jsonsafe.loads(raw)
    except UnicodeDecodeError as e:
        raise InputError("not UTF-8 JSON; expected an OSV record, an OSV zip, Debian tracker JSON or Alpine secdb "
                         "JSON", file=loc) from e
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg}; expected an OSV record, an OSV zip, Debian tracker JSON or "
                         "Alpine secdb JSON", file=loc, line=e.lineno, column=e.colno) from e
    records = _osv_records(data)
    if records is not None:
        return Input(loc, Format.OSV_RECORDS, digest, _parse_all(records, loc, warn, unknown))
    if alpine.looks_like_secdb(data):
        return Input(loc, Format.ALPINE_SECDB, digest, alpine.convert(data, now))
    if debian.looks_like_tracker(data):
        return Input(loc, Format.DEBIAN_TRACKER, digest, debian.convert(data, now))
    raise InputError("unrecognised format: expected an OSV record (with 'id' and 'modified'), an OSV zip, the Debian "
                     "security tracker JSON export or Alpine secdb JSON", file=loc)


def _parse_all(records: list[Any], loc: str, warn: Warn, unknown: dict[str, int]) -> Iterator[Advisory]:
    for rec in records:
        adv = _parse_one(rec, loc, warn, unknown)
        if adv is not None:
            yield adv


def _parse_one(rec: Any, loc: str, warn: Warn, unknown: dict[str, int]) -> Advisory | None:
    try:
        return parse_record(rec, unknown)
    except RecordError as e:
        rid = rec.get("id") if isinstance(rec, dict) else None
        warn(f"{loc}: {rid or '(no id)'}: violates the OSV schema: {e}; skipped")
        return None


def _zip_records(path: Path, warn: Warn, unknown: dict[str, int]) -> Iterator[Advisory]:
    loc = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > MAX_ZIP_MEMBERS:
                raise InputError(f"zip has {len(infos)} members, more than the limit {MAX_ZIP_MEMBERS}", file=loc)
            total = 0
            for info in infos:
                where = f"{loc}:{info.filename}"
                if not info.filename.endswith(".json"):
                    continue
                if info.file_size > MAX_ZIP_MEMBER:
                    raise InputError(f"zip member is {info.file_size} bytes, above the {MAX_ZIP_MEMBER >> 20} MiB "
                                     "limit; refusing a possible zip bomb", file=where)
                if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO \
                        and info.file_size > (1 << 20):
                    raise InputError("zip member compresses more than 200:1; refusing a possible zip bomb", file=where)
                with zf.open(info) as fh:
                    raw = fh.read(MAX_ZIP_MEMBER + 1)
                if len(raw) > MAX_ZIP_MEMBER:
                    raise InputError("zip member is larger than its header says; refusing it", file=where)
                total += len(raw)
                if total > MAX_ZIP_TOTAL:
                    raise InputError(f"zip expands beyond {MAX_ZIP_TOTAL >> 30} GiB; refusing it", file=loc)
                try:
                    rec = jsonsafe.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as e:
                    warn(f"{where}: invalid JSON ({e}); skipped")
                    continue
                adv = _parse_one(rec, where, warn, unknown)
                if adv is not None:
                    yield adv
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
        raise InputError(f"corrupt or truncated zip archive ({e}); download it again", file=loc) from e
    except OSError as e:
        raise InputError(f"cannot read zip archive: {e.strerror or e}", file=loc) from e


def expand(paths: list[str]) -> list[Path]:
    """Files to import: each named file, and every ``*.json``/``*.zip`` under each named directory (sorted)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix in (".json", ".zip"))
            if not found:
                raise InputError("directory holds no .json or .zip files to import", file=p)
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise InputError("no such file or directory; check the path", file=p)
    return out
