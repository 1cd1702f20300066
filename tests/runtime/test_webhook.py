"""The audit webhook receiver over real TLS on 127.0.0.1: auth, EventList batches, back-pressure, metrics."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudward.core.errors import InputError
from cloudward.runtime import load_rules_args
from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.events.builder import audit_event
from cloudward.runtime.events.webhook import AuditWebhookServer
from cloudward.runtime.serve import Dispatcher, run_webhook

TOKEN = "s3cret-token"


def event_list(*events: dict[str, Any]) -> bytes:
    return json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {},
                       "items": list(events)}).encode()


def client(tls: dict[str, Path], port: int, cert: bool = False) -> http.client.HTTPSConnection:
    ctx = ssl.create_default_context(cafile=str(tls["ca.crt"]))
    if cert:
        ctx.load_cert_chain(str(tls["client.crt"]), str(tls["client.key"]))
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)


def post(conn: http.client.HTTPSConnection, body: bytes, token: str | None = TOKEN) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", "/k8s-audit", body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self.event = threading.Event()

    def send(self, alert: Alert) -> None:
        self.alerts.append(alert)
        self.event.set()

    def close(self) -> None:
        pass


@pytest.fixture
def server(tls: dict[str, Path]) -> Iterator[AuditWebhookServer]:
    srv = AuditWebhookServer("127.0.0.1", 0, cert_file=str(tls["server.crt"]), key_file=str(tls["server.key"]),
                             token=TOKEN, queue_size=2, put_timeout=0.05)
    yield srv
    srv._httpd.server_close()  # idempotent: also when a test stopped it already


def test_token_auth_and_batches_reach_detection(server: AuditWebhookServer, tls: dict[str, Path]) -> None:
    sink = ListSink()
    stop = threading.Event()
    t = threading.Thread(target=run_webhook, args=(server, load_rules_args([]), Dispatcher([sink]), stop))
    t.start()
    try:
        conn = client(tls, server.address[1])
        assert post(conn, event_list(audit_event("get", "pods")), token="wrong")[0] == 401
        exec_ev = audit_event("create", "pods", name="web", subresource="exec", stage="ResponseStarted")
        status, _ = post(conn, event_list(audit_event("get", "pods"), exec_ev))
        assert status == 200
        assert sink.event.wait(10)
        assert [a.rule for a in sink.alerts] == ["Exec Into Pod"]
        assert sink.alerts[0].file == "<webhook>"
        assert post(conn, b"{not json")[0] == 400
        conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        metrics = conn.getresponse().read().decode()
        assert "cloudward_detect_batches_accepted_total 1" in metrics
        assert "cloudward_detect_unauthorized_total 1" in metrics
        conn.close()
    finally:
        stop.set()
        t.join(10)


def test_full_queue_answers_429_and_never_drops_accepted(server: AuditWebhookServer, tls: dict[str, Path]) -> None:
    server.start()  # no consumer yet: the queue (2 batches) fills up
    try:
        conn = client(tls, server.address[1])
        statuses = [post(conn, event_list(audit_event("get", "pods", name=f"p{i}")))[0] for i in range(4)]
        assert statuses == [200, 200, 429, 429]
        conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        text = conn.getresponse().read().decode()
        assert "cloudward_detect_queue_full_total 2" in text
        assert "cloudward_detect_queue_depth 2" in text
        conn.close()
    finally:
        server.stop()
    accepted = [server.queue.get_nowait() for _ in range(server.queue.qsize())]
    assert [b[0].event["objectRef"]["name"] for b in accepted] == ["p0", "p1"]


def test_client_certificate_auth(tls: dict[str, Path]) -> None:
    srv = AuditWebhookServer("127.0.0.1", 0, cert_file=str(tls["server.crt"]), key_file=str(tls["server.key"]),
                             client_ca=str(tls["ca.crt"]))
    srv.start()
    try:
        conn = client(tls, srv.address[1], cert=True)
        assert post(conn, event_list(audit_event("get", "pods")), token=None)[0] == 200
        conn.close()
        anon = client(tls, srv.address[1], cert=False)
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            post(anon, event_list(audit_event("get", "pods")), token=None)
        anon.close()
    finally:
        srv.stop()


def test_receiver_refuses_to_run_without_authentication(tls: dict[str, Path]) -> None:
    with pytest.raises(InputError, match="needs authentication"):
        AuditWebhookServer("127.0.0.1", 0, cert_file=str(tls["server.crt"]), key_file=str(tls["server.key"]))
