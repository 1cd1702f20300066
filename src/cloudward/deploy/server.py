"""The webhook server: routes, worker processes, certificate reload, graceful shutdown.

``AdmissionApp.handle`` is the thin adapter — decode, ``wire.answer`` (the same
path ``cloudward admission review`` takes), encode, count. ``serve()`` binds
one listening socket and either runs a single worker in-process or forks N
workers that share it (the kernel spreads connections); the parent restarts a
worker that dies and forwards SIGTERM/SIGINT. Each worker drains on SIGTERM:
``/readyz`` turns 503, idle keep-alive connections close, in-flight reviews
finish (up to ``shutdown_grace`` seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from cloudward.core.errors import OperationalError
from cloudward.core.rules import RuleRegistry
from cloudward.deploy.http import HttpsServer, Limits, Request, Response
from cloudward.deploy.metrics import Metrics
from cloudward.deploy.model import AdmissionRequest
from cloudward.deploy.namespaces import NamespaceStore
from cloudward.deploy.offload import GateOffload
from cloudward.deploy.policy import AdmissionPolicy
from cloudward.deploy.tls import CertReloader
from cloudward.deploy.wire import Answer, BadReview, parse_review

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class ServerSettings:
    tls_cert: Path
    tls_key: Path
    host: str = "0.0.0.0"  # noqa: S104 — a webhook must be reachable from the API server
    port: int = 8443
    workers: int = 1
    limits: Limits = Limits()
    shutdown_grace: float = 20.0
    reload_interval: float = 5.0


#: Where namespace labels come from: a loaded store (file), "cluster" (watch), or None (defaults only).
NamespaceSource = NamespaceStore | str | None


class AdmissionApp:
    """Routes one HTTP request; never raises (an unexpected error is a 500 without a traceback).

    ``handle`` answers at once, except for a review whose image gates must ask
    a registry: then it returns an awaitable that ``deploy.offload`` completes
    from its thread pool, so the event loop keeps answering other reviews.
    """

    def __init__(self, policy: AdmissionPolicy, namespaces: NamespaceStore | None, metrics: Metrics,
                 registry: RuleRegistry) -> None:
        self.policy = policy
        self.namespaces = namespaces
        self.metrics = metrics
        self.registry = registry
        self.draining = False
        self.offload = GateOffload(policy, namespaces, registry, metrics.gate_stats(),
                                   on_offload=lambda outcome: metrics.gate_offloaded.labels(outcome).inc())

    def ready(self) -> bool:
        return not self.draining and (self.namespaces is None or self.namespaces.synced)

    def handle(self, req: Request) -> Response | Awaitable[Response]:
        try:
            out = self._route(req)
        except Exception:  # noqa: BLE001 — a bug must not take the worker down or leak a traceback
            out = self._crashed(req)
        if isinstance(out, Response):
            self._count(req, out)
            return out
        return self._finish(req, out)

    async def _finish(self, req: Request, pending: Awaitable[Response]) -> Response:
        try:
            response = await pending
        except Exception:  # noqa: BLE001 — logged by _crashed
            response = self._crashed(req)
        self._count(req, response)
        return response

    def _crashed(self, req: Request) -> Response:
        log.exception("unexpected error handling %s %s", req.method, req.path)
        self.metrics.errors.labels("internal").inc()
        return Response(500, b'{"error": "internal error; see the webhook log"}\n')

    def _count(self, req: Request, response: Response) -> None:
        self.metrics.requests.labels(req.path if req.path in _ENDPOINTS else "other", str(response.status)).inc()

    def _route(self, req: Request) -> Response | Awaitable[Response]:
        if req.path in ("/validate", "/mutate"):
            if req.method != "POST":
                return _error(405, f"{req.path} accepts POST of an AdmissionReview")
            start = time.perf_counter()
            try:
                request = parse_review(req.body)
            except BadReview as e:
                return self._bad(e)
            mutate = req.path == "/mutate"
            if self.offload.pending(request):
                return self._offloaded(req.path, request, mutate, start)
            try:
                ans = self.offload.answer_inline(request, mutate)
            except BadReview as e:
                return self._bad(e)
            return self._answered(req.path, ans, start)
        if req.path == "/healthz":
            return Response(200, b"ok\n", "text/plain; charset=utf-8")
        if req.path == "/readyz":
            if self.ready():
                return Response(200, b"ok\n", "text/plain; charset=utf-8")
            why = b"draining\n" if self.draining else b"namespace cache not synced yet\n"
            return Response(503, why, "text/plain; charset=utf-8")
        if req.path == "/metrics":
            body, ctype = self.metrics.render()
            return Response(200, body, ctype)
        return _error(404, f"no such endpoint {req.path}; use /validate, /mutate, /healthz, /readyz or /metrics")

    async def _offloaded(self, path: str, request: AdmissionRequest, mutate: bool, start: float) -> Response:
        try:
            ans = await self.offload.answer(request, mutate)
        except BadReview as e:
            return self._bad(e)
        return self._answered(path, ans, start)

    def _answered(self, path: str, ans: Answer, start: float) -> Response:
        self.metrics.record(path.lstrip("/"), ans.decision, time.perf_counter() - start)
        return Response(200, ans.body)

    def _bad(self, e: BadReview) -> Response:
        self.metrics.errors.labels("bad_request").inc()
        return _error(400, str(e))


_ENDPOINTS = frozenset({"/validate", "/mutate", "/healthz", "/readyz", "/metrics"})


def _error(status: int, message: str) -> Response:
    return Response(status, orjson.dumps({"error": message}) + b"\n")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise OperationalError(f"cannot listen on {host}:{port}: {e.strerror}; choose another --port or --host") \
            from e
    sock.listen(1024)
    return sock


def serve(settings: ServerSettings, policy: AdmissionPolicy, namespaces: NamespaceSource,
          on_listening: Callable[[str, int], None] | None = None) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    reloader = CertReloader(settings.tls_cert, settings.tls_key)  # fail early, before forking
    sock = bind(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    if on_listening:
        on_listening(host, port)
    if settings.workers <= 1:
        return _worker(sock, settings, policy, namespaces, reloader)
    metrics_dir = tempfile.mkdtemp(prefix="cloudward-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        return _supervise(sock, settings, policy, namespaces, reloader)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _supervise(sock: socket.socket, settings: ServerSettings, policy: AdmissionPolicy,
               namespaces: NamespaceSource, reloader: CertReloader) -> int:
    children: set[int] = set()
    stopping = False

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 3
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                code = _worker(sock, settings, policy, namespaces, reloader)
            except BaseException:
                log.exception("worker %d failed", os.getpid())
            finally:
                os._exit(code)
        children.add(pid)

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(settings.workers):
        spawn()
    restarts: list[float] = []
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if stopping:
            continue
        restarts = [t for t in restarts if time.monotonic() - t < 60] + [time.monotonic()]
        log.error("worker %d exited (status %d); restarting it", pid, status)
        if len(restarts) > 5 * settings.workers:
            log.error("workers keep dying; giving up")
            stop(signal.SIGTERM, None)
            continue
        spawn()
    sock.close()
    return 0 if stopping else 3


def _worker(sock: socket.socket, settings: ServerSettings, policy: AdmissionPolicy, namespaces: NamespaceSource,
            reloader: CertReloader) -> int:
    return asyncio.run(_worker_main(sock, settings, policy, namespaces, reloader))


async def _worker_main(sock: socket.socket, settings: ServerSettings, policy: AdmissionPolicy,
                       namespaces: NamespaceSource, reloader: CertReloader) -> int:
    from cloudward.rules import builtin_rules

    store: NamespaceStore | None
    watcher = None
    if isinstance(namespaces, str):  # "cluster"
        from cloudward.deploy.watch import NamespaceWatcher

        store = NamespaceStore(synced=False)
        watcher = NamespaceWatcher(store)
        watcher.start()
    else:
        store = namespaces
    metrics = Metrics()
    app = AdmissionApp(policy, store, metrics, builtin_rules())
    server = HttpsServer(sock, lambda: reloader.context, app.handle, settings.limits,
                         on_error=lambda kind: metrics.errors.labels(kind).inc())
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(server.serve())
    reloading = asyncio.create_task(_reload_certs(reloader, metrics, settings.reload_interval))
    await stop.wait()
    app.draining = True
    log.info("draining: %d open connections", server.open_connections)
    await server.drain(settings.shutdown_grace)
    for task in (serving, reloading):
        task.cancel()
    await asyncio.gather(serving, reloading, return_exceptions=True)
    app.offload.close()
    if watcher is not None:
        watcher.stop()
    return 0


async def _reload_certs(reloader: CertReloader, metrics: Metrics, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        if reloader.check():
            metrics.cert_reloads.inc()
