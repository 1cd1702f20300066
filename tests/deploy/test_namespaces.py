"""Namespace labels with Pod Security Admission's semantics, from a dump file and from watch events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudward.core.errors import InputError
from cloudward.core.model import PSSLevel
from cloudward.deploy import Mode, load_namespaces
from cloudward.deploy.namespaces import NamespaceStore, policy_for_labels
from cloudward.deploy.policy import PSSModePolicy, PSSPolicy

from .conftest import DATA

DEFAULTS = PSSPolicy(enforce=PSSModePolicy(PSSLevel.BASELINE))


def test_labels_override_defaults_per_mode() -> None:
    p = policy_for_labels({"pod-security.kubernetes.io/warn": "restricted",
                           "pod-security.kubernetes.io/warn-version": "v1.25"}, DEFAULTS)
    assert p.pss.enforce.display() == "baseline:latest"
    assert p.pss.warn.display() == "restricted:v1.25"
    assert p.pss.audit.level is PSSLevel.PRIVILEGED and not p.errors


def test_invalid_labels_like_psa() -> None:
    p = policy_for_labels({"pod-security.kubernetes.io/enforce": "strict",
                           "pod-security.kubernetes.io/warn": "loud",
                           "pod-security.kubernetes.io/audit-version": "1.25",
                           "cloudward.io/rules-mode": "enforce"}, DEFAULTS)
    assert p.pss.enforce.level is PSSLevel.RESTRICTED  # enforce fails closed
    assert p.pss.warn.level is PSSLevel.PRIVILEGED  # warn and audit fail open
    assert str(p.pss.audit.version) == "latest"
    assert len(p.errors) == 3 and p.rules_mode is Mode.ENFORCE


def test_kubectl_dump_file() -> None:
    store = load_namespaces(DATA / "namespaces.yaml")
    assert store.names() == ["default", "legacy", "prod", "typo"]
    assert store.labels("prod") == {"kubernetes.io/metadata.name": "prod",
                                    "pod-security.kubernetes.io/enforce": "restricted",
                                    "pod-security.kubernetes.io/enforce-version": "latest"}
    assert store.labels("nope") is None


def test_dump_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "ns.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n")
    with pytest.raises(InputError, match="expected Namespace objects, found kind Pod"):
        load_namespaces(bad)
    with pytest.raises(InputError, match="cannot read namespaces file"):
        load_namespaces(tmp_path / "missing.yaml")


def test_recorded_watch_events_update_the_cache() -> None:
    store = load_namespaces(DATA / "namespaces.yaml")
    events = [json.loads(line) for line in (DATA / "namespace-watch.jsonl").read_text().splitlines()]
    results = [store.apply_event(e) for e in events]
    assert results == [True, True, True, True, False]  # the 410 ERROR asks for a relist
    assert store.labels("team-a") == {"kubernetes.io/metadata.name": "team-a",
                                      "pod-security.kubernetes.io/enforce": "restricted"}
    assert store.labels("legacy") is None
    assert store.resource_version == "5120"


def test_store_is_not_ready_until_listed() -> None:
    store = NamespaceStore(synced=False)
    assert not store.synced
    store.replace_all([{"metadata": {"name": "a", "labels": {"x": "y"}}}], "7")
    assert store.synced and store.labels("a") == {"x": "y"} and store.resource_version == "7"


def test_serve_without_cluster_access_says_what_to_do(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import RUNNER, cli_env, write_tls

    tls = write_tls(tmp_path)
    env = {**cli_env(), "KUBECONFIG": str(tmp_path / "missing-kubeconfig"), "HOME": str(tmp_path)}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    r = subprocess.run([sys.executable, str(RUNNER), "admission", "serve", "--port", "0", "--host", "127.0.0.1",
                        "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)], capture_output=True, env=env,
                       timeout=60)
    assert r.returncode == 3
    assert "--namespaces FILE" in r.stderr.decode() and "Traceback" not in r.stderr.decode()
