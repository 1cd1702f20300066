"""The real webhook server over real TLS on 127.0.0.1, spoken to as the API server does."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import ssl
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from cloudward.testing import admission_review

from .conftest import Server, Tls, fixture, run_cli, write_tls

PRIVILEGED = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
        {"name": "app", "image": "nginx:1.25", "securityContext": {"privileged": True}}]}}},
}


def post(conn: http.client.HTTPSConnection, path: str, body: bytes | dict[str, Any]) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp.status, resp.read()


def test_validate_over_tls_with_keep_alive(server_factory: Any) -> None:
    server: Server = server_factory("--namespaces", "none")
    conn = server.connection()
    status, body = post(conn, "/validate?timeout=10s", admission_review(PRIVILEGED, uid="u-1"))
    assert status == 200
    review = json.loads(body)
    assert review["apiVersion"] == "admission.k8s.io/v1" and review["kind"] == "AdmissionReview"
    response = review["response"]
    assert response["uid"] == "u-1"
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    assert "pod.privileged at $.spec.template.spec.containers[0].securityContext.privileged" in \
        response["status"]["message"]
    assert all(len(w) <= 120 for w in response["warnings"])
    sock = conn.sock
    # the second request rides the same TLS connection (keep-alive), as the API server's does
    status, body = post(conn, "/validate", fixture("pod-create-kubectl.json"))
    assert conn.sock is sock
    assert status == 200
    response = json.loads(body)["response"]
    assert response["uid"] == "2ec4911a-8a9d-4c8d-8aa5-2d3709877fd0"
    assert response["allowed"] is True  # the captured nginx pod meets baseline
    assert any(w.startswith("pod.run-as-non-root:") for w in response["warnings"])


def test_server_and_cli_give_the_same_answer(server_factory: Any) -> None:
    server: Server = server_factory("--namespaces", "none")
    conn = server.connection()
    for name in ("pod-create-kubectl.json", "replicaset-update-argocd.json"):
        raw = json.dumps(fixture(name)).encode()
        status, body = post(conn, "/validate", raw)
        assert status == 200
        cli = run_cli("admission", "review", "--namespaces", "none", stdin=raw)
        assert cli.returncode == 0, cli.stderr
        assert json.loads(cli.stdout) == json.loads(body)


def test_health_ready_metrics_and_unknown_paths(server_factory: Any) -> None:
    server: Server = server_factory("--namespaces", "none")
    conn = server.connection()
    for path, status in (("/healthz", 200), ("/readyz", 200), ("/nope", 404)):
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == status, path
    conn.request("GET", "/validate")
    resp = conn.getresponse()
    assert resp.status == 405 and b"POST" in resp.read()
    post(conn, "/validate", admission_review(PRIVILEGED))
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    text = resp.read().decode()
    assert resp.status == 200 and resp.getheader("content-type", "").startswith("text/plain")
    assert re.search(r'cloudward_admission_decisions_total\{decision="denied",dry_run="false",namespace="shop"\} 1\.0',
                     text)
    assert re.search(r'cloudward_admission_violations_total\{mode="enforce",namespace="shop",rule="pod.privileged"\} '
                     r'1\.0', text)
    assert 'cloudward_admission_review_seconds_count{endpoint="validate"} 1.0' in text


@pytest.mark.parametrize(("body", "needle"), [
    (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {', "not valid JSON"),
    (json.dumps({"apiVersion": "v1", "kind": "AdmissionReview", "request": {"uid": "x"}}).encode(), "apiVersion"),
    (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "Pod"}).encode(), "kind is 'Pod'"),
    (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                 "request": {"operation": "CREATE"}}).encode(), "request.uid"),
    (b"[1, 2]", "JSON object"),
])
def test_malformed_reviews_get_400_with_the_reason(server_factory: Any, body: bytes, needle: str) -> None:
    server: Server = server_factory("--namespaces", "none")
    conn = server.connection()
    status, answer = post(conn, "/validate", body)
    assert status == 400
    assert needle in json.loads(answer)["error"]
    # the connection and the worker survive
    status, _ = post(conn, "/validate", admission_review(PRIVILEGED))
    assert status == 200


def test_deep_nesting_and_huge_bodies_are_refused(server_factory: Any) -> None:
    server: Server = server_factory("--namespaces", "none", "--max-body", str(1024 * 1024))
    conn = server.connection()
    obj = {**PRIVILEGED, "extra": "DEEP"}
    for depth, expected in ((900, 200), (5000, 400)):  # the decoder's bound is 1024 levels
        raw = json.dumps(admission_review(obj)).replace('"DEEP"', '{"a": ' * depth + "1" + "}" * depth).encode()
        status, body = post(conn, "/validate", raw)
        assert status == expected, body[:200]
        if expected == 400:
            assert b"nested more than 1024 levels" in body
    # a 10 MB object is refused from its Content-Length, before the body is read
    huge = json.dumps(admission_review({**PRIVILEGED, "metadata": {"name": "big", "annotations": {
        "blob": "x" * (10 * 1024 * 1024)}}})).encode()
    ctx = server.tls.client_context()
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as raw_sock, \
            ctx.wrap_socket(raw_sock, server_hostname="localhost") as s:
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  + f"Content-Length: {len(huge)}\r\n\r\n".encode())  # the head alone decides
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 413") and b"exceeds 1048576 bytes" in data
    conn = server.connection()
    assert post(conn, "/validate", admission_review(PRIVILEGED))[0] == 200


def test_plain_http_gets_a_clear_400(server_factory: Any) -> None:
    server: Server = server_factory("--namespaces", "none")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400 Bad Request")
    assert b"HTTPS server" in data


def test_tls_1_2_is_accepted_and_older_is_refused(server_factory: Any, tls: Tls) -> None:
    server: Server = server_factory("--namespaces", "none")
    ctx12 = tls.client_context()
    ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw, \
            ctx12.wrap_socket(raw, server_hostname="localhost") as s:
        assert s.version() == "TLSv1.2"
    old = tls.client_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer TLS 1.0/1.1 at all
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError), socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        old.wrap_socket(raw, server_hostname="localhost").close()


def test_slow_clients_are_cut_off(server_factory: Any, tls: Tls) -> None:
    server: Server = server_factory("--namespaces", "none", "--request-timeout", "1", "--idle-timeout", "30")
    ctx = tls.client_context()
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n")  # and then stall
        start = time.monotonic()
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        elapsed = time.monotonic() - start
    assert elapsed < 15, "the server kept a stalled request open"
    assert data.startswith(b"HTTP/1.1 408")
    # the server still serves others
    assert post(server.connection(), "/validate", admission_review(PRIVILEGED))[0] == 200


def test_certificate_rotation_is_picked_up(server_factory: Any, tmp_path: Path, tls: Tls) -> None:
    server: Server = server_factory("--namespaces", "none", "--reload-interval", "0.1")
    new = write_tls(tmp_path / "rotated")
    # rotate the way a Secret volume does: new files renamed over the old ones
    for src, dst in ((new.cert, tls.cert), (new.key, tls.key)):
        tmp = dst.with_suffix(".new")
        tmp.write_bytes(src.read_bytes())
        tmp.replace(dst)
    deadline = time.monotonic() + 30
    while True:
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=new.client_context(), timeout=5)
        server.opened.append(conn)
        try:
            conn.request("GET", "/healthz")
            assert conn.getresponse().status == 200
            break
        except ssl.SSLCertVerificationError:
            assert time.monotonic() < deadline, "the rotated certificate was never served"
        finally:
            conn.close()
    with pytest.raises(ssl.SSLCertVerificationError):
        server.connection().request("GET", "/healthz")


def test_graceful_shutdown_finishes_in_flight_reviews(server_factory: Any, tls: Tls) -> None:
    server: Server = server_factory("--namespaces", "none")
    body = json.dumps(admission_review(PRIVILEGED, uid="in-flight")).encode()
    ctx = tls.client_context()
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:100])
        conn = server.connection()  # an idle keep-alive connection, which must be closed
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        server.proc.send_signal(signal.SIGTERM)
        # the idle connection is closed by the server
        idle = conn.sock
        idle.settimeout(20)
        assert idle.recv(1) == b""
        s.sendall(body[100:])
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"connection: close" in head.lower()
    assert json.loads(payload)["response"]["uid"] == "in-flight"
    assert server.proc.wait(30) == 0


def test_two_workers_share_the_port_and_the_metrics(server_factory: Any) -> None:
    server: Server = server_factory("--namespaces", "none", workers=2)
    for i in range(20):
        conn = server.connection()  # new connections spread over the workers
        status, body = post(conn, "/validate", admission_review(PRIVILEGED, uid=f"u{i}"))
        assert status == 200 and json.loads(body)["response"]["uid"] == f"u{i}"
        conn.close()
    totals = set()
    for _ in range(4):
        conn = server.connection()
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
        m = re.search(r'cloudward_admission_decisions_total\{decision="denied",dry_run="false",namespace="shop"\} '
                      r'(\S+)', text)
        assert m
        totals.add(float(m.group(1)))
    assert totals == {20.0}  # whichever worker answers, the sum covers both
    assert server.stop() == 0
