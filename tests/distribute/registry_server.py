"""A real OCI registry (Debian's docker-registry) on 127.0.0.1 for the duration of a test module."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REGISTRY = "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)  # polling a real condition (the port), bounded by the deadline
    raise RuntimeError(f"docker-registry did not listen on {port} within {timeout}s")


@contextlib.contextmanager
def run_registry(workdir: Path, auth: str = "") -> Iterator[str]:
    """Start the registry; ``auth`` is an extra YAML ``auth:`` block. Yields ``127.0.0.1:PORT``."""
    if not Path(REGISTRY).exists():
        pytest.skip("Debian docker-registry is not installed (make install installs it)")
    port = free_port()
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {workdir / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + auth)
    log = open(workdir / "registry.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([REGISTRY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def htpasswd_block(workdir: Path, user: str, password: str) -> str:
    tool = shutil.which("htpasswd")
    if tool is None:
        pytest.skip("htpasswd (Debian apache2-utils) is not installed")
    line = subprocess.run([tool, "-Bbn", user, password], capture_output=True, text=True, check=True).stdout.strip()
    (workdir / "htpasswd").write_text(line + "\n")
    return f"auth:\n  htpasswd:\n    realm: test\n    path: {workdir / 'htpasswd'}\n"
