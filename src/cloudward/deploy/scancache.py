"""The scan cache: vulnerability reports keyed by image digest, read by the admission vulnerability gate.

Format (documented in docs/admission.md): a directory holding one file per
image manifest digest, ``sha256-<hex>.json``, each the JSON report of
``cloudward sbom scan --format json`` (report schema 1.x) for that image.
CI fills it (``cloudward admission cache add``, or by writing the file and
renaming it into place); the webhook only reads it.

A lookup costs one ``stat``: a file is parsed once and kept in memory while its
size and modification time stay the same, so a review never re-reads JSON and
never uses the network. Only what the gate needs is kept (each vulnerability's
id, severity, whether it has a fix, whether VEX suppressed it).
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from typing import Any

import orjson

from cloudward.core.errors import InputError, OperationalError
from cloudward.core.files import atomic_write
from cloudward.core.severity import Severity
from cloudward.deploy.verifier import GateStats

MAX_REPORT = 64 * 1024 * 1024
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


@dataclasses.dataclass(frozen=True, slots=True)
class CachedVulnerability:
    id: str
    severity: Severity
    fixable: bool
    package: str


@dataclasses.dataclass(frozen=True, slots=True)
class ScanEntry:
    """What the gate needs of one cached report; ``error`` is set when the file is unusable."""

    digest: str
    vulnerabilities: tuple[CachedVulnerability, ...] = ()
    mtime: float = 0.0
    error: str | None = None

    def at_or_above(self, severity: Severity, only_fixable: bool) -> list[CachedVulnerability]:
        return [v for v in self.vulnerabilities if v.severity.rank >= severity.rank and (v.fixable or not only_fixable)]


def file_name(digest: str) -> str:
    return digest.replace(":", "-", 1) + ".json"


def parse_report(data: bytes, source: str) -> list[CachedVulnerability]:
    """The unsuppressed vulnerabilities of a cloudward JSON report; ``InputError`` when it is not one."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise InputError(f"not JSON: {e}", file=source) from None
    if not isinstance(doc, dict) or not str(doc.get("schema_version", "")).startswith("1.") \
            or not isinstance(doc.get("findings"), list):
        raise InputError("not a cloudward JSON report (schema_version 1.x with findings); write it with "
                         "'cloudward sbom scan --format json'", file=source)
    out = []
    for i, f in enumerate(doc["findings"]):
        if not isinstance(f, dict) or "vulnerability_id" not in f:
            continue  # other findings (secrets, hardening) are not this gate's business
        if f.get("suppressed") is True:
            continue
        try:
            severity = Severity.parse(str(f.get("severity")))
        except ValueError:
            raise InputError(f"findings[{i}].severity {f.get('severity')!r} is not a severity", file=source) from None
        pkg: Any = f.get("package")
        name = f"{pkg.get('name')}@{pkg.get('version')}" if isinstance(pkg, dict) else "?"
        fixed = f.get("fixed_versions")
        out.append(CachedVulnerability(str(f["vulnerability_id"]), severity, bool(fixed), name))
    return out


class ScanCache:
    """Read side of the cache, used by the webhook; entries are reloaded when their file changes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._entries: dict[str, tuple[tuple[int, int], ScanEntry]] = {}
        self.reads = 0  # files parsed, for tests and metrics
        self.stats: GateStats = GateStats()

    def lookup(self, digest: str) -> ScanEntry | None:
        path = self.directory / file_name(digest)
        try:
            st = path.stat()
        except OSError:
            self._entries.pop(digest, None)
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        hit = self._entries.get(digest)
        self.stats.cache("vulnerabilities", "report", hit is not None and hit[0] == stamp)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        entry = self._read(path, digest, st.st_mtime, st.st_size)
        self._entries[digest] = (stamp, entry)
        return entry

    def _read(self, path: Path, digest: str, mtime: float, size: int) -> ScanEntry:
        self.reads += 1
        if size > MAX_REPORT:
            return ScanEntry(digest, mtime=mtime, error=f"{path} is larger than {MAX_REPORT} bytes")
        try:
            return ScanEntry(digest, tuple(parse_report(path.read_bytes(), str(path))), mtime)
        except InputError as e:
            return ScanEntry(digest, mtime=mtime, error=str(e))
        except OSError as e:
            return ScanEntry(digest, mtime=mtime, error=f"{path}: {e.strerror}")


def add_report(directory: Path, digest: str, data: bytes, source: str) -> Path:
    """Validate a report and write it into the cache atomically (temp file, fsync, rename)."""
    if not _DIGEST.match(digest):
        raise InputError(f"digest {digest!r} is not sha256:<64 lowercase hex>; give the image manifest digest")
    if len(data) > MAX_REPORT:
        raise InputError(f"report is larger than {MAX_REPORT} bytes", file=source)
    parse_report(data, source)
    target = directory / file_name(digest)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
    except OSError as e:
        raise OperationalError(f"cannot write to the scan cache {directory}: {e.strerror}") from e
    return target


def age_days(entry: ScanEntry, now: float | None = None) -> float:
    return ((now or time.time()) - entry.mtime) / 86400
