"""Where alerts go: JSON lines, an HTTPS webhook (retries + dead-letter file), Slack, syslog.

Every sink has ``send(alert)`` and ``close()``. The webhook sinks never lose an alert:
after ``retries`` failed attempts with exponential backoff the alert is appended to
the dead-letter file (one JSON object per line, fsynced) for replay. TLS is verified
against the system CAs or ``ca_file``; there is no switch to turn verification off.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

from cloudward.core.errors import InputError
from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.alerts.noise import RateLimiter, RateSummary
from cloudward.runtime.rules.model import Priority

log = logging.getLogger(__name__)


class Sink(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...

    def close(self) -> None: ...


class JsonLinesSink:
    """One alert per line (the ``to_dict`` form) to a file (appended) or standard output."""

    def __init__(self, target: str = "-") -> None:
        self.name = f"jsonl:{target}"
        self._own = target != "-"
        self._fh: IO[str] = open(target, "a", encoding="utf-8") if self._own else sys.stdout  # noqa: SIM115
        self._lock = threading.Lock()

    def send(self, alert: Alert) -> None:
        line = json.dumps(alert.to_dict(), ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._fh.write(line + "\n")
            self._fh.flush()

    def close(self) -> None:
        if self._own:
            self._fh.close()


class DeadLetter:
    """Append-only JSON lines file of alerts no sink could deliver; each write is fsynced."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.count = 0

    def write(self, alert: Alert, reason: str) -> None:
        rec = alert.to_dict() | {"dead_letter_reason": reason}
        data = (json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            self.count += 1


class WebhookSink:
    """POST each alert as JSON to an HTTPS (or loopback HTTP) URL; retry, then dead-letter."""

    def __init__(self, url: str, dead_letter: DeadLetter, *, retries: int = 4, backoff: float = 0.5,
                 timeout: float = 5.0, ca_file: str | None = None, headers: dict[str, str] | None = None,
                 rate_limit: RateLimiter | None = None, summary_window: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise InputError(f"webhook URL {url!r} must be https://host/...")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise InputError(f"webhook URL {url!r} is plain http; use https (plain http only for loopback)")
        self.name = f"webhook:{url}"
        self.url = url
        self.dead_letter = dead_letter
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "User-Agent": "cloudward-detect"} | (headers or {})
        self.rate_limit = rate_limit
        self.rate_summary = RateSummary(self.name, summary_window)
        self._lock = threading.Lock()
        self._ctx = ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None
        self.delivered = 0

    def payload(self, alert: Alert) -> dict[str, Any]:
        return alert.to_dict()

    def send(self, alert: Alert) -> None:
        """Deliver, unless the rate limit refuses: then the alert is counted in the window's summary record."""
        if self.rate_limit is not None:
            now = self.rate_limit.clock()
            with self._lock:
                summary = self.rate_summary.take() if self.rate_summary.due(now) else None
                allowed = self.rate_limit.allow()
                if not allowed:
                    self.rate_summary.add(alert, now)
            if summary is not None:
                self._deliver(summary)
            if not allowed:
                return
        self._deliver(alert)

    def _deliver(self, alert: Alert) -> None:
        body = json.dumps(self.payload(alert), ensure_ascii=False).encode()
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                req = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")  # noqa: S310
                with urllib.request.urlopen(req, timeout=self.timeout, context=self._ctx) as resp:  # noqa: S310
                    if 200 <= resp.status < 300:
                        self.delivered += 1
                        return
                    last = f"HTTP {resp.status}"
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}"
                if 400 <= e.code < 500 and e.code not in (408, 429):
                    break  # the receiver rejects this alert; retrying will not help
            except (urllib.error.URLError, OSError, ssl.SSLError) as e:
                last = str(getattr(e, "reason", e))
            log.info("%s: attempt %d failed: %s", self.name, attempt + 1, last)
        log.warning("%s: giving up after %d attempt(s) (%s); alert kept in %s", self.name, attempt + 1, last,
                    self.dead_letter.path)
        self.dead_letter.write(alert, f"{self.name}: {last}")

    def close(self) -> None:
        """Send the summary of alerts the rate limit held back in the last, unfinished window."""
        with self._lock:
            summary = self.rate_summary.take()
        if summary is not None:
            self._deliver(summary)


class SlackSink(WebhookSink):
    """A Slack-compatible incoming webhook: ``{"text": ...}`` with the rule, priority and output."""

    def payload(self, alert: Alert) -> dict[str, Any]:
        count = f" (x{alert.count})" if alert.count > 1 else ""
        techniques = ", ".join(alert.attack)
        text = f"*{alert.priority.value}* {alert.rule}{count}\n{alert.output}"
        if techniques:
            text += f"\nMITRE ATT&CK: {techniques}"
        return {"text": text}


_SYSLOG_SEVERITY = {Priority.EMERGENCY: 0, Priority.ALERT: 1, Priority.CRITICAL: 2, Priority.ERROR: 3,
                    Priority.WARNING: 4, Priority.NOTICE: 5, Priority.INFORMATIONAL: 6, Priority.DEBUG: 7}


class SyslogSink:
    """RFC 5424 messages over UDP or TCP (octet-counted framing, RFC 6587), facility local0."""

    def __init__(self, url: str, facility: int = 16) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("udp", "tcp") or not parts.hostname or not parts.port:
            raise InputError(f"syslog target {url!r} must be udp://host:port or tcp://host:port")
        self.name = f"syslog:{url}"
        self.facility = facility
        self._addr = (parts.hostname, parts.port)
        self._tcp = parts.scheme == "tcp"
        self._sock = socket.create_connection(self._addr, timeout=5) if self._tcp else \
            socket.socket(socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET, socket.SOCK_DGRAM)
        self._host = socket.gethostname() or "-"
        self._lock = threading.Lock()

    def format(self, alert: Alert) -> bytes:
        pri = self.facility * 8 + _SYSLOG_SEVERITY[alert.priority]
        ts = alert.time or "-"
        sd = f'[cloudward@32473 rule="{_sd(alert.rule)}" fingerprint="{alert.fingerprint}"]'
        return f"<{pri}>1 {ts} {self._host} cloudward - detect {sd} {alert.rule}: {alert.output}".encode()

    def send(self, alert: Alert) -> None:
        msg = self.format(alert)
        with self._lock:
            if self._tcp:
                self._sock.sendall(f"{len(msg)} ".encode() + msg)
            else:
                self._sock.sendto(msg, self._addr)

    def close(self) -> None:
        self._sock.close()


def _sd(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def make_sink(spec: str, *, dead_letter: str | None, ca_file: str | None = None, rate: str | None = None,
              retries: int = 4, backoff: float = 0.5) -> Sink:
    """``jsonl:PATH|-``, ``webhook:URL``, ``slack:URL``, ``syslog:udp://host:port``."""
    kind, _, target = spec.partition(":")
    limiter = _rate(rate) if rate else None
    if kind == "jsonl":
        return JsonLinesSink(target or "-")
    if kind in ("webhook", "slack"):
        if not dead_letter:
            raise InputError(f"sink {spec!r} needs --dead-letter FILE, so alerts it cannot deliver are kept")
        cls = SlackSink if kind == "slack" else WebhookSink
        return cls(target, DeadLetter(dead_letter), ca_file=ca_file, rate_limit=limiter, retries=retries,
                   backoff=backoff)
    if kind == "syslog":
        return SyslogSink(target)
    raise InputError(f"unknown sink {spec!r}; use jsonl:PATH, webhook:URL, slack:URL or syslog:udp://host:port")


def _rate(text: str) -> RateLimiter:
    """``10/s`` or ``600/m`` with burst equal to one second's (at least 1)."""
    num, _, unit = text.partition("/")
    try:
        n = float(num)
        per = {"s": 1.0, "m": 60.0, "h": 3600.0}[unit or "s"]
    except (ValueError, KeyError):
        raise InputError(f"invalid rate limit {text!r}; use e.g. 10/s or 600/m") from None
    return RateLimiter(n / per, max(1, int(n / per)))
