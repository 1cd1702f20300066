"""HTTP/1.1 over TLS for the webhook: connections, limits and timeouts; no admission logic.

h11 parses and frames HTTP (we write no HTTP parser); this module owns the
connection's life:

- a peek at the first byte tells TLS (0x16) from plain HTTP, which gets a
  ``400`` saying to use https (as Go servers answer) instead of a handshake error;
- ``TCP_NODELAY`` on every socket: without it the response's last segment
  waits for the API server's delayed ACK, about 40 ms per review;
- slow clients are cut off: the handshake, the request head and body must
  arrive within ``request_timeout`` of its first byte, idle keep-alive
  connections close after ``idle_timeout``; heads are limited to 16 KiB and
  bodies to ``max_body`` (``413`` early, from Content-Length, when possible);
- the handler runs inline on the event loop (parsing and judging one review
  takes well under a millisecond; a thread hop would cost more than it saves);
  it may return an awaitable instead of a response when it has slow work to
  do elsewhere (a registry, ``deploy.offload``), and the connection waits for it;
- draining: idle connections close at once, busy ones after their response.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable

import h11
import orjson

log = logging.getLogger(__name__)

MAX_HEAD = 16 * 1024
PLAIN_HTTP_ANSWER = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                     b"Content-Length: 58\r\n\r\nClient sent an HTTP request to an HTTPS server; use https\n")


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    max_body: int = 8 * 1024 * 1024
    request_timeout: float = 10.0
    idle_timeout: float = 60.0
    handshake_timeout: float = 10.0
    max_connections: int = 1024


@dataclasses.dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    body: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"


Handler = Callable[[Request], Response | Awaitable[Response]]


class _Conn:
    __slots__ = ("busy", "task")

    def __init__(self) -> None:
        self.busy = False
        self.task: asyncio.Task[None] | None = None


class HttpsServer:
    """Accepts on a listening socket (shared by worker processes) and serves ``handler``."""

    def __init__(self, sock: socket.socket, context: Callable[[], ssl.SSLContext], handler: Handler,
                 limits: Limits, on_error: Callable[[str], None] | None = None) -> None:
        self.sock = sock
        self.context = context
        self.handler = handler
        self.limits = limits
        self.on_error = on_error or (lambda kind: None)
        self.draining = False
        self._conns: set[_Conn] = set()
        self._accept_task: asyncio.Task[None] | None = None

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        self.sock.setblocking(False)
        self._accept_task = asyncio.current_task()
        while not self.draining:
            try:
                client, _ = await loop.sock_accept(self.sock)
            except asyncio.CancelledError:
                break
            except OSError as e:  # EMFILE and friends: log, back off a little, keep serving
                log.warning("accept failed: %s", e)
                await asyncio.sleep(0.05)
                continue
            if len(self._conns) >= self.limits.max_connections:
                self.on_error("too_many_connections")
                client.close()
                continue
            conn = _Conn()
            self._conns.add(conn)
            conn.task = asyncio.create_task(self._connection(client, conn))

    async def drain(self, grace: float) -> None:
        """Stop accepting, close idle connections, wait up to ``grace`` s for busy ones."""
        self.draining = True
        if self._accept_task is not None:
            self._accept_task.cancel()
        for conn in list(self._conns):
            if not conn.busy and conn.task is not None:
                conn.task.cancel()
        tasks = [c.task for c in self._conns if c.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for t in pending:
                t.cancel()

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    async def _connection(self, client: socket.socket, conn: _Conn) -> None:
        writer: asyncio.StreamWriter | None = None
        try:
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            first = await self._peek(client)
            if not first:
                return
            if first[0] != 0x16:  # not a TLS handshake record
                self.on_error("plain_http")
                _answer_plain(client)
                return
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader(limit=MAX_HEAD)
            protocol = asyncio.StreamReaderProtocol(reader)
            transport, _ = await loop.connect_accepted_socket(
                lambda: protocol, client, ssl=self.context(), ssl_handshake_timeout=self.limits.handshake_timeout)
            writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            await self._serve_http(reader, writer, conn)
        except (ssl.SSLError, ConnectionError, TimeoutError, OSError) as e:
            log.debug("connection ended: %s", e)
            if isinstance(e, ssl.SSLError):
                self.on_error("tls")
        except asyncio.CancelledError:
            pass
        finally:
            self._conns.discard(conn)
            if writer is not None:
                writer.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(writer.wait_closed(), 1.0)
            else:
                client.close()

    async def _peek(self, client: socket.socket) -> bytes:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(client.fileno(), wake)
        try:
            await asyncio.wait_for(ready, self.limits.handshake_timeout)
        finally:
            loop.remove_reader(client.fileno())
        return client.recv(1, socket.MSG_PEEK)

    async def _serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: _Conn) -> None:
        h = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        loop = asyncio.get_running_loop()
        while True:
            # Idle until a request's first byte arrives; from then on the whole request has a deadline.
            conn.busy = bool(h.trailing_data[0])
            deadline = loop.time() + self.limits.request_timeout if conn.busy else None
            method, path, body = "", "", bytearray()
            while True:
                try:
                    event = h.next_event()
                except h11.RemoteProtocolError as e:
                    self.on_error("bad_http")
                    await self._send_error(h, writer, e.error_status_hint, f"malformed HTTP request: {e}")
                    return
                if event is h11.NEED_DATA:
                    timeout = self.limits.idle_timeout if deadline is None else max(deadline - loop.time(), 0.0)
                    try:
                        data = await asyncio.wait_for(reader.read(65536), timeout)
                    except TimeoutError:
                        if conn.busy:
                            self.on_error("timeout")
                            await self._send_error(h, writer, 408, "request not received in time")
                        return
                    if deadline is None:
                        conn.busy = True
                        deadline = loop.time() + self.limits.request_timeout
                    h.receive_data(data)
                elif isinstance(event, h11.Request):
                    method = event.method.decode("ascii", "replace")
                    path = event.target.decode("ascii", "replace").split("?", 1)[0]
                    length = dict(event.headers).get(b"content-length")
                    if length is not None and length.isdigit() and int(length) > self.limits.max_body:
                        self.on_error("too_large")
                        await self._send_error(h, writer, 413, f"body exceeds {self.limits.max_body} bytes")
                        return
                elif isinstance(event, h11.Data):
                    if len(body) + len(event.data) > self.limits.max_body:
                        self.on_error("too_large")
                        await self._send_error(h, writer, 413, f"body exceeds {self.limits.max_body} bytes")
                        return
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:  # ConnectionClosed
                    return
            answered = self.handler(Request(method, path, bytes(body)))
            response = answered if isinstance(answered, Response) else await answered
            await self._send(h, writer, response, close=self.draining)
            if self.draining or h.our_state is not h11.DONE or h.their_state is not h11.DONE:
                return
            h.start_next_cycle()

    async def _send(self, h: h11.Connection, writer: asyncio.StreamWriter, response: Response,
                    close: bool = False) -> None:
        headers = [(b"content-type", response.content_type.encode()),
                   (b"content-length", str(len(response.body)).encode())]
        if close:
            headers.append((b"connection", b"close"))
        out = h.send(h11.Response(status_code=response.status, headers=headers))
        out = (out or b"") + (h.send(h11.Data(data=response.body)) or b"") + (h.send(h11.EndOfMessage()) or b"")
        writer.write(out)
        await writer.drain()

    async def _send_error(self, h: h11.Connection, writer: asyncio.StreamWriter, status: int, message: str) -> None:
        if h.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = orjson.dumps({"error": message}) + b"\n"
        with contextlib.suppress(Exception):
            await self._send(h, writer, Response(status, body), close=True)


def _answer_plain(client: socket.socket) -> None:
    """Tell a plain-HTTP client to use https, then close gracefully.

    The request bytes we only peeked at are read away first: closing a socket
    with unread data sends a reset, which can destroy our answer in flight.
    """
    with contextlib.suppress(OSError):
        client.send(PLAIN_HTTP_ANSWER)
        for _ in range(64):
            try:
                if not client.recv(65536):
                    break
            except BlockingIOError:
                break
        client.shutdown(socket.SHUT_WR)
