"""``cloudward db update``: download OSV's per-ecosystem ``all.zip`` archives and import them.

Conditional requests (``If-None-Match``/``If-Modified-Since`` from the previous
import of the same URL) skip unchanged ecosystems. Downloads go to a temporary
file beside the database, are size-limited, and are imported into a new database
file that replaces the old one only when everything succeeded. TLS is verified
(the standard library's default context).
"""

from __future__ import annotations

import dataclasses
import logging
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from cloudward.core.errors import InputError, OperationalError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_ECOSYSTEMS = ("Debian", "Ubuntu", "Alpine", "Red Hat", "Rocky Linux", "AlmaLinux", "PyPI", "npm", "Go",
                      "Maven", "crates.io", "RubyGems", "NuGet", "Packagist")
MAX_DOWNLOAD = 2 << 30


@dataclasses.dataclass(frozen=True, slots=True)
class UpdateResult:
    ecosystem: str
    url: str
    changed: bool
    records: int = 0


def _url(base: str, ecosystem: str) -> str:
    return f"{base.rstrip('/')}/{urllib.parse.quote(ecosystem)}/all.zip"


def update(db_path: Path, ecosystems: tuple[str, ...] = DEFAULT_ECOSYSTEMS, base_url: str = DEFAULT_BASE_URL,
           timeout: float = 60.0, warn: Callable[[str], None] | None = None) -> list[UpdateResult]:
    """Fetch each ecosystem's archive unless unchanged; all imports land in one atomic swap."""
    # Imported here, not at module level: the package exports this function, and every scan imports the
    # package; HTTP, zip reading and the build machinery are only needed by an update.
    import tempfile
    import urllib.error
    import urllib.request

    from cloudward.distribute.vulndb.build import building, utc_now
    from cloudward.distribute.vulndb.reading import Format, open_input

    if not base_url.startswith(("https://", "http://")):
        raise InputError(f"--base-url must be an http(s) URL, not {base_url!r}")
    emit = warn or (lambda m: log.warning("%s", m))
    results = []
    with building(db_path) as writer:
        for eco in ecosystems:
            url = _url(base_url, eco)
            prev = writer.previous_source(url)
            req = urllib.request.Request(url, headers={"User-Agent": "cloudward"})  # noqa: S310 — scheme checked above
            if prev is not None:
                if prev[0]:
                    req.add_header("If-None-Match", prev[0])
                if prev[1]:
                    req.add_header("If-Modified-Since", prev[1])
            with tempfile.TemporaryDirectory(dir=db_path.parent, prefix=".download-") as tmp:
                target = Path(tmp) / "all.zip"
                try:
                    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
                        etag, last_modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
                        digest = _save(resp, target, url)
                except urllib.error.HTTPError as e:
                    if e.code == 304:
                        results.append(UpdateResult(eco, url, changed=False))
                        continue
                    raise OperationalError(f"downloading {url} failed: HTTP {e.code} {e.reason}; the database is "
                                           "unchanged") from e
                except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                    reason = getattr(e, "reason", e)
                    raise OperationalError(f"downloading {url} failed: {reason}; the database is unchanged — check "
                                           "the network or --base-url") from e
                if prev is not None and prev[2] == digest:
                    results.append(UpdateResult(eco, url, changed=False))
                    continue
                unknown: dict[str, int] = {}
                skipped = 0

                def counting(msg: str) -> None:
                    nonlocal skipped
                    skipped += 1
                    emit(msg)

                inp = open_input(target, utc_now(), counting, unknown)
                if inp.format != Format.OSV_ZIP:
                    raise OperationalError(f"{url} did not return a zip archive; the database is unchanged")
                source = writer.add_source("osv-zip", url, digest, etag=etag, last_modified=last_modified)
                before = writer.written
                for adv in inp.advisories:
                    writer.add(adv, source)
                writer.finish_source(source, writer.written - before, skipped)
                results.append(UpdateResult(eco, url, changed=True, records=writer.written - before))
    return results


def _save(resp: object, target: Path, url: str) -> str:
    import hashlib  # imported here: a scan imports this package but never downloads

    h = hashlib.sha256()
    total = 0
    with open(target, "wb") as out:
        while True:
            chunk = resp.read(1 << 20)  # type: ignore[attr-defined]
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_DOWNLOAD:
                raise OperationalError(f"{url} is larger than {MAX_DOWNLOAD >> 30} GiB; refusing it")
            h.update(chunk)
            out.write(chunk)
    return h.hexdigest()
