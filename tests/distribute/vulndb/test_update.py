"""``cloudward db update`` against a real HTTP server on 127.0.0.1 serving OSV-style archives."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudward.distribute.vulndb import VulnDB
from tests.distribute.match.kit import SAMPLE, need_shared
from tests.distribute.vulndb.clikit import run
from tests.distribute.vulndb.test_import import digest, go_zip


class _Handler(http.server.BaseHTTPRequestHandler):
    root: Path
    log: list[tuple[str, str | None]]

    def do_GET(self) -> None:
        path = self.root / self.path.lstrip("/").replace("%20", " ")
        self.log.append((self.path, self.headers.get("If-None-Match")))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", "Sat, 29 Nov 2026 07:42:00 GMT")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def osv_server(tmp_path: Path) -> Iterator[tuple[str, Path, list[tuple[str, str | None]]]]:
    need_shared()
    root = tmp_path / "www"
    (root / "Go").mkdir(parents=True)
    (root / "crates.io").mkdir()
    go_zip(root / "Go" / "all.zip")
    import zipfile

    with zipfile.ZipFile(root / "crates.io" / "all.zip", "w") as zf:
        for f in sorted((SAMPLE / "osv" / "crates.io").glob("*.json")):
            zf.writestr(f.name, f.read_bytes())
    log: list[tuple[str, str | None]] = []
    handler = type("H", (_Handler,), {"root": root, "log": log})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # bound and listening on return
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root, log
    finally:
        server.shutdown()
        server.server_close()


def test_update_downloads_then_skips_unchanged(osv_server: tuple[str, Path, list[tuple[str, str | None]]],
                                               tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, root, log = osv_server
    db = tmp_path / "v.db"
    args = ["db", "update", "--db", str(db), "--base-url", url, "--ecosystem", "Go", "--ecosystem", "crates.io"]
    assert run(args) == 0
    out = capsys.readouterr().out
    assert "Go: 234 records imported" in out and "crates.io: 49 records imported" in out
    assert [p for p, _ in log] == ["/Go/all.zip", "/crates.io/all.zip"]
    assert all(etag is None for _, etag in log)
    assert run(args) == 0
    out = capsys.readouterr().out
    assert "Go: unchanged, skipped" in out and "crates.io: unchanged, skipped" in out
    assert all(etag is not None for _, etag in log[2:])  # conditional requests the second time
    # a changed archive is fetched again; the other is still skipped
    go_zip(root / "Go" / "all.zip", {"GO-2099-0009.json": (SAMPLE / "osv" / "go" / "GO-2021-0238.json").read_bytes()
                                     .replace(b"GO-2021-0238", b"GO-2099-0009")})
    assert run(args) == 0
    out = capsys.readouterr().out
    assert "Go: 235 records imported" in out and "crates.io: unchanged, skipped" in out
    with VulnDB(db) as vdb:
        st = vdb.status()
        assert vdb.advisory("GO-2099-0009") is not None
    assert {s.location for s in st.sources} == {f"{url}/Go/all.zip", f"{url}/crates.io/all.zip"}
    assert all(s.etag for s in st.sources)


def test_failed_update_leaves_previous_database(osv_server: tuple[str, Path, list[tuple[str, str | None]]],
                                                tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, root, _ = osv_server
    db = tmp_path / "v.db"
    assert run(["db", "update", "--db", str(db), "--base-url", url, "--ecosystem", "Go"]) == 0
    before = digest(db)
    (root / "crates.io" / "all.zip").write_bytes((root / "crates.io" / "all.zip").read_bytes()[:100])  # truncated
    assert run(["db", "update", "--db", str(db), "--base-url", url, "--ecosystem", "Go", "--ecosystem",
                "crates.io"]) == 2
    assert run(["db", "update", "--db", str(db), "--base-url", url, "--ecosystem", "NuGet"]) == 3  # 404
    err = capsys.readouterr().err
    assert "corrupt or truncated zip" in err and "HTTP 404" in err
    assert digest(db) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_full_disk_during_update_leaves_the_previous_database(
        osv_server: tuple[str, Path, list[tuple[str, str | None]]], tmp_path: Path) -> None:
    """A child process whose files cannot grow past 128 KiB (EFBIG, as ENOSPC on a full disk) updates Go."""
    import subprocess
    import sys

    from tests.distribute.vulndb.test_import import _limit_file_size

    url, _, _ = osv_server
    db = tmp_path / "v.db"
    assert run(["db", "update", "--db", str(db), "--base-url", url, "--ecosystem", "crates.io"]) == 0
    before = digest(db)
    proc = subprocess.run(
        [sys.executable, "-m", "cloudward", "db", "update", "--db", str(db), "--base-url", url, "--ecosystem", "Go",
         "--ecosystem", "crates.io"], capture_output=True, text=True, preexec_fn=_limit_file_size,
        timeout=120, env={"PYTHONPATH": str(Path(__file__).resolve().parents[3] / "src"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and f"{db} is unchanged" in proc.stderr
    assert digest(db) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with VulnDB(db) as vdb:
        assert set(vdb.status().affected_by_ecosystem) == {"crates.io"}
