"""Vulnerability database benchmark: import rate and size for >=200k OSV records, match time and memory.

Run: PYTHONPATH=src .venv/bin/python bench/bench_vulndb.py [--records 200000]

The records are the real sample records in ../shared/vulndata-sample/osv (Go,
PyPI, crates.io) cloned under new ids and package names until the count is
reached, written as OSV-style per-ecosystem all.zip archives. The worst-case SBOM
holds 1,000 distinct packages drawn from those names at affected versions
(~15 vulnerabilities each). The realistic SBOM is the old Debian bookworm rootfs of
../shared/test-images (its dpkg status, 88 packages) matched against the same
database plus the Debian fixes of ../shared/vulndata-sample written as the Debian
tracker's JSON export. Every step is a fresh ``python -m cloudward`` process, as a
user runs it: wall time includes interpreter start-up; peak memory is the
child's max RSS.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "vulndata-sample" / "osv"
OLD_ROOTFS = ROOT.parent / "shared" / "test-images" / "rootfs-fixtures" / "debian-bookworm-minbase-old"
FIXES = ROOT.parent / "shared" / "vulndata-sample" / "debian" / "bookworm-changelog-derived" / "fixes.tsv"
PURL_TYPE = {"Go": "golang", "PyPI": "pypi", "crates.io": "cargo"}


def make_zips(out: Path, total: int) -> tuple[list[Path], list[tuple[str, str, str]]]:
    base = {eco: [json.loads(f.read_text()) for f in sorted(SAMPLE.joinpath(d).rglob("*.json"))]
            for eco, d in (("Go", "go"), ("PyPI", "pypi"), ("crates.io", "crates.io"))}
    per = total // len(base) + 1
    zips, picks = [], []
    seen: set[tuple[str, str, str]] = set()
    for eco, recs in base.items():
        path = out / f"{eco}-all.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for i in range(per):
                rec = json.loads(json.dumps(recs[i % len(recs)]))
                rec["id"] = f"{rec['id']}-{i}"
                rec["aliases"] = [f"{al}-{i}" for al in rec.get("aliases", [])]  # one vulnerability per clone
                for aff in rec.get("affected", []):
                    if "package" in aff:
                        aff["package"]["name"] = f"{aff['package']['name']}-{i // len(recs)}"
                zf.writestr(f"{rec['id']}.json", json.dumps(rec))
                aff = next((a for a in rec.get("affected", []) if a.get("ranges")), None)
                if aff and len(picks) < 1000 * (1 + list(base).index(eco)) // len(base) + 1:
                    ev = aff["ranges"][-1]["events"]
                    intro = next((e["introduced"] for e in ev if "introduced" in e), "0")
                    version = intro if intro not in ("0", "0.0.0-0") else "0.0.1"
                    pick = (eco, aff["package"]["name"], version)
                    if pick not in seen:  # distinct packages: the matcher shares work between equal ones
                        seen.add(pick)
                        picks.append(pick)
        zips.append(path)
    return zips, picks[:1000]


def sbom(picks: list[tuple[str, str, str]], path: Path) -> None:
    comps = [{"type": "library", "name": n, "version": v, "purl": f"pkg:{PURL_TYPE[e]}/{n}@{v}"}
             for e, n, v in picks]
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": comps}))


def timed(argv: list[str]) -> tuple[float, int, str]:
    """Run ``python -m cloudward ARGV``: (wall seconds, the child's own peak RSS in KiB, stdout).

    The peak comes from GNU time (``%M``) when it is installed: Linux carries a parent's
    high-water mark into a forked child, so ``wait4`` on a child of this (large) bench
    process over-reports; ``time`` is a small parent.
    """
    gnu_time = shutil.which("time") if Path("/usr/bin/time").exists() else None
    prefix = ["/usr/bin/time", "-f", "%M"] if gnu_time else []
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([*prefix, sys.executable, "-m", "cloudward", *argv], stdout=out, stderr=err,
                                env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if gnu_time:
        lines = errors.strip().splitlines()
        peak = int(lines[-1])
        code = int(lines[-2].rsplit(" ", 1)[-1]) if len(lines) > 1 and "exited with non-zero status" in lines[-2] else 0
    else:
        peak = usage.ru_maxrss
    if code not in (0, 1):
        raise SystemExit(f"failed ({code}): {errors[-2000:]}")
    return wall, peak, text


def debian_inputs(out: Path) -> tuple[Path, Path, int]:
    """The Debian tracker JSON of the sample's fixes (lowest fixed version per CVE) and the rootfs SBOM."""
    sys.path.insert(0, str(ROOT / "src"))
    from cloudward.distribute.versions import dpkg

    lowest: dict[tuple[str, str], tuple[str, str]] = {}
    with open(FIXES, encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            for cve in row["cves"].split():
                old = lowest.get((row["source"], cve))
                if old is None or dpkg.compare(row["fixed_version"], old[0]) < 0:
                    lowest[(row["source"], cve)] = (row["fixed_version"], row["urgency"])
    tracker: dict[str, dict[str, object]] = {}
    for (source, cve), (fixed, urgency) in lowest.items():
        tracker.setdefault(source, {})[cve] = {"releases": {"bookworm": {
            "status": "resolved", "fixed_version": fixed, "urgency": urgency}}}
    (out / "tracker.json").write_text(json.dumps(tracker))
    comps = []
    for para in (OLD_ROOTFS / "var/lib/dpkg/status").read_text().split("\n\n"):
        f = dict(line.split(": ", 1) for line in para.splitlines() if ": " in line and not line.startswith(" "))
        if "installed" not in f.get("Status", ""):
            continue
        src, _, src_version = f.get("Source", f["Package"]).partition(" ")
        comps.append({"type": "library", "name": f["Package"], "version": f["Version"],
                      "purl": f"pkg:deb/debian/{f['Package']}@{f['Version']}?distro=debian-12&upstream={src}",
                      "properties": [{"name": "cloudward:source:version",
                                      "value": src_version.strip("()") or f["Version"]}]})
    (out / "debian.cdx.json").write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6",
                                                     "components": comps}))
    return out / "tracker.json", out / "debian.cdx.json", len(comps)


def scan(label: str, bom: Path, db: Path, packages: int) -> None:
    runs, peak = [], 0
    for _ in range(5):
        wall, rss, out = timed(["sbom", "scan", str(bom), "--db", str(db), "--format", "json"])
        runs.append(wall)
        peak = max(peak, rss)
    found = len(json.loads(out)["findings"])
    print(f"match ({label}): {packages}-package SBOM, {found} findings, best of 5 wall {min(runs):.2f} s, "
          f"median {statistics.median(runs):.2f} s (target < 0.5 s); peak RSS {peak / 1024:.0f} MiB "
          "(target < 200 MB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        zips, picks = make_zips(t, args.records)
        sbom(picks, t / "bom.json")
        tracker, debian_bom, debian_packages = debian_inputs(t)
        db = t / "v.db"
        wall, rss, out = timed(["db", "import", *map(str, zips), "--db", str(db)])
        records = sum(int(line.split(": ")[-1].split()[0]) for line in out.splitlines() if "records imported" in line)
        print(f"import: {records} records in {wall:.1f} s = {records / wall:,.0f} records/s; "
              f"peak RSS {rss / 1024:.0f} MiB; DB size {db.stat().st_size / 1e6:.0f} MB")
        timed(["db", "import", str(tracker), "--db", str(db)])
        scan("worst case", t / "bom.json", db, len(picks))
        scan("Debian rootfs", debian_bom, db, debian_packages)


if __name__ == "__main__":
    main()
