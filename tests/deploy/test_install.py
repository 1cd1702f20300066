"""install --print: manifests that pass cloudward's own scan, and certificates the API server would accept."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from cloudward.core.model import PSSLevel
from cloudward.core.settings import ScanSettings
from cloudward.develop import scan

from .conftest import run_cli

DIGEST = "ghcr.io/cloudward/cloudward:0.1.0@sha256:" + "a" * 64


def _install(tmp_path: Path, *args: str) -> tuple[Path, list[dict[str, Any]]]:
    r = run_cli("admission", "install", "--print", *args)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "cloudward-admission.yaml"
    out.write_bytes(r.stdout)
    return out, [d for d in yaml.safe_load_all(r.stdout) if d]


def test_manifests_pass_pss_restricted_with_no_findings(tmp_path: Path) -> None:
    path, docs = _install(tmp_path)
    report = scan([str(path)], ScanSettings(pss=PSSLevel.RESTRICTED))
    assert [f.rule_id for f in report.findings] == []
    assert report.resources_scanned == len(docs)


def test_manifests_pass_every_rule_when_the_image_is_pinned(tmp_path: Path) -> None:
    path, _ = _install(tmp_path, "--image", DIGEST)
    report = scan([str(path)], ScanSettings())
    assert [(f.rule_id, f.message) for f in report.findings] == []
    # the default, tag-only image is the one thing the full rule set reports
    path, _ = _install(tmp_path)
    assert [f.rule_id for f in scan([str(path)], ScanSettings()).findings] == ["pod.image-digest"]


def test_manifest_contents(tmp_path: Path) -> None:
    _, docs = _install(tmp_path, "--namespace", "guard", "--failure-mode", "open")
    by_kind = {d["kind"]: d for d in docs}
    assert {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Secret", "Deployment",
            "PodDisruptionBudget", "Service", "NetworkPolicy", "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration", "ConfigMap"} <= set(by_kind)
    assert by_kind["ClusterRole"]["rules"] == [{"apiGroups": [""], "resources": ["namespaces"],
                                                "verbs": ["get", "list", "watch"]}]
    dep = by_kind["Deployment"]["spec"]
    assert dep["replicas"] >= 2 and by_kind["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    assert "podAntiAffinity" in dep["template"]["spec"]["affinity"]
    hook = by_kind["ValidatingWebhookConfiguration"]["webhooks"][0]
    assert hook["sideEffects"] == "None" and hook["matchPolicy"] == "Equivalent"
    assert hook["failurePolicy"] == "Ignore" and hook["timeoutSeconds"] == 5
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["namespaceSelector"]["matchExpressions"][0]["values"] == ["kube-system", "guard"]
    assert hook["clientConfig"]["service"] == {"name": "cloudward-admission", "namespace": "guard",
                                               "path": "/validate", "port": 443}
    # the caBundle is the CA that signed the serving certificate, which names the Service
    ca = x509.load_pem_x509_certificate(base64.b64decode(hook["clientConfig"]["caBundle"]))
    cert = x509.load_pem_x509_certificate(base64.b64decode(by_kind["Secret"]["data"]["tls.crt"]))
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "cloudward-admission.guard.svc" in sans.get_values_for_type(x509.DNSName)
    closed = {d["kind"]: d for d in _install(tmp_path)[1]}
    assert closed["ValidatingWebhookConfiguration"]["webhooks"][0]["failurePolicy"] == "Fail"


def test_cert_manager_variant(tmp_path: Path) -> None:
    path, docs = _install(tmp_path, "--cert-manager")
    kinds = [d["kind"] for d in docs]
    assert "Secret" not in kinds and kinds.count("Certificate") == 2
    hook = next(d for d in docs if d["kind"] == "ValidatingWebhookConfiguration")
    assert hook["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == "cloudward/cloudward-admission-serving"
    assert "caBundle" not in hook["webhooks"][0]["clientConfig"]
    assert [f.rule_id for f in scan([str(path)], ScanSettings(pss=PSSLevel.RESTRICTED)).findings] == []


def _gate_project(root: Path) -> Path:
    from cloudward.distribute.signing import generate_key
    from cloudward.distribute.signing.keys import public_key_pem

    (root / "keys").mkdir(parents=True)
    (root / "keys" / "release.pub").write_bytes(public_key_pem(generate_key().public_key()))
    (root / "ops.pub").write_bytes(public_key_pem(generate_key().public_key()))
    policy = root / "verify-policy.yaml"
    policy.write_text("version: 1\npolicies:\n  - name: prod\n    images: ['registry.example.com/**']\n    require:\n"
                      "      - signature: {keys: [keys/release.pub, ops.pub], threshold: 1}\n")
    return policy


@pytest.mark.parametrize("cache", ["pvc:cloudward-scans", "image:registry.example.com/ci/scans@sha256:" + "b" * 64])
def test_gates_mount_policy_credentials_and_scan_cache_and_still_pass_restricted(tmp_path: Path, cache: str) -> None:
    policy = _gate_project(tmp_path / "proj")
    path, docs = _install(tmp_path, "--verify-policy", str(policy), "--registry-secret", "regcred",
                          "--scan-cache", cache, "--vulnerability-severity", "critical", "--image", DIGEST)
    assert [f.rule_id for f in scan([str(path)], ScanSettings(pss=PSSLevel.RESTRICTED)).findings] == []
    assert [(f.rule_id, f.message) for f in scan([str(path)], ScanSettings()).findings] == []
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    dep = by_name[("Deployment", "cloudward-admission")]["spec"]["template"]["spec"]
    container = dep["containers"][0]
    volumes = {v["name"]: v for v in dep["volumes"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    # credentials: the user's dockerconfigjson Secret, where $REGISTRY_AUTH_FILE points
    assert volumes["registry-auth"]["secret"]["secretName"] == "regcred"
    assert volumes["registry-auth"]["secret"]["items"] == [{"key": ".dockerconfigjson", "path": "config.json"}]
    assert {"name": "REGISTRY_AUTH_FILE", "value": mounts["registry-auth"]["mountPath"] + "/config.json"} in \
        container["env"]
    # the scan cache: read-only for the webhook
    assert mounts["scan-cache"]["readOnly"] is True
    if cache.startswith("pvc:"):
        assert volumes["scan-cache"]["persistentVolumeClaim"] == {"claimName": "cloudward-scans", "readOnly": True}
        assert "initContainers" not in dep
    else:
        init = dep["initContainers"][0]
        assert init["image"] == cache.removeprefix("image:") and "emptyDir" in volumes["scan-cache"]
        assert init["command"][-1].rstrip("/") == mounts["scan-cache"]["mountPath"]
    # the verification policy ConfigMap, laid out by the volume's items, is a policy the real loader accepts
    verify = by_name[("ConfigMap", "cloudward-admission-verify")]["data"]
    root = tmp_path / "mounted"
    for item in volumes["verify-policy"]["configMap"]["items"]:
        (root / item["path"]).parent.mkdir(parents=True, exist_ok=True)
        (root / item["path"]).write_text(verify[item["key"]])
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == \
        ["keys/release.pub", "ops.pub", "verify-policy.yaml"]
    # and the webhook's own config, with the mount points mapped here, is a valid admission policy with both gates
    text = by_name[("ConfigMap", "cloudward-admission-policy")]["data"][".cloudward.yaml"]
    text = text.replace(mounts["verify-policy"]["mountPath"], str(root)).replace(
        mounts["scan-cache"]["mountPath"], str(tmp_path / "scans"))
    from cloudward.deploy import parse_policy

    parsed = parse_policy(text, "policy.yaml")
    assert parsed.signatures is not None and parsed.vulnerabilities is not None
    assert parsed.vulnerabilities.severity.value == "critical"


def test_gate_flags_refuse_bad_values(tmp_path: Path) -> None:
    r = run_cli("admission", "install", "--print", "--scan-cache", "nfs:/data")
    assert r.returncode == 2 and b"use pvc:CLAIM-NAME" in r.stderr and b"Traceback" not in r.stderr
    r = run_cli("admission", "install", "--print", "--registry-secret", "Reg_Cred")
    assert r.returncode == 2 and b"--registry-secret 'Reg_Cred' is not a Kubernetes object name" in r.stderr
    outside = tmp_path / "policy" / "verify-policy.yaml"
    _gate_project(tmp_path / "policy")
    outside.write_text(outside.read_text().replace("ops.pub", "../elsewhere.pub"))
    (tmp_path / "elsewhere.pub").write_bytes((tmp_path / "policy" / "ops.pub").read_bytes())
    r = run_cli("admission", "install", "--print", "--verify-policy", str(outside))
    assert r.returncode == 2 and b"outside the policy's directory" in r.stderr
