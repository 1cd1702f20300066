"""Falco's own published k8s audit rules load unchanged and mean on real events what Falco's conditions say."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from cloudward.runtime import detect_files, load_ruleset
from cloudward.runtime.builtin import builtin_rules_text
from tests.runtime.conftest import SHARED, TRACE

# Hand-derived from ../shared/falco-rules/k8s_audit_rules.yaml, event by event (see ORIGIN.md): e.g. the
# anonymous namespace create is kevt + user system:anonymous + decision allow (Anonymous Request Allowed),
# a namespace outside allowed_namespaces (Create Disallowed Namespace), and a 201 create (K8s Namespace Created).
EXPECTED = {
    "exec_pod.json": [(1, "Attach/Exec Pod")],
    "attach_cluster_admin_role.json": [(1, "Attach to cluster-admin Role"), (1, "K8s ClusterRoleBinding Created")],
    "create_nginx_pod_privileged.json": [(1, "Create Privileged Pod")],
    "create_nginx_pod_sensitive_mount_2nd_container.json": [(1, "Create Sensitive Mount Pod")],
    "create_cluster_role_wildcard_verbs.json": [(1, "ClusterRole With Wildcard Created"),
                                                (1, "K8s ClusterRole Created")],
    "anonymous_creates_namespace_foo.json": [(1, "Anonymous Request Allowed"), (1, "Create Disallowed Namespace"),
                                             (1, "K8s Namespace Created")],
    "create_configmap_sensitive_values.json": [(1, "Create/Modify Configmap With Private Credentials"),
                                               (1, "K8s ConfigMap Created"),
                                               (2, "Create/Modify Configmap With Private Credentials"),
                                               (2, "K8s ConfigMap Created")],
    "create_secret.json": [(1, "K8s Secret Created")],
    "fal_01_003.json": [],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_falco_rules_on_real_events(falco_k8s_rules: Path, name: str) -> None:
    rs = load_ruleset([falco_k8s_rules])
    report = detect_files([TRACE / name], rs)
    assert [(a.line, a.rule) for a in report.alerts] == EXPECTED[name]
    assert all(a.source == "k8s_audit" for a in report.alerts)


def test_falco_output_is_rendered_like_falco(falco_k8s_rules: Path) -> None:
    rs = load_ruleset([falco_k8s_rules])
    [exec_alert] = detect_files([TRACE / "exec_pod.json"], rs).alerts
    assert exec_alert.output == ("Attach/Exec to pod (user=minikube-user pod=nginx-deployment-7998647bdf-phvq7 "
                                 "resource=pods ns=default action=exec command=bash)")
    [mount] = detect_files([TRACE / "create_nginx_pod_sensitive_mount_2nd_container.json"], rs).alerts
    assert "images=(nginx,mysql:latest)" in mount.output
    assert 'volumes=[{"hostPath":{"path":"/etc","type":""},"name":"etc"}]' in mount.output
    [priv] = detect_files([TRACE / "create_nginx_pod_privileged.json"], rs).alerts
    assert "init_images=<NA>" in priv.output
    assert priv.priority.value == "Warning"


def test_bad_real_event_is_reported_with_file_and_line(falco_k8s_rules: Path) -> None:
    report = detect_files([TRACE / "fal_01_003.json"], load_ruleset([falco_k8s_rules]))
    assert [(p.line, "kind 0" in p.message) for p in report.problems] == [(1, True)]


def test_syscall_rules_load_next_to_audit_rules_and_are_kept(falco_k8s_rules: Path, falco_syscall_rules: Path) -> None:
    rs = load_ruleset([falco_syscall_rules, falco_k8s_rules])
    syscall = [r for r in rs.definitions.rules if r.source == "syscall"]
    assert len(syscall) >= 20 and rs.other_sources == {"syscall": len(syscall)}
    assert "Terminal shell in container" in {r.name for r in syscall}
    assert {r.name for r in rs.rules} == {r.name for r in load_ruleset([falco_k8s_rules]).rules}


def _schema() -> dict[str, object]:
    path = SHARED / "schemas" / "falco-rules-0.44.1" / "rule_json_schema.json"
    if not path.is_file():
        pytest.skip(f"Falco's rule schema is not at {path} (../shared is absent)")
    return dict(json.loads(path.read_text()))


def _errors(doc: object) -> list[jsonschema.ValidationError]:
    schema = _schema()
    cls = jsonschema.validators.validator_for(schema)
    return list(cls(schema).iter_errors(doc))


def test_builtin_pack_matches_falco_rule_schema() -> None:
    doc = yaml.safe_load(builtin_rules_text()[1])
    assert _errors(doc) == []


def test_falco_files_match_schema_except_the_integer_engine_version(falco_k8s_rules: Path,
                                                                     falco_syscall_rules: Path) -> None:
    assert _errors(yaml.safe_load(falco_syscall_rules.read_text())) == []
    # Falco's k8s file writes `required_engine_version: 15` (an integer) where the schema says string;
    # Falco only warns about schema mismatches, and so do we: that is the one difference.
    errs = _errors(yaml.safe_load(falco_k8s_rules.read_text()))
    assert [(list(e.absolute_path), e.validator) for e in errs] == [([0, "required_engine_version"], "type")]


def test_schema_check_can_fail() -> None:
    assert _errors([{"rule": "x", "priority": "LOUD"}])
