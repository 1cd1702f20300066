"""Vulnerability database benchmark: import rate and size for >=200k OSV records, match time and memory.

Run: PYTHONPATH=src .venv/bin/python bench/bench_vulndb.py [--records 200000]

The records are the real sample records in ../shared/vulndata-sample/osv (Go,
PyPI, crates.io) cloned under new ids and package names until the count is
reached, written as OSV-style per-ecosystem all.zip archives. The SBOM holds
1,000 packages drawn from those names at affected versions. Import and match run
as separate processes through the CLI, as a user runs them; wall time includes
interpreter start-up; peak memory is the child's max RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "vulndata-sample" / "osv"
RUNNER = ("import sys; from cloudward.cli import db_cmd, sbom_cmd; from cloudward.cli.main import _Parser;"
          "p=_Parser(prog='cloudward'); s=p.add_subparsers(dest='command'); db_cmd.add_parser(s); "
          "sbom_cmd.add_parser(s); a=p.parse_args(sys.argv[1:]); sys.exit(a.handler(a))")
PURL_TYPE = {"Go": "golang", "PyPI": "pypi", "crates.io": "cargo"}


def make_zips(out: Path, total: int) -> tuple[list[Path], list[tuple[str, str, str]]]:
    base = {eco: [json.loads(f.read_text()) for f in sorted(SAMPLE.joinpath(d).rglob("*.json"))]
            for eco, d in (("Go", "go"), ("PyPI", "pypi"), ("crates.io", "crates.io"))}
    per = total // len(base) + 1
    zips, picks = [], []
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
                    picks.append((eco, aff["package"]["name"], version))
        zips.append(path)
    return zips, picks[:1000]


def sbom(picks: list[tuple[str, str, str]], path: Path) -> None:
    comps = [{"type": "library", "name": n, "version": v, "purl": f"pkg:{PURL_TYPE[e]}/{n}@{v}"}
             for e, n, v in picks]
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": comps}))


def timed(argv: list[str]) -> tuple[float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", RUNNER, *argv], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if r.returncode not in (0, 1):
        raise SystemExit(f"failed ({r.returncode}): {r.stderr[-2000:]}")
    return wall, max(peak, before), r.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        zips, picks = make_zips(t, args.records)
        sbom(picks, t / "bom.json")
        db = t / "v.db"
        wall, rss, out = timed(["db", "import", *map(str, zips), "--db", str(db)])
        records = sum(int(line.split(": ")[-1].split()[0]) for line in out.splitlines() if "records imported" in line)
        print(f"import: {records} records in {wall:.1f} s = {records / wall:,.0f} records/s; "
              f"peak RSS {rss / 1024:.0f} MiB; DB size {db.stat().st_size / 1e6:.0f} MB")
        runs = []
        for _ in range(3):
            wall, rss, out = timed(["sbom", "scan", str(t / "bom.json"), "--db", str(db), "--format", "json"])
            runs.append(wall)
        found = len(json.loads(out)["findings"])
        print(f"match: {len(picks)}-package SBOM, {found} findings, best of 3 wall {min(runs):.2f} s "
              f"(target < 0.5 s); peak RSS {rss / 1024:.0f} MiB (target < 200 MB)")


if __name__ == "__main__":
    main()
