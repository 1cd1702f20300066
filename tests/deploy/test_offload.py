"""Image gates off the event loop: a slow registry delays only the reviews that need it.

The registry is a real HTTP server on 127.0.0.1 that holds every request until
the test releases it (a condition, not a timer), then answers 503. The webhook
is the real server process with one worker, so every review below shares one
event loop: if a registry round trip blocked it, the second review could not be
answered while the first one waits, and the test would time out instead.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudward.testing import admission_review
from tests.deploy.conftest import Server, Tls
from tests.deploy.gatekit import pod

WAIT = 30.0  # upper bound on every wait; a passing run waits for conditions only


class SlowRegistry:
    """Holds each request until ``release`` is set; counts requests that arrived and are still held."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived = threading.Event()
        self.held = 0
        self.lock = threading.Lock()
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _hold(self) -> None:
                with registry.lock:
                    registry.held += 1
                registry.arrived.set()
                registry.release.wait(WAIT)
                with registry.lock:
                    registry.held -= 1
                body = b'{"errors":[{"code":"UNAVAILABLE","message":"registry is overloaded"}]}'
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_HEAD = _hold

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(WAIT)


@pytest.fixture
def slow_registry() -> Iterator[SlowRegistry]:
    r = SlowRegistry()
    yield r
    r.close()


def project(root: Path, registry: str, *, budget: float, failure_mode: str = "closed") -> Path:
    """A config whose signature gate covers the slow registry; registry requests may take up to WAIT s."""
    root.mkdir(parents=True, exist_ok=True)
    from cloudward.distribute.signing import generate_key
    from cloudward.distribute.signing.keys import public_key_pem

    (root / "trusted.pub").write_bytes(public_key_pem(generate_key().public_key()))
    (root / "verify-policy.yaml").write_text(
        f"version: 1\npolicies:\n  - name: local\n    images: ['{registry}/**']\n    require:\n"
        "      - signature: {keys: [trusted.pub]}\n")
    config = root / ".cloudward.yaml"
    config.write_text(f"admission:\n  failure_mode: {failure_mode}\n  registry:\n    insecure: ['{registry}']\n"
                      f"    timeout: {WAIT}\n    budget: {budget}\n    concurrency: 2\n"
                      "  signatures:\n    policy: verify-policy.yaml\n")
    return config


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80, "nodePort": 30080}]}}


def post(conn: Any, doc: dict[str, Any], path: str = "/validate") -> None:
    conn.request("POST", path, body=json.dumps(doc), headers={"Content-Type": "application/json"})


def response(conn: Any) -> dict[str, Any]:
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    out: dict[str, Any] = json.loads(resp.read())["response"]
    return out


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_review_waiting_for_a_slow_registry_does_not_hold_up_others(
        tmp_path: Path, tls: Tls, server_factory: Any, slow_registry: SlowRegistry) -> None:
    config = project(tmp_path / "proj", slow_registry.host, budget=WAIT)
    server: Server = server_factory("--config", str(config), "--namespaces", "none", workers=1)
    gated, plain = server.connection(), server.connection()
    post(gated, admission_review(pod(f"{slow_registry.host}/shop/web:1.0")))
    assert slow_registry.arrived.wait(WAIT), "the gate never asked the registry"

    # the registry is holding the gated review's request: a review without images is answered meanwhile
    post(plain, admission_review(SERVICE))
    answered = response(plain)
    assert not slow_registry.release.is_set() and slow_registry.held >= 1  # still holding, by construction
    assert answered["allowed"] is True
    assert any(w.startswith("service.node-port") for w in answered.get("warnings", [])), answered  # really judged

    slow_registry.release.set()
    out = response(gated)  # the registry answers 503: the failure mode (closed) decides, naming gate and registry
    assert out["allowed"] is False and out["status"]["code"] == 500
    assert re.search(rf"pod\.image-signature: .*registry {re.escape(slow_registry.host)}", out["status"]["message"])

    scrape = server.connection()
    scrape.request("GET", "/metrics")
    text = scrape.getresponse().read().decode()
    assert metric(text, "cloudward_admission_gate_offloaded_total", outcome="answered") == 1
    assert metric(text, "cloudward_admission_gate_cache_total", gate="signature", cache="digest", result="miss") == 1
    assert metric(text, "cloudward_admission_gate_failures_total", gate="signature", reason="unavailable") == 1
    assert metric(text, "cloudward_admission_gate_registry_seconds_count", gate="signature",
                  operation="resolve") == 1


@pytest.mark.parametrize("failure_mode", ["closed", "open"])
def test_registry_slower_than_the_budget_gets_the_failure_mode(
        tmp_path: Path, tls: Tls, server_factory: Any, slow_registry: SlowRegistry, failure_mode: str) -> None:
    config = project(tmp_path / "proj", slow_registry.host, budget=0.5, failure_mode=failure_mode)
    server: Server = server_factory("--config", str(config), "--namespaces", "none", workers=1)
    conn = server.connection()
    image = f"{slow_registry.host}/shop/web:1.0"
    post(conn, admission_review(pod(image)))
    out = response(conn)  # answered although the registry never answers until teardown
    assert not slow_registry.release.is_set()
    expected = (f"pod.image-signature: registry checks of {image} did not finish within the review budget of "
                "0.5s (admission.registry.budget)")
    if failure_mode == "closed":
        assert out["allowed"] is False and out["status"]["code"] == 500
        assert expected in out["status"]["message"]
    else:
        assert out["allowed"] is True
        assert any("failure_mode: open" in w for w in out["warnings"])
        assert expected in out["auditAnnotations"]["error"]

    post(conn, admission_review(pod(image)), "/mutate")  # /mutate never denies: unpinned, with a warning
    mutated = response(conn)
    assert mutated["allowed"] is True and "patch" not in mutated
    assert any("not pinned" in w for w in mutated["warnings"])

    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    assert metric(text, "cloudward_admission_gate_failures_total", gate="signature", reason="budget") == 2
    assert metric(text, "cloudward_admission_gate_offloaded_total", outcome="budget") == 2


def test_budget_and_concurrency_are_validated(tmp_path: Path) -> None:
    from cloudward.core.errors import ConfigError
    from cloudward.deploy import parse_policy

    policy = parse_policy("admission:\n  registry:\n    budget: 2.5\n    concurrency: 8\n", "c.yaml")
    assert (policy.registry.budget, policy.registry.concurrency) == (2.5, 8)
    with pytest.raises(ConfigError, match=r"c\.yaml:4:\d+: admission\.registry\.concurrency must be at most 64"):
        parse_policy("admission:\n  registry:\n    budget: 2\n    concurrency: 100\n", "c.yaml")
    with pytest.raises(ConfigError, match=r"admission\.registry\.budget"):
        parse_policy("admission:\n  registry:\n    budget: 0\n", "c.yaml")
