"""Audit detection throughput (events/s, one core) vs the parse-only floor, and memory under --follow.

    PYTHONPATH=src .venv/bin/python bench/bench_detect.py [--events 60000] [--follow-events 180000]

Generates a realistic mix of audit.k8s.io/v1 events (reads, writes, exec, secrets, RBAC changes;
1-5 KB each), then times, on one pinned core: parsing alone (the floor), the built-in pack,
Falco's k8s_audit_rules.yaml (from ../shared when present), and the built-in pack evaluated
naively (every rule on every event, no index). Finally it follows a log while an hour-equivalent
of events is appended and reports traced memory at intervals.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

from cloudward.runtime import detect, detect_files, load_rules_args, load_ruleset
from cloudward.runtime.events.audit_file import read_audit_file
from cloudward.runtime.events.builder import audit_event, pod
from cloudward.runtime.events.follow import follow_audit_log
from cloudward.runtime.live import policy_run
from cloudward.runtime.policy import AlertException, DetectPolicy

ROOT = Path(__file__).resolve().parents[1]
FALCO = ROOT.parent / "shared" / "falco-rules" / "k8s_audit_rules.yaml"
USERS = ["alice", "bob", "system:serviceaccount:shop:web", "system:node:node-1", "system:kube-controller-manager",
         "system:serviceaccount:kube-system:replicaset-controller", "ci-bot", "system:kube-scheduler"]


def _labels(rng: random.Random) -> dict[str, str]:
    return {f"app.kubernetes.io/{k}": f"{k}-{rng.randint(0, 999)}" for k in ("name", "instance", "version", "part-of")}


def make_event(rng: random.Random, i: int) -> dict[str, Any]:
    t = f"2026-11-29T10:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000000:06d}Z"
    user = rng.choice(USERS)
    r = rng.random()
    ns = rng.choice(["shop", "default", "kube-system", "monitoring"])
    if r < 0.45:  # reads
        verb, res = rng.choice([("get", "pods"), ("list", "pods"), ("watch", "configmaps"), ("get", "nodes"),
                                ("list", "services"), ("get", "leases")])
        ev = audit_event(verb, res, user=user, namespace=ns, name=f"o{i}", time=t)
        ev["responseObject"] = {"metadata": {"name": f"o{i}", "labels": _labels(rng),
                                             "annotations": {"note": "x" * rng.randint(300, 2500)}}}
        return ev
    if r < 0.70:  # pod creates with full specs
        spec: dict[str, Any] = {"volumes": [{"name": "data", "emptyDir": {}}]}
        if rng.random() < 0.05:
            spec["hostNetwork"] = True
        c = {"image": f"registry.example.com/shop/app:{rng.randint(1, 99)}", "env": [
            {"name": f"VAR_{k}", "value": "v" * rng.randint(10, 80)} for k in range(rng.randint(5, 30))],
            "securityContext": {"privileged": rng.random() < 0.03, "runAsNonRoot": True}}
        ro = pod(c, {"image": "busybox:1.36"}, name=f"web-{i}", **spec)
        ro["metadata"]["labels"] = _labels(rng)
        return audit_event("create", "pods", user=user, namespace=ns, name=f"web-{i}", time=t, request_object=ro)
    if r < 0.80:  # workload updates
        return audit_event(rng.choice(["update", "patch"]), rng.choice(["deployments", "statefulsets"]), user=user,
                           namespace=ns, name=f"d{i}", time=t,
                           request_object={"metadata": {"name": f"d{i}", "labels": _labels(rng)},
                                           "spec": {"replicas": 3, "template": {"metadata": {"labels": _labels(rng)}}},
                                           "x": "y" * rng.randint(500, 3000)})
    if r < 0.86:  # exec / port-forward
        return audit_event("create", "pods", user=user, namespace=ns, name=f"web-{i}", stage="ResponseStarted",
                           subresource=rng.choice(["exec", "exec", "portforward", "attach"]), time=t,
                           query="command=sh&container=app&stdin=true&tty=true")
    if r < 0.94:  # secrets
        return audit_event(rng.choice(["get", "list", "create"]), "secrets", user=user, namespace=ns,
                           name=f"s{i}", time=t, code=rng.choice([200, 200, 403]))
    role = {"metadata": {"name": f"r{i}"}, "rules": [
        {"apiGroups": [""], "resources": rng.sample(["pods", "secrets", "pods/exec", "configmaps", "*"], 2),
         "verbs": rng.sample(["get", "list", "create", "escalate", "*"], 2)}]}
    binding = {"metadata": {"name": f"b{i}"}, "roleRef": {"kind": "ClusterRole",
               "name": rng.choice(["view", "edit", "cluster-admin"])}, "subjects": [{"kind": "User", "name": "x"}]}
    kind = rng.choice(["roles", "clusterroles", "rolebindings", "clusterrolebindings"])
    return audit_event("create", kind, user=user, namespace=None if kind.startswith("cluster") else ns, name=f"r{i}",
                       time=t, request_object=role if "roles" in kind and "binding" not in kind else binding)


def write_corpus(path: Path, n: int, seed: int = 7) -> float:
    rng = random.Random(seed)
    total = 0
    with open(path, "w") as fh:
        for i in range(n):
            line = json.dumps(make_event(rng, i), separators=(",", ":"))
            total += len(line)
            fh.write(line + "\n")
    return total / n


def time_parse(path: Path) -> float:
    t0 = time.perf_counter()
    n = sum(1 for _ in read_audit_file(path, lambda p: None))
    return n / (time.perf_counter() - t0)


def time_detect(path: Path, ruleset: Any) -> tuple[float, int]:
    t0 = time.perf_counter()
    alerts = sum(1 for _ in detect(read_audit_file(path, lambda p: None), ruleset))
    with open(path, "rb") as fh:
        n = sum(1 for _ in fh)
    return n / (time.perf_counter() - t0), alerts


#: a realistic tuning: a few .cloudward.yaml exceptions, plus the built-in 403-burst threshold
POLICY = DetectPolicy(exceptions=tuple(
    AlertException((rule,), "bench", (("user", user),)) for rule, user in
    (("Exec Into Pod", "user-1"), ("Secrets Enumeration*", "system:serviceaccount:*"), ("*", "ci-bot"))))


def time_pipeline(path: Path, ruleset: Any) -> tuple[float, int, int]:
    """Detection, then exceptions and threshold (burst) rules, streaming as ``--follow``/``serve`` run it.

    (``detect_files`` also keeps every alert, with its event, for the report: with tens of
    thousands of alerts the garbage collector's passes over them cost more than the policy.)
    """
    run = policy_run(POLICY, ruleset)
    t0 = time.perf_counter()
    n = alerts = bursts = 0
    for a in detect(_count_into(read_audit_file(path, lambda p: None)), ruleset):
        for out in run.live(a):
            alerts += 1
            bursts += out.rule.startswith("Burst")
    for out in run.close():
        alerts += 1
        bursts += out.rule.startswith("Burst")
    n = _COUNTED[0]
    return n / (time.perf_counter() - t0), alerts, bursts


_COUNTED = [0]


def _count_into(it: Any) -> Any:
    _COUNTED[0] = 0
    for x in it:
        _COUNTED[0] += 1
        yield x


def time_report(path: Path, ruleset: Any) -> float:
    """``detect_files`` as ``detect audit`` runs it: the whole report (every alert and its event) in memory."""
    t0 = time.perf_counter()
    report = detect_files([path], ruleset, policy=POLICY)
    return report.events / (time.perf_counter() - t0)


def time_naive(path: Path, ruleset: Any) -> float:
    rules = ruleset.rules
    t0 = time.perf_counter()
    n = 0
    for rec in read_audit_file(path, lambda p: None):
        n += 1
        for r in rules:
            if r.match(rec.event):
                r.output.render(rec.event)
    return n / (time.perf_counter() - t0)


def follow_memory(n: int, ruleset: Any) -> list[tuple[int, float]]:
    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "audit.log"
        log.write_text("")
        stop = threading.Event()
        rng = random.Random(11)
        lines = [json.dumps(make_event(rng, i), separators=(",", ":")) + "\n" for i in range(2000)]

        def writer() -> None:
            with open(log, "a") as fh:
                for i in range(n):
                    fh.write(lines[i % len(lines)])
                    if i % 1000 == 0:
                        fh.flush()

        tracemalloc.start()
        threading.Thread(target=writer, daemon=True).start()
        samples: list[tuple[int, float]] = []
        for _ in detect(_counting(follow_audit_log(log, stop, lambda p: None, poll=0.01), n, stop,
                                  samples), ruleset):
            pass
        tracemalloc.stop()
        return samples


def _counting(events: Any, n: int, stop: threading.Event, samples: list[tuple[int, float]]) -> Any:
    for i, ev in enumerate(events, 1):
        yield ev
        if i % (n // 6) == 0:
            samples.append((i, tracemalloc.get_traced_memory()[0] / 1e6))
        if i >= n:
            stop.set()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=60000)
    ap.add_argument("--follow-events", type=int, default=180000, help="an hour at 50 events/s")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    builtin = load_rules_args([])
    falco = load_ruleset([FALCO]) if FALCO.is_file() else None
    with tempfile.TemporaryDirectory() as d:
        corpus = Path(d) / "audit.log"
        avg = write_corpus(corpus, args.events)
        print(f"corpus: {args.events} events, mean {avg / 1024:.1f} KiB/event, python {sys.version.split()[0]}, 1 core")
        time_parse(corpus)  # warm the page cache
        floor = max(time_parse(corpus) for _ in range(3))
        print(f"parse-only floor              {floor:>10,.0f} events/s")
        rate, alerts = max(time_detect(corpus, builtin) for _ in range(3))
        print(f"built-in pack ({len(builtin.rules)} rules)      {rate:>10,.0f} events/s  "
              f"{rate / floor:6.1%} of floor  ({alerts} alerts)")
        prate, palerts, bursts = max(time_pipeline(corpus, builtin) for _ in range(3))
        print(f"  + exceptions and thresholds {prate:>10,.0f} events/s  {prate / floor:6.1%} of floor  "
              f"({palerts} alerts, {bursts} bursts; streaming)")
        rrate = max(time_report(corpus, builtin) for _ in range(3))
        print(f"  + report in memory (audit)  {rrate:>10,.0f} events/s  {rrate / floor:6.1%} of floor  "
              "(detect_files keeps every alert for the report)")
        if falco is not None:
            frate, falerts = max(time_detect(corpus, falco) for _ in range(3))
            print(f"Falco k8s_audit_rules ({len(falco.rules)})   {frate:>10,.0f} events/s  "
                  f"{frate / floor:6.1%} of floor  ({falerts} alerts)")
        naive = time_naive(corpus, builtin)
        print(f"built-in, no index (naive)    {naive:>10,.0f} events/s  {naive / floor:6.1%} of floor")
    samples = follow_memory(args.follow_events, builtin)
    print(f"--follow memory (traced Python heap) over {args.follow_events} events: "
          + ", ".join(f"{n}: {mb:.2f} MB" for n, mb in samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
