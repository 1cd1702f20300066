"""One policy, every stage: admission reports what ``cloudward scan`` reports, object by object.

Admission runs the scan rules without building full findings (``deploy.evaluate``),
so this compares the two on every object of the rule fixtures in tests/data/rules
(the pass and fail examples of every rule): for every rule scan runs, the same
JSON paths, messages and suppressions.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudward.core.rules import Target
from cloudward.core.settings import ScanSettings
from cloudward.deploy import default_policy, parse_review, review
from cloudward.develop import scan
from cloudward.testing import admission_review

from .conftest import ROOT

RULES_DATA = ROOT / "tests" / "data" / "rules"


def _objects() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(RULES_DATA.rglob("*.yaml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue  # fixtures of malformed input
        for i, doc in enumerate(docs):
            if isinstance(doc, dict) and isinstance(doc.get("kind"), str) and doc["kind"] != "List":
                out.append((f"{path.relative_to(RULES_DATA)}#{i}", doc))
    return out


def _suppressed() -> list[tuple[str, dict[str, Any]]]:
    """Objects whose inline annotations suppress (warned) findings: on the object, the pod template, one container."""
    container = {"name": "app", "image": "nginx:latest", "securityContext": {"privileged": True}}
    spec = {"containers": [container, {**container, "name": "side"}]}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop", "annotations": {
        "cloudward.io/ignore": "pod.image-*,pod.resources-*", "cloudward.io/ignore-reason": "demo"}}, "spec": spec}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "shop"},
           "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"},
                    "annotations": {"cloudward.io/ignore.side": "pod.run-as-non-root,pod.read-only-root-fs",
                                    "cloudward.io/ignore": "pod.liveness-probe"}}, "spec": spec}}}
    return [("inline/pod", pod), ("inline/deployment", dep)]


OBJECTS = _objects() + _suppressed()


def test_the_fixtures_cover_many_objects() -> None:
    assert len(OBJECTS) > 100


@pytest.mark.parametrize(("name", "obj"), OBJECTS, ids=[n for n, _ in OBJECTS])
def test_admission_reports_what_scan_reports(name: str, obj: dict[str, Any], tmp_path: Path) -> None:
    manifest = tmp_path / "object.json"
    manifest.write_text(json.dumps(obj))
    report = scan([str(manifest)], ScanSettings())
    per_object = {r.id for r in report.rules if r.target is Target.K8S_OBJECT}
    from_scan: dict[tuple[str, str | None, bool], set[str]] = {}
    for f in report.findings:
        if f.rule_id in per_object:
            from_scan.setdefault((f.rule_id, f.location.json_path, f.suppressed is not None), set()).add(f.message)
    ns = (obj.get("metadata") or {}).get("namespace") or ""
    decision = review(parse_review(json.dumps(admission_review(obj, namespace=ns))), default_policy(),
                      today=dt.date.today())
    assert decision.error is None
    # PSA's Baseline level at admission also runs the Baseline checks that scan's Restricted rules replace
    # (e.g. pod.seccomp-baseline besides pod.seccomp-restricted): compare the rules scan runs
    from_admission = {(r.rule_id, r.path, r.excepted is not None): r.message for r in decision.results
                      if r.rule_id in per_object}
    assert set(from_admission) == set(from_scan)
    # admission answers one violation per (rule, path); scan may word two for one path (two containers
    # inheriting one pod-level field): admission's message is one of them, verbatim
    for key, message in from_admission.items():
        assert message in from_scan[key], key
