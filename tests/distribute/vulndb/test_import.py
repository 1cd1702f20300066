"""``cloudward db import`` and ``db status`` on real advisory files, and what bad input does."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from cloudward.distribute.vulndb import SCHEMA_VERSION, VulnDB
from tests.distribute.match.kit import SAMPLE, need_shared, osv
from tests.distribute.vulndb.clikit import run


@pytest.fixture(autouse=True)
def _shared() -> None:
    need_shared()


def go_zip(target: Path, extra: dict[str, bytes] | None = None) -> Path:
    """An OSV-style all.zip (flat <ID>.json members) of the real Go sample records."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted((SAMPLE / "osv" / "go").glob("*.json")):
            zf.writestr(f.name, f.read_bytes())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return target


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_recognises_each_format_and_records_provenance(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "v.db"
    zip_path = go_zip(tmp_path / "all.zip")
    tracker = SAMPLE / "debian" / "fixtures" / "vunnel" / "debian.json"
    secdb = SAMPLE / "alpine" / "secdb-2020" / "v3.11" / "main.json"
    code = run(["db", "import", str(zip_path), str(SAMPLE / "osv" / "pypi"), str(tracker), str(secdb),
                "--db", str(db)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{zip_path}: OSV zip archive: 234 records imported" in out
    assert "osv/pypi: 122 × OSV JSON: 122 records imported" in out
    assert f"{tracker}: Debian security tracker JSON:" in out
    assert f"{secdb}: Alpine secdb JSON:" in out
    with VulnDB(db) as vdb:
        st = vdb.status()
    assert st.schema_version == SCHEMA_VERSION
    assert st.withdrawn == 2  # GO-2025-3543 and PYSEC-2022-43059 (grep -l withdrawn)
    by_loc = {Path(s.location).name: s for s in st.sources}
    assert by_loc["all.zip"].sha256 == digest(zip_path)
    assert by_loc["main.json"].sha256 == digest(secdb)
    assert by_loc["all.zip"].kind == "OSV zip archive" and by_loc["all.zip"].records == 234
    assert st.affected_by_ecosystem["PyPI"] == 122
    assert run(["db", "status", "--db", str(db), "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["advisories"] == st.advisories and status["schema_version"] == SCHEMA_VERSION


def test_schema_violations_are_skipped_with_a_warning_naming_file_and_id(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    good = json.loads((SAMPLE / "osv" / "go" / "GO-2021-0238.json").read_text())
    bad_time = dict(good, id="GO-2099-0001", modified="2023-07-24 14:58:05.562874+00:00")
    bad_event = json.loads(json.dumps(good))
    bad_event["id"] = "GO-2099-0002"
    bad_event["affected"][0]["ranges"][0]["events"].append({"patched": "1.0"})
    unknown = osv("x_demo-1", "Hex", "plug", [{"introduced": "0"}])
    zip_path = go_zip(tmp_path / "all.zip", {"GO-2099-0001.json": json.dumps(bad_time).encode(),
                                             "GO-2099-0002.json": json.dumps(bad_event).encode(),
                                             "x_demo-1.json": json.dumps(unknown).encode()})
    assert run(["db", "import", str(zip_path), "--db", str(tmp_path / "v.db")]) == 0
    err = capsys.readouterr().err
    assert f"{zip_path}:GO-2099-0001.json: GO-2099-0001: violates the OSV schema: field modified" in err
    assert "GO-2099-0002: violates the OSV schema: affected[0].ranges[0].events[2]: unknown event 'patched'" in err
    assert "ecosystem 'Hex' is not supported for matching; 1 affected entries skipped" in err
    with VulnDB(tmp_path / "v.db") as vdb:
        assert vdb.advisory("GO-2021-0238") is not None
        assert vdb.advisory("GO-2099-0001") is None and vdb.advisory("GO-2099-0002") is None


@pytest.mark.parametrize("damage", ["truncate", "garbage", "crc"])
def test_corrupt_zip_fails_and_leaves_the_database_intact(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          damage: str) -> None:
    db = tmp_path / "v.db"
    assert run(["db", "import", str(SAMPLE / "osv" / "crates.io"), "--db", str(db)]) == 0
    before = digest(db)
    bad = go_zip(tmp_path / "bad.zip")
    data = bad.read_bytes()
    if damage == "truncate":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        bad.write_bytes(b"PK\x03\x04" + b"\0" * 200)
    else:  # flip a byte inside the first member's compressed data: CRC or inflate error on read
        raw = bytearray(data)
        raw[60] ^= 0xFF
        bad.write_bytes(bytes(raw))
    capsys.readouterr()
    code = run(["db", "import", str(SAMPLE / "osv" / "pypi"), str(bad), "--db", str(db)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"cloudward: error: {bad}") and "zip" in err and "\n" not in err
    assert digest(db) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".v.db")] == []
    with VulnDB(db) as vdb:  # still usable, and without the PyPI records of the failed run
        assert "PyPI" not in vdb.status().affected_by_ecosystem


def test_zip_bomb_member_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("BOMB-1.json", b" " * (40 << 20))
    assert bomb.stat().st_size < 1 << 20
    assert run(["db", "import", str(bomb), "--db", str(tmp_path / "v.db")]) == 2
    assert "zip bomb" in capsys.readouterr().err
    assert not (tmp_path / "v.db").exists()


def test_unrecognised_and_invalid_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_osv = SAMPLE / "osv" / "distro-examples" / "CVE-2016-2176.alpine.json"  # a converter's intermediate form
    assert run(["db", "import", str(not_osv), "--db", str(tmp_path / "v.db")]) == 2
    assert "unrecognised format" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "X",\n "modified": }')
    assert run(["db", "import", str(broken), "--db", str(tmp_path / "v.db")]) == 2
    assert f"{broken}:2:" in capsys.readouterr().err
    assert run(["db", "import", str(tmp_path / "missing.json"), "--db", str(tmp_path / "v.db")]) == 2


def test_database_from_a_newer_schema_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "v.db"
    assert run(["db", "import", str(SAMPLE / "ghsa"), "--db", str(db)]) == 0
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = digest(db)
    capsys.readouterr()
    assert run(["db", "status", "--db", str(db)]) == 2
    assert f"schema version {SCHEMA_VERSION + 1} is newer" in capsys.readouterr().err
    assert run(["db", "import", str(SAMPLE / "osv" / "crates.io"), "--db", str(db)]) == 2
    assert digest(db) == before
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    assert run(["db", "status", "--db", str(tmp_path / "junk.db")]) == 2
    assert "not a cloudward vulnerability database" in capsys.readouterr().err


def test_unwritable_location_is_an_operational_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run(["db", "import", str(SAMPLE / "ghsa"), "--db", str(blocker / "v.db")]) == 3
    assert "cannot create a new database beside" in capsys.readouterr().err


def test_status_age_warning_and_require_fresh(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "v.db"
    assert run(["db", "import", str(SAMPLE / "ghsa"), "--db", str(db)]) == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '2020-01-01T00:00:00Z' WHERE key = 'updated_at'")
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert run(["db", "status", "--db", str(db)]) == 0
    assert "last updated" in capsys.readouterr().err
    assert run(["db", "status", "--db", str(db), "--require-fresh-db"]) == 2
    assert run(["db", "status", "--db", str(db), "--max-db-age", "100000"]) == 0


def test_reimport_keeps_the_newer_record(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    new = osv("PYSEC-1900-9", "PyPI", "demo", [{"introduced": "0"}, {"fixed": "2.0"}], modified="2024-06-01T00:00:00Z")
    old = osv("PYSEC-1900-9", "PyPI", "demo", [{"introduced": "0"}, {"fixed": "1.0"}], modified="2023-01-01T00:00:00Z")
    for i, rec in enumerate([new, old]):
        (tmp_path / f"{i}.json").write_text(json.dumps(rec))
        assert run(["db", "import", str(tmp_path / f"{i}.json"), "--db", str(db)]) == 0
    with VulnDB(db) as vdb:
        ((_, entry),) = vdb.candidates_by_name("PyPI", "", ["demo"])["demo"]
    assert entry.ranges[0].events[-1].version == "2.0"
    assert io  # keep the import for readers who extend these tests with in-memory zips


def _as_schema_1(db: Path) -> None:
    """Turn a database into the version-1 layout (no related/covers columns), as cloudward 1 wrote it."""
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE advisories DROP COLUMN related")
    conn.execute("ALTER TABLE advisories DROP COLUMN covers")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_database_from_an_older_schema_is_refused_by_scans_and_rebuilt_by_import(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "v.db"
    assert run(["db", "import", str(SAMPLE / "ghsa"), "--db", str(db)]) == 0
    _as_schema_1(db)
    capsys.readouterr()
    assert run(["db", "status", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "schema version 1 is older" in err and "cloudward db update" in err and "Traceback" not in err
    (tmp_path / "bom.json").write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}))
    assert run(["sbom", "scan", str(tmp_path / "bom.json"), "--db", str(db)]) == 2
    # the next import starts a new database in the current layout from its own input only
    assert run(["db", "import", str(SAMPLE / "osv" / "crates.io"), "--db", str(db)]) == 0
    assert "older database schema" in caplog.text
    with VulnDB(db) as v:
        status = v.status()
    assert status.schema_version == SCHEMA_VERSION == 2
    assert [Path(s.location).resolve() for s in status.sources] == [(SAMPLE / "osv" / "crates.io").resolve()]
    assert set(status.affected_by_ecosystem) == {"crates.io"}


def _limit_file_size() -> None:
    """In the child: files may not grow past 128 KiB; writing past it fails with EFBIG instead of a signal."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (128 << 10, 128 << 10))


def test_a_full_disk_during_import_leaves_the_previous_database(tmp_path: Path) -> None:
    """The file-size limit makes the kernel refuse writes mid-build, as a full disk does (EFBIG vs ENOSPC)."""
    import subprocess
    import sys

    db = tmp_path / "v.db"
    assert run(["db", "import", str(SAMPLE / "osv" / "crates.io"), "--db", str(db)]) == 0
    before = digest(db)
    assert db.stat().st_size < (128 << 10)
    big = go_zip(tmp_path / "go.zip")  # the Go sample grows the database to ~300 KiB
    proc = subprocess.run([sys.executable, "-m", "cloudward", "db", "import", str(big), "--db", str(db)],
                          capture_output=True, text=True, preexec_fn=_limit_file_size, timeout=120,
                          env={"PYTHONPATH": str(Path(__file__).resolve().parents[3] / "src"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 3, proc.stderr
    err = proc.stderr.strip().splitlines()[-1]
    assert "writing the vulnerability database failed" in err and f"{db} is unchanged" in err
    assert "Traceback" not in proc.stderr
    assert digest(db) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".v.db")] == []
    with VulnDB(db) as vdb:
        assert set(vdb.status().affected_by_ecosystem) == {"crates.io"}
