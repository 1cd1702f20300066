"""Kept-alive HTTP(S) connections to registries: a small per-host pool and pooled response bodies.

A verification makes several requests to one registry (manifest, signature tag,
signature blob); reusing the connection pays for one TCP/TLS handshake, not one
per request. A connection goes back to the pool only once its response was read
to the end; anything else closes it.
"""

from __future__ import annotations

import http.client
import io
import ssl
import threading
from typing import IO, Any

_MAX_IDLE_PER_HOST = 4
_DRAIN_LIMIT = 64 * 1024  # read at most this much of an unread body to keep its connection; else close it


class Pool:
    """Idle HTTP/1.1 connections per (scheme, host:port), so one TCP/TLS connection serves many requests.

    A connection goes back to the pool only when its response was read to the end
    (``Body.close``); one in use is never shared. The lock makes the client safe
    to use from several threads, each with its own connection.
    """

    def __init__(self, context: ssl.SSLContext | None, timeout: float) -> None:
        self._context = context
        self._timeout = timeout
        self._idle: dict[tuple[str, str], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._closed = False  # a body closed after its client went away must not park its connection

    def get(self, scheme: str, netloc: str) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get((scheme, netloc))
            if idle:
                return idle.pop(), True
        if scheme == "https":
            return http.client.HTTPSConnection(netloc, timeout=self._timeout, context=self._context), False
        return http.client.HTTPConnection(netloc, timeout=self._timeout), False

    def put(self, scheme: str, netloc: str, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault((scheme, netloc), [])
            if not self._closed and len(idle) < _MAX_IDLE_PER_HOST:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for c in conns:
            c.close()


class Body(io.RawIOBase):
    """A response body; closing it returns the connection to the pool if the body was fully read."""

    def __init__(self, resp: http.client.HTTPResponse, conn: http.client.HTTPConnection, pool: Pool,
                 key: tuple[str, str]) -> None:
        super().__init__()
        self._resp, self._conn, self._pool, self._key = resp, conn, pool, key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._resp.readinto(buffer)

    def read(self, size: int | None = -1) -> bytes:
        return self._resp.read(None if size is None or size < 0 else size)

    def close(self) -> None:
        if self.closed:
            return
        try:
            resp = self._resp
            if not resp.isclosed() and resp.length is not None and resp.length <= _DRAIN_LIMIT:
                resp.read()
            if resp.isclosed() and not resp.will_close:
                self._pool.put(*self._key, self._conn)
            else:
                self._conn.close()
        except (OSError, http.client.HTTPException):
            self._conn.close()
        finally:
            super().close()


class Response:
    def __init__(self, status: int, headers: Any, body: IO[bytes]) -> None:
        self.status = status
        self.headers = headers
        self.body = body
