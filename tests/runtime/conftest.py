"""Shared fixtures for runtime tests: data paths, Falco's rules in ../shared, TLS material made by openssl."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudward.runtime.events.builder import audit_event, pod

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "audit"
TRACE = DATA / "falco-trace"
SHARED = ROOT.parent / "shared"
FALCO_RULES = SHARED / "falco-rules"


@pytest.fixture(scope="session")
def falco_k8s_rules() -> Path:
    path = FALCO_RULES / "k8s_audit_rules.yaml"
    if not path.is_file():
        pytest.skip(f"Falco's published rules are not at {path} (../shared is absent)")
    return path


@pytest.fixture(scope="session")
def falco_syscall_rules() -> Path:
    path = FALCO_RULES / "falco_rules.yaml"
    if not path.is_file():
        pytest.skip(f"Falco's syscall rules are not at {path} (../shared is absent)")
    return path


def build_event(args: dict[str, Any]) -> dict[str, Any]:
    """An audit event from a builtin_cases.yaml entry (``pod:`` expands to a Pod request object)."""
    args = dict(args)
    if "pod" in args:
        spec = dict(args.pop("pod"))
        containers = spec.pop("containers", [{}])
        args["request_object"] = pod(*containers, **spec)
    return audit_event(**args)


def load_cases() -> list[dict[str, Any]]:
    return list(yaml.safe_load((DATA / "builtin_cases.yaml").read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a server cert for 127.0.0.1 and a client cert, made with the real openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (Debian package 'openssl')")
    d = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=cloudward-test-ca")
    exts = (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost"), ("client", "extendedKeyUsage=clientAuth"))
    for name, ext in exts:
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")
        (d / f"{name}.ext").write_text(ext + "\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")
    return {n: d / n for n in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")}
