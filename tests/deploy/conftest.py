"""Fixtures for the admission webhook: real TLS material, a real server process, real requests."""

from __future__ import annotations

import dataclasses
import json
import os
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cloudward.deploy.certs import KeyPair, make_ca, make_serving_cert

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "admission"
RUNNER = Path(__file__).with_name("clirunner.py")


def fixture(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


@dataclass
class Tls:
    ca: KeyPair
    cert: Path
    key: Path
    ca_file: Path

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        return ctx


def write_tls(directory: Path) -> Tls:
    ca = make_ca("test CA")
    serving = make_serving_cert(ca, ["localhost"], ["127.0.0.1"])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.pem").write_bytes(ca.cert_pem)
    (directory / "tls.crt").write_bytes(serving.cert_pem)
    (directory / "tls.key").write_bytes(serving.key_pem)
    return Tls(ca, directory / "tls.crt", directory / "tls.key", directory / "ca.pem")


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    return write_tls(tmp_path / "tls")


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDWARD_", "PROMETHEUS_"))}
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, str(RUNNER), *args], input=stdin, capture_output=True,
                          cwd=cwd or ROOT, env=cli_env(), timeout=120)


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    tls: Tls
    stderr_lines: list[str]
    opened: list[Any] = dataclasses.field(default_factory=list)

    def connection(self) -> Any:
        """A keep-alive HTTPS connection verifying the server against the test CA; closed at teardown."""
        import http.client

        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls.client_context(), timeout=10)
        self.opened.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.opened:
            conn.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session: the server and its workers
                self.proc.wait(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


def start_server(tls: Tls, *extra: str, workers: int = 1, cwd: Path | None = None) -> Server:
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), "admission", "serve", "--host", "127.0.0.1", "--port", "0",
         "--tls-cert", str(tls.cert), "--tls-key", str(tls.key), "--workers", str(workers), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env(), cwd=cwd or ROOT, start_new_session=True)
    assert proc.stderr is not None
    lines: list[str] = []
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + 60
    buf = b""
    while time.monotonic() < deadline:
        if not sel.select(timeout=max(deadline - time.monotonic(), 0)):
            break
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            lines.append(line.decode())
            if "serving https://" in lines[-1]:
                port = int(lines[-1].rsplit(":", 1)[1].split()[0])
                wait_accepting(port)
                return Server(proc, port, tls, lines)
    proc.kill()
    proc.wait()
    proc.stderr.close()
    raise AssertionError(f"server did not start: {lines} {buf!r}")


def wait_accepting(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise


@pytest.fixture
def server_factory(tls: Tls) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def make(*extra: str, workers: int = 1, cwd: Path | None = None, tls_: Tls | None = None) -> Server:
        s = start_server(tls_ or tls, *extra, workers=workers, cwd=cwd)
        started.append(s)
        return s

    yield make
    for s in started:
        s.close()
