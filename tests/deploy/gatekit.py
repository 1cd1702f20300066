"""Shared pieces of the gate tests: a real registry (the signing tests' fixture), keys, policies, reports."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from cloudward.core.model import Controls, Finding, Location, ResourceRef
from cloudward.core.report import ScanReport
from cloudward.core.severity import Severity
from cloudward.distribute.signing import KeySigner, generate_key
from cloudward.distribute.signing.keys import public_key_pem
from cloudward.report import ReportFormat, render


@dataclasses.dataclass
class Project:
    """A directory with .cloudward.yaml, a verification policy and a trusted key."""

    root: Path
    signer: KeySigner
    registry: str

    @property
    def config(self) -> Path:
        return self.root / ".cloudward.yaml"

    def write(self, admission: str, extra: str = "") -> Path:
        self.config.write_text(f"{extra}admission:\n  registry:\n    insecure: ['{self.registry}']\n"
                               f"    timeout: 5\n{admission}")
        return self.config


def make_project(root: Path, registry: str) -> Project:
    signer = KeySigner(generate_key())
    root.mkdir(parents=True, exist_ok=True)
    (root / "trusted.pub").write_bytes(public_key_pem(signer.public_key()))
    (root / "verify-policy.yaml").write_text(
        f"version: 1\npolicies:\n  - name: local\n    images: ['{registry}/**']\n    require:\n"
        "      - signature: {keys: [trusted.pub]}\n")
    return Project(root, signer, registry)


def pod(*images: str, init: str | None = None, kind: str = "Pod") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": im} for i, im in enumerate(images)]}
    if init:
        spec["initContainers"] = [{"name": "init", "image": init}]
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": spec}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}}}


def vuln_report(*vulns: tuple[str, str, bool]) -> bytes:
    """A JSON report rendered by the real renderer, with findings shaped as 'cloudward sbom scan' makes them.

    Each vuln is (id, severity, fixable).
    """
    findings = tuple(Finding(
        rule_id=vid, severity=Severity.parse(sev), title=vid, message=f"openssl 3.0.11 is affected by {vid}",
        location=Location(file="bom.json"), resource=ResourceRef(kind="Package", name="openssl@3.0.11"),
        controls=Controls(), extra={"vulnerability_id": vid, "aliases": [],
                                    "package": {"name": "openssl", "version": "3.0.11"},
                                    "fixed_versions": ["3.0.12"] if fixable else []})
        for vid, sev, fixable in vulns)
    report = ScanReport(findings=findings, problems=(), rules=(), files_scanned=1, resources_scanned=1)
    return render(report, ReportFormat.JSON).encode()
