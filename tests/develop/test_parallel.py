"""Scanning in worker processes gives exactly the results of one process."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cloudward.core.config import parse_config
from cloudward.core.model import ProblemKind
from cloudward.core.settings import ScanSettings
from cloudward.develop import scan
from cloudward.develop.parallel import worker_count
from cloudward.develop.sources import Source, SourceKind

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{ns}
spec:
  template:
    metadata:
      labels: {{app: app-{i}}}
    spec:
      containers:
        - name: main
          image: nginx:1.{i}
          securityContext:
            privileged: {priv}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: shared
  namespace: team-{ns}
subjects:
  - kind: ServiceAccount
    name: default
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
"""


def _corpus(root: Path, files: int) -> None:
    for i in range(files):
        (root / f"m{i:03}.yaml").write_text(DEPLOY.format(i=i, ns=i % 3, priv="true" if i % 4 == 0 else "false"))
    (root / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: [\n")


def _summary(report: object) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], int, int]:
    findings = [(f.rule_id, f.location.file, f.location.line, f.location.json_path, f.message,
                 f.suppressed is not None) for f in report.findings]  # type: ignore[attr-defined]
    problems = sorted((p.kind.value, p.file or "", p.line or 0, p.message) for p in report.problems)  # type: ignore[attr-defined]
    return findings, problems, report.files_scanned, report.resources_scanned  # type: ignore[attr-defined]


def test_parallel_scan_equals_sequential_scan(tmp_path: Path) -> None:
    _corpus(tmp_path, 40)
    cfg = parse_config("exceptions:\n  - rule: pod.privileged\n    reason: old\n    expires: 2020-01-01\n", "c.yaml")
    today = dt.date(2026, 11, 29)
    one = scan([str(tmp_path)], ScanSettings(jobs=1, config=cfg), today=today)
    two = scan([str(tmp_path)], ScanSettings(jobs=2, config=cfg), today=today)
    assert _summary(one) == _summary(two)
    # cross-object rules saw objects from every worker: 40 RoleBindings named "shared" in 3 namespaces
    dups = [f for f in two.findings if f.rule_id == "k8s.duplicate-resource"]
    assert len(dups) == 37
    assert all("m000.yaml" in f.message or "m001.yaml" in f.message or "m002.yaml" in f.message for f in dups)
    # duplicates point at the later definitions' own lines, which workers had to remember without YAML nodes
    assert {f.location.line for f in dups} == {20}
    # the expired exception is reported once, not once per worker
    assert len(two.problems_of(ProblemKind.WARNING)) == 1
    assert len(two.problems_of(ProblemKind.INPUT)) == 1


def test_worker_count_stays_at_one_for_small_scans(tmp_path: Path) -> None:
    files = [Source(str(tmp_path / f"{i}.yaml"), tmp_path / f"{i}.yaml", SourceKind.MANIFEST) for i in range(3)]
    assert worker_count(0, files) == 1
    assert worker_count(2, files) == 2
    assert worker_count(8, files[:1]) == 1
