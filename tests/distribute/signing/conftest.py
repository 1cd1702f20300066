"""Fixtures for signing tests: a real Debian docker-registry on 127.0.0.1, keys, pushed images.

The registry runs from /usr/bin/docker-registry with a temporary config and
storage; readiness is a real ``GET /v2/`` answering 200, polled with a bounded
deadline (no fixed sleeps). Tests that need it skip with a reason when the
package is not installed (``make install`` installs it).
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudward.distribute.image import RegistryClient, RegistryRef
from cloudward.distribute.signing import KeySigner, generate_key
from tests.distribute.imagekit import Item, build_image

REGISTRY_BIN = "/usr/bin/docker-registry"
FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "cosign-fixtures"


def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"cosign fixtures not found at {FIXTURES} (../shared is absent)")
    return FIXTURES


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    proc: subprocess.Popen[bytes]
    log: Path

    def client(self) -> RegistryClient:
        return RegistryClient(self.host, insecure=True, timeout=10)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if not Path(REGISTRY_BIN).exists():
        pytest.skip("docker-registry is not installed (apt-get install docker-registry; make install does it)")
    root = tmp_path_factory.mktemp("registry")
    port = _free_port()
    config = root / "config.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\n"
                      f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n")
    log = root / "registry.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            pytest.fail(f"docker-registry exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1) as resp:
                if resp.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("docker-registry did not answer /v2/ within 20 s")
        time.sleep(0.05)  # polling interval while waiting on the real condition above, not synchronisation
    yield Registry(f"127.0.0.1:{port}", proc, log)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(root, ignore_errors=True)


_counter = iter(range(1_000_000))


def push_image(registry: Registry, repo: str, tag: str = "v1", content: bytes | None = None) -> tuple[RegistryRef, str]:
    """Push a small real image (one gzip layer) and return its tag reference and manifest digest."""
    built = build_image([[Item("etc/hello.txt", content or f"hello {next(_counter)}".encode())]])
    client = registry.client()
    for d, data in built.blobs.items():
        if d != built.manifest_digest:
            client.push_blob(repo, data, d)
    client.push_manifest(repo, tag, built.manifest, built.manifest_media)
    return RegistryRef(registry.host, repo, tag=tag), built.manifest_digest


@pytest.fixture
def image(registry: Registry, request: pytest.FixtureRequest) -> tuple[RegistryRef, str]:
    repo = "test/" + request.node.name.lower().replace("[", "-").replace("]", "").replace("_", "-")[:60]
    return push_image(registry, repo)


@pytest.fixture(scope="session")
def signer() -> KeySigner:
    return KeySigner(generate_key())


@pytest.fixture(scope="session")
def other_signer() -> KeySigner:
    return KeySigner(generate_key())
