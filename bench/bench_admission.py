"""Load-test the admission webhook on loopback over TLS with keep-alive, as the API server calls it.

Starts the real server (``cloudward admission serve``) with 1 and then 2 worker
processes, sends realistic Deployment and Pod AdmissionReviews from client
processes that each keep one TLS connection open, and prints throughput,
latency percentiles (p50/p99/p99.9) and the server's memory. Two load shapes:

- ``rate``: a fixed request rate (default 500/s) spread over the clients;
  latency is measured from each request's scheduled send time, so a stalled
  server cannot hide its queueing (no coordinated omission);
- ``saturate``: every client sends as fast as it gets answers.

It also runs the floor: the same requests with every rule disabled
(``rules.enable_only: []``), i.e. decoding and answering an AdmissionReview.

The load generator competes with the server for CPUs, so both are pinned
(``sched_setaffinity``): by default the server (and the workers it forks) gets
every CPU but the last, the client processes get the last one. On a 2-CPU
machine that means both workers share CPU 0 — right for the latency target at a
fixed rate, which needs a fraction of a core, but not for saturated
throughput, which ``--server-cpus all --client-cpus all`` measures (contended).
Each measurement runs ``--runs`` times (default 3) and the median is printed,
with the spread of p99 and the load average before each run.

    PYTHONPATH=src .venv/bin/python bench/bench_admission.py [--seconds 10] [--rate 500] [--clients 4] [--runs 3]

Everything stays on 127.0.0.1 and every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tests" / "deploy" / "clirunner.py"  # `cloudward admission` until main.py registers it


def reviews() -> list[bytes]:
    from cloudward.testing import admission_review

    dep = json.loads((ROOT / "tests" / "data" / "admission" / "replicaset-update-argocd.json").read_text())
    pod = json.loads((ROOT / "tests" / "data" / "admission" / "pod-create-kubectl.json").read_text())
    template = dep["request"]["object"]["spec"]["template"]
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "shop-web", "namespace": "shop", "labels": {"app": "web"}},
                  "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template}}
    bodies = [json.dumps(admission_review(deployment)).encode(), json.dumps(pod).encode(),
              json.dumps(dep).encode()]
    out = []
    for body in bodies:
        out.append(b"POST /validate?timeout=10s HTTP/1.1\r\nHost: cloudward-admission.cloudward.svc:443\r\n"
                   b"Content-Type: application/json\r\nAccept: application/json\r\n"
                   + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return out


def _read_response(s: ssl.SSLSocket, buf: bytearray) -> None:
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head[:200].decode())
    length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(
        b"content-length")))
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        rest += chunk
    buf[:] = rest[length:]


def client(port: int, ca: str, requests: list[bytes], mode: str, rate: float, seconds: float,
           out: Any, cpus: set[int] | None = None) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    buf = bytearray()
    lat: list[float] = []
    start = time.perf_counter()
    end = start + seconds
    i = 0
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        if mode == "rate":
            scheduled = start + i / rate
            if scheduled >= end:
                break
            if scheduled > now:
                time.sleep(scheduled - now)
        else:
            scheduled = now
        s.sendall(requests[i % len(requests)])
        _read_response(s, buf)
        lat.append(time.perf_counter() - scheduled)
        i += 1
    s.close()
    out.put(lat)


def rss_mb(pid: int) -> list[float]:
    """RSS of the server process and its worker children, in MiB."""
    pids = [pid] + [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == pid]
    out = []
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        except OSError:
            pass
    return out


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def start_server(workers: int, tmp: Path, config: Path | None,
                 cpus: set[int] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    args = [sys.executable, str(RUNNER), "admission", "serve", "--host", "127.0.0.1", "--port", "0",
            "--tls-cert", str(tmp / "tls.crt"), "--tls-key", str(tmp / "tls.key"), "--workers", str(workers),
            "--namespaces", "none"]
    if config is not None:
        args += ["--config", str(config)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None  # inherited by the forked workers
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, env=env, cwd=tmp, start_new_session=True,
                            preexec_fn=pin)
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()
    if "serving https://" not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {line}")
    return proc, int(line.rsplit(":", 1)[1].split()[0])


def run(workers: int, mode: str, tmp: Path, config: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    proc, port = start_server(workers, tmp, config, args.server_cpu_set)
    try:
        reqs = reviews()
        # warm up: every worker imports its rules and sees each request shape
        warm = mp.Queue()  # type: ignore[var-annotated]
        client(port, str(tmp / "ca.pem"), reqs, "saturate", 0, 1.0, warm)  # in this (unpinned) process
        warm.get()
        q: Any = mp.Queue()
        per_client_rate = args.rate / args.clients
        procs = [mp.Process(target=client, args=(port, str(tmp / "ca.pem"), reqs, mode, per_client_rate,
                                                 args.seconds, q, args.client_cpu_set)) for _ in range(args.clients)]
        t0 = time.perf_counter()
        for p in procs:
            p.start()
        lat: list[float] = []
        for _ in procs:
            lat += q.get(timeout=args.seconds + 60)
        elapsed = time.perf_counter() - t0
        for p in procs:
            p.join(30)
        memory = rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        if proc.stderr:
            proc.stderr.close()
    lat.sort()

    def pct(q_: float) -> float:
        return lat[min(len(lat) - 1, int(q_ * len(lat)))] * 1000

    return {"workers": workers, "mode": mode, "requests": len(lat), "throughput": len(lat) / elapsed,
            "p50": pct(0.50), "p99": pct(0.99), "p999": pct(0.999), "max": lat[-1] * 1000,
            "rss": memory}


def cpu_sets(args: argparse.Namespace) -> None:
    """Server and client CPU sets from --server-cpus/--client-cpus ("all", "auto" or a list like 0,1)."""
    available = sorted(os.sched_getaffinity(0))

    def parse(text: str, auto: list[int]) -> set[int] | None:
        if text == "all":
            return None
        if text == "auto":
            return set(auto) if len(available) > 1 else None
        return {int(c) for c in text.split(",")}

    args.server_cpu_set = parse(args.server_cpus, available[:-1])
    args.client_cpu_set = parse(args.client_cpus, available[-1:])


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = {k: statistics.median(r[k] for r in runs) for k in ("throughput", "p50", "p99", "p999", "max")}
    out.update(workers=runs[0]["workers"], mode=runs[0]["mode"], requests=int(statistics.median(
        r["requests"] for r in runs)), rss=runs[-1]["rss"], p99_all=[r["p99"] for r in runs])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=500.0, help="total requests/s in rate mode")
    parser.add_argument("--clients", type=int, default=4, help="client processes, one keep-alive connection each")
    parser.add_argument("--runs", type=int, default=3, help="repeat each measurement; the median is printed")
    parser.add_argument("--server-cpus", default="auto", help="CPUs for the server: auto (all but the last), all, "
                        "or a list such as 0 or 0,1")
    parser.add_argument("--client-cpus", default="auto", help="CPUs for the load generator: auto (the last), all, "
                        "or a list")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure (default: 1,2)")
    parser.add_argument("--modes", default="rate,saturate", help="load shapes (default: rate,saturate)")
    parser.add_argument("--rules", default="all,none", help="all (default policy) and/or none (the floor)")
    args = parser.parse_args()
    cpu_sets(args)
    from cloudward.deploy.certs import make_ca, make_serving_cert

    print(f"CPUs: server {sorted(args.server_cpu_set) if args.server_cpu_set else 'all'}, "
          f"clients {sorted(args.client_cpu_set) if args.client_cpu_set else 'all'}; {args.runs} runs of "
          f"{args.seconds:g} s each, median shown", flush=True)
    with tempfile.TemporaryDirectory(prefix="cloudward-bench-") as d:
        tmp = Path(d)
        ca = make_ca()
        serving = make_serving_cert(ca, ["localhost"], ["127.0.0.1"])
        (tmp / "ca.pem").write_bytes(ca.cert_pem)
        (tmp / "tls.crt").write_bytes(serving.cert_pem)
        (tmp / "tls.key").write_bytes(serving.key_pem)
        floor = tmp / "floor.yaml"
        floor.write_text("rules:\n  enable_only: []\n")
        print(f"{'rules':<6} {'workers':>7} {'mode':<9} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'p99.9 ms':>8} {'max ms':>7}  {'p99 of each run':<22} {'load1 before runs':<18} RSS MiB")
        results = []
        for label in args.rules.split(","):
            config = None if label == "all" else floor
            for workers in (int(w) for w in args.workers.split(",")):
                for mode in args.modes.split(","):
                    runs, loads = [], []
                    for _ in range(args.runs):
                        loads.append(os.getloadavg()[0])
                        runs.append(run(workers, mode, tmp, config, args))
                    r = median_run(runs)
                    results.append((label, r))
                    rss = ", ".join(f"{m:.0f}" for m in r["rss"])
                    each = "/".join(f"{p:.2f}" for p in r["p99_all"])
                    load = "/".join(f"{x:.2f}" for x in loads)
                    print(f"{label:<6} {workers:>7} {mode:<9} {r['requests']:>8} {r['throughput']:>7.0f} "
                          f"{r['p50']:>7.2f} {r['p99']:>7.2f} {r['p999']:>8.2f} {r['max']:>7.1f}  {each:<22} "
                          f"{load:<18} {rss}", flush=True)
        sat = {(lab, r["workers"]): r["throughput"] for lab, r in results if r["mode"] == "saturate"}
        if ("all", 1) in sat and ("none", 1) in sat:
            print(f"\nrules' share of saturated cost, 1 worker: {1 - sat[('all', 1)] / sat[('none', 1)]:.0%} "
                  f"(floor {sat[('none', 1)]:.0f} req/s vs {sat[('all', 1)]:.0f} with all rules)")
        if ("all", 1) in sat and ("all", 2) in sat:
            print(f"2 workers / 1 worker saturated throughput: {sat[('all', 2)] / sat[('all', 1)]:.2f}x")


if __name__ == "__main__":
    main()
