"""Alert sinks against real local servers: HTTPS webhook (retries, dead letter), Slack payload, syslog over UDP."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cloudward.runtime import detect, load_rules_args
from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.alerts.noise import RateLimiter, aggregate
from cloudward.runtime.alerts.sinks import DeadLetter, SlackSink, SyslogSink, WebhookSink
from cloudward.runtime.events.builder import audit_event


def an_alert(user: str = "alice", t: str = "2026-11-29T10:00:00Z") -> Alert:
    ev = audit_event("create", "pods", name="web", subresource="exec", stage="ResponseStarted", user=user, time=t)
    [a] = detect([ev], load_rules_args([]))
    return a


class Receiver:
    """A real HTTPS server on 127.0.0.1 that fails the first ``fail`` requests with 503."""

    def __init__(self, tls: dict[str, Path], fail: int = 0) -> None:
        self.bodies: list[Any] = []
        self.fail = fail
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail > 0:
                    outer.fail -= 1
                    self.send_response(503)
                else:
                    outer.bodies.append(json.loads(body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(tls["server.crt"]), str(tls["server.key"]))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/alerts"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver(tls: dict[str, Path]) -> Iterator[Receiver]:
    r = Receiver(tls, fail=2)
    yield r
    r.close()


def test_webhook_retries_then_delivers(receiver: Receiver, tls: dict[str, Path], tmp_path: Path) -> None:
    dl = DeadLetter(tmp_path / "dead.jsonl")
    sink = WebhookSink(receiver.url, dl, retries=3, backoff=0.01, ca_file=str(tls["ca.crt"]))
    alert = an_alert()
    sink.send(alert)
    assert [b["fingerprint"] for b in receiver.bodies] == [alert.fingerprint]
    assert receiver.bodies[0]["rule"] == "Exec Into Pod" and receiver.bodies[0]["mitre_attack"] == ["T1609"]
    assert not dl.path.exists()


def test_down_sink_retries_then_dead_letters_nothing_lost(tls: dict[str, Path], tmp_path: Path) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens on this port now: the sink is down
    dl = DeadLetter(tmp_path / "dead.jsonl")
    sink = WebhookSink(f"https://127.0.0.1:{port}/x", dl, retries=2, backoff=0.01, ca_file=str(tls["ca.crt"]))
    alerts = [an_alert(user=u) for u in ("a", "b", "c")]
    for a in alerts:
        sink.send(a)
    lines = [json.loads(x) for x in dl.path.read_text().splitlines()]
    assert [Alert.from_dict(x).fingerprint for x in lines] == [a.fingerprint for a in alerts]
    assert all("webhook:" in x["dead_letter_reason"] for x in lines)


def test_untrusted_certificate_is_refused(receiver: Receiver, tmp_path: Path) -> None:
    dl = DeadLetter(tmp_path / "dead.jsonl")
    sink = WebhookSink(receiver.url, dl, retries=0, backoff=0.01)  # system CAs do not know our test CA
    sink.send(an_alert())
    assert receiver.bodies == [] and len(dl.path.read_text().splitlines()) == 1


def test_slack_payload(receiver: Receiver, tls: dict[str, Path], tmp_path: Path) -> None:
    receiver.fail = 0
    sink = SlackSink(receiver.url, DeadLetter(tmp_path / "d"), ca_file=str(tls["ca.crt"]))
    sink.send(an_alert())
    [body] = receiver.bodies
    assert set(body) == {"text"} and body["text"].startswith("*Notice* Exec Into Pod\n")
    assert "MITRE ATT&CK: T1609" in body["text"]


def test_syslog_udp_rfc5424() -> None:
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(5)
    sink = SyslogSink(f"udp://127.0.0.1:{srv.getsockname()[1]}")
    try:
        sink.send(an_alert())
        msg = srv.recv(65535).decode()
    finally:
        sink.close()
        srv.close()
    assert msg.startswith("<133>1 2026-11-29T10:00:00Z ")  # local0 (16*8) + notice (5)
    assert 'rule="Exec Into Pod"' in msg and msg.endswith("pod=web ns=default command=<NA> container=<NA> "
                                                          "agent=kubectl/v1.30.2 (linux/amd64) kubernetes/3968350)")


def test_rate_limit_summarises_refused_alerts_once_per_window(receiver: Receiver, tls: dict[str, Path],
                                                              tmp_path: Path) -> None:
    receiver.fail = 0
    now = [0.0]
    dl = DeadLetter(tmp_path / "dead.jsonl")
    sink = WebhookSink(receiver.url, dl, ca_file=str(tls["ca.crt"]), rate_limit=RateLimiter(1, 2, lambda: now[0]),
                       summary_window=10)
    for _ in range(4):
        sink.send(an_alert())  # burst of 2 allowed, 2 refused
    now[0] = 1.0
    sink.send(an_alert())  # one token refilled: delivered; the summary window (10 s) is still open
    assert [b["rule"] for b in receiver.bodies] == ["Exec Into Pod"] * 3
    assert dl.count == 0  # refused alerts are not dead letters (replaying them would defeat the limit)
    now[0] = 1.5
    sink.send(an_alert("bob"))  # refused: the third in this window
    now[0] = 11.0
    sink.send(an_alert())  # the window has ended: its summary goes first, then this alert
    summary = receiver.bodies[3]
    assert summary["rule"] == "Alerts Suppressed By Rate Limit" and summary["count"] == 3
    assert summary["output"].startswith("3 alerts suppressed by rate limit on webhook:https://127.0.0.1:")
    assert summary["output_fields"]["rate_limit.by_rule"] == {"Exec Into Pod": 3}
    assert summary["priority"] == "Notice"  # the highest priority among the refused alerts
    assert receiver.bodies[4]["rule"] == "Exec Into Pod" and len(receiver.bodies) == 5
    sink.send(an_alert())
    sink.send(an_alert())  # refused: the two tokens refilled by t=11 are used up
    sink.close()  # the unfinished window is summarised at shutdown
    assert [(b["rule"], b["count"]) for b in receiver.bodies[5:]] == [("Exec Into Pod", 1),
                                                                    ("Alerts Suppressed By Rate Limit", 1)]
    sink.close()
    assert len(receiver.bodies) == 7  # nothing pending: no empty summary


def test_dedup_folds_same_user_and_rule_within_window() -> None:
    alerts = [an_alert("alice", "2026-11-29T10:00:00Z"), an_alert("bob", "2026-11-29T10:01:00Z"),
              an_alert("alice", "2026-11-29T10:04:00Z"), an_alert("alice", "2026-11-29T10:06:00Z")]
    out = aggregate(alerts, window=300)
    assert [(a.event["user"]["username"], a.count, a.time, a.last_time) for a in out] == [
        ("alice", 2, "2026-11-29T10:00:00Z", "2026-11-29T10:04:00Z"),
        ("bob", 1, "2026-11-29T10:01:00Z", None),
        ("alice", 1, "2026-11-29T10:06:00Z", None)]
