"""The audit webhook receiver: the API server's webhook backend POSTs ``EventList`` batches here.

HTTPS only, authenticated by a client certificate (``client_ca``) and/or a bearer
token; at least one is required. A batch is answered ``200`` only once it is in the
bounded queue, so an accepted batch is never dropped; when the queue stays full
for ``put_timeout`` seconds the answer is ``429`` with ``Retry-After`` (the API
server's webhook backend retries) and ``cloudward_detect_queue_full_total`` grows.
``/metrics`` serves Prometheus text, ``/healthz`` a liveness answer.
"""

from __future__ import annotations

import hmac
import json
import logging
import queue
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cloudward.core import jsonsafe
from cloudward.core.errors import InputError
from cloudward.runtime.events.model import EventRecord, check_event

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024 * 1024


class Metrics:
    """Counters the receiver and the detection loop share; rendered as Prometheus text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, float] = {
            "cloudward_detect_batches_accepted_total": 0, "cloudward_detect_batches_rejected_total": 0,
            "cloudward_detect_events_received_total": 0, "cloudward_detect_events_skipped_total": 0,
            "cloudward_detect_queue_full_total": 0, "cloudward_detect_alerts_total": 0,
            "cloudward_detect_alerts_suppressed_total": 0,
            "cloudward_detect_unauthorized_total": 0}

    def inc(self, name: str, n: float = 1) -> None:
        with self._lock:
            self.values[name] = self.values.get(name, 0) + n

    def render(self, queue_depth: int, queue_size: int) -> str:
        with self._lock:
            lines = [f"# TYPE {k} counter\n{k} {int(v)}" for k, v in sorted(self.values.items())]
        lines.append(f"# TYPE cloudward_detect_queue_depth gauge\ncloudward_detect_queue_depth {queue_depth}")
        lines.append(f"# TYPE cloudward_detect_queue_capacity gauge\ncloudward_detect_queue_capacity {queue_size}")
        return "\n".join(lines) + "\n"


class AuditWebhookServer:
    """A threaded HTTPS server feeding batches of ``EventRecord`` into ``self.queue``."""

    def __init__(self, host: str, port: int, *, cert_file: str, key_file: str, client_ca: str | None = None,
                 token: str | None = None, queue_size: int = 1024, put_timeout: float = 2.0,
                 max_body: int = MAX_BODY, path: str = "/k8s-audit") -> None:
        if not client_ca and not token:
            raise InputError("the audit webhook needs authentication: give --client-ca (client certificates) "
                             "and/or --token-file (bearer token)")
        self.queue: queue.Queue[list[EventRecord]] = queue.Queue(maxsize=queue_size)
        self.queue_size = queue_size
        self.metrics = Metrics()
        self.token = token.encode() if token else None
        self.put_timeout = put_timeout
        self.max_body = max_body
        self.path = path
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(cert_file, key_file)
            if client_ca:
                ctx.load_verify_locations(client_ca)
                ctx.verify_mode = ssl.CERT_REQUIRED
        except (OSError, ssl.SSLError) as e:
            raise InputError(f"cannot load TLS files: {e}") from None
        self._httpd = _Server((host, port), _handler(self))
        self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="audit-webhook", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting; batches already accepted stay in the queue for the consumer to drain."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(10)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s failed", client_address, exc_info=True)


def _handler(srv: AuditWebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "cloudward-detect"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.client_address[0], *args)

        def _send(self, code: int, body: bytes, ctype: str = "application/json",
                  headers: dict[str, str] | None = None, close: bool = False) -> None:
            self.send_response(code)
            if close:  # the request body was not read: the connection cannot carry another request
                self.close_connection = True
                self.send_header("Connection", "close")
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            if srv.token is None:
                return True  # client certificate already verified by the TLS handshake
            auth = self.headers.get("Authorization", "")
            return auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].strip().encode(), srv.token)

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._send(200, b"ok\n", "text/plain")
            elif self.path == "/metrics":
                if not self._authorized():
                    srv.metrics.inc("cloudward_detect_unauthorized_total")
                    self._send(401, b'{"error":"unauthorized"}\n')
                    return
                text = srv.metrics.render(srv.queue.qsize(), srv.queue_size)
                self._send(200, text.encode(), "text/plain; version=0.0.4")
            else:
                self._send(404, b'{"error":"not found"}\n')

        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != srv.path:
                self._send(404, b'{"error":"not found"}\n', close=True)
                return
            if not self._authorized():
                srv.metrics.inc("cloudward_detect_unauthorized_total")
                self._send(401, b'{"error":"unauthorized"}\n', close=True)
                return
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self._send(411, b'{"error":"Content-Length required"}\n', close=True)
                return
            if int(length) > srv.max_body:
                self._send(413, b'{"error":"batch too large"}\n', close=True)
                return
            body = self.rfile.read(int(length))
            batch, error = _decode(body)
            if error:
                srv.metrics.inc("cloudward_detect_batches_rejected_total")
                self._send(400, json.dumps({"error": error}).encode())
                return
            records = [EventRecord(ev, "<webhook>", None) for ev in batch if check_event(ev) is None]
            skipped = len(batch) - len(records)
            try:
                srv.queue.put(records, timeout=srv.put_timeout)
            except queue.Full:
                srv.metrics.inc("cloudward_detect_queue_full_total")
                log.warning("audit webhook queue full (%d batches); asking the API server to retry",
                            srv.queue_size)
                self._send(429, b'{"error":"queue full, retry"}\n', headers={"Retry-After": "1"})
                return
            srv.metrics.inc("cloudward_detect_batches_accepted_total")
            srv.metrics.inc("cloudward_detect_events_received_total", len(records))
            srv.metrics.inc("cloudward_detect_events_skipped_total", skipped)
            self._send(200, b"{}\n")

    return Handler


def _decode(body: bytes) -> tuple[list[dict[str, Any]], str | None]:
    try:
        doc = jsonsafe.loads(body)
    except ValueError as e:
        return [], f"body is not JSON: {e}"
    if isinstance(doc, dict) and doc.get("kind") == "EventList":
        items = doc.get("items")
        if not isinstance(items, list):
            return [], "EventList without an items list"
        return [i for i in items if isinstance(i, dict)], None
    if isinstance(doc, dict) and check_event(doc) is None:
        return [doc], None
    return [], "expected an audit.k8s.io/v1 EventList"
