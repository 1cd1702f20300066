"""The server's TLS context, rebuilt when the certificate or key changes on disk.

cert-manager (and kubelet's Secret volume updates) rotate certificates by
swapping files, usually through a ``..data`` symlink flip. ``CertReloader``
watches the (resolved) files' identity — inode, size, mtime — and builds a new
``SSLContext`` when it changes; connections already open keep their session,
new handshakes get the new certificate. A half-written pair (certificate and
key do not match yet) is not an outage: the old context stays until a check
finds a consistent pair.
"""

from __future__ import annotations

import logging
import os
import ssl
from pathlib import Path

from cloudward.core.errors import InputError

log = logging.getLogger(__name__)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """TLS 1.2+ with the library's secure defaults, HTTP/1.1 offered in ALPN (the API server speaks it)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


class CertReloader:
    """Holds the current context; ``check()`` reloads it when the files changed."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.cert = cert
        self.key = key
        try:
            self.context = server_context(cert, key)
        except FileNotFoundError as e:
            raise InputError(f"TLS file not found: {e.filename}; check --tls-cert/--tls-key") from e
        except (ssl.SSLError, OSError) as e:
            raise InputError(f"cannot load the TLS certificate and key: {e}; they must be a matching PEM pair",
                             file=str(cert)) from e
        self._stamp = self._identity()
        self.reloads = 0

    def _identity(self) -> tuple[tuple[int, int, int], ...]:
        out = []
        for p in (self.cert, self.key):
            try:
                st = os.stat(p)  # follows the ..data symlink of Secret volumes
                out.append((st.st_ino, st.st_size, st.st_mtime_ns))
            except OSError:
                out.append((0, 0, 0))
        return tuple(out)

    def check(self) -> bool:
        """Reload when the files changed; True when a new context is in use."""
        stamp = self._identity()
        if stamp == self._stamp:
            return False
        try:
            context = server_context(self.cert, self.key)
        except (ssl.SSLError, OSError) as e:
            log.warning("TLS certificate/key changed but cannot be loaded yet (%s); keeping the previous pair", e)
            return False
        self.context = context
        self._stamp = stamp
        self.reloads += 1
        log.info("reloaded TLS certificate from %s", self.cert)
        return True
