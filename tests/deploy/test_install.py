"""install --print: manifests that pass cloudward's own scan, and certificates the API server would accept."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

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
