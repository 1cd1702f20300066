"""Namespace labels from the cluster: list, then watch, through the official Kubernetes client.

RBAC needed: get/list/watch on namespaces, nothing else. The loop is the
standard informer pattern: list (sets the store and its resourceVersion, and
marks it synced so ``/readyz`` turns ready), watch from that version, apply each
event (``NamespaceStore.apply_event``), and list again when the watch ends with
an error such as 410 Gone. Failures back off exponentially up to 30 s; the last
known labels keep serving meanwhile.

The client is imported lazily: ``cloudward admission review`` and the offline
``--namespaces FILE`` mode never need it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson

from cloudward.core.errors import OperationalError
from cloudward.deploy.namespaces import NamespaceStore

log = logging.getLogger(__name__)


def load_cluster_config(kubeconfig: str | None = None) -> None:
    """In-cluster config when running in a pod, else kubeconfig; a clear error when neither works."""
    try:
        from kubernetes import config
    except ImportError as e:  # pragma: no cover - the dependency is declared
        raise OperationalError("the 'kubernetes' package is needed to watch namespaces; install it, or give "
                               "--namespaces FILE") from e
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
        return
    except config.ConfigException:
        pass
    try:
        config.load_kube_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    except (config.ConfigException, OSError, TypeError) as e:
        raise OperationalError(f"no cluster access for the namespace watch: not in a pod, and kubeconfig failed "
                               f"({e}); give --namespaces FILE (a 'kubectl get ns -o yaml' dump) or "
                               "--namespaces none to run offline") from e


class NamespaceWatcher:
    """Keeps ``store`` in sync with the cluster's namespaces from a daemon thread."""

    def __init__(self, store: NamespaceStore, kubeconfig: str | None = None) -> None:
        self.store = store
        self.kubeconfig = kubeconfig
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="namespace-watch", daemon=True)

    def start(self) -> None:
        load_cluster_config(self.kubeconfig)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        from kubernetes import client, watch

        api = client.CoreV1Api()
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._list(api)
                backoff = 0.5
                self._watch(api, watch.Watch())  # type: ignore[no-untyped-call]
            except Exception as e:  # noqa: BLE001 — any failure: keep the last labels, back off, relist
                log.warning("namespace watch failed (%s); retrying in %.1f s", e, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _list(self, api: Any) -> None:
        resp = api.list_namespace(_preload_content=False, _request_timeout=30)
        doc = orjson.loads(resp.data)
        items = doc.get("items") or []
        rv = (doc.get("metadata") or {}).get("resourceVersion")
        self.store.replace_all(items, rv)
        log.info("namespace cache synced: %d namespaces at resourceVersion %s", len(items), rv)

    def _watch(self, api: Any, w: Any) -> None:
        for event in w.stream(api.list_namespace, resource_version=self.store.resource_version,
                              timeout_seconds=300, allow_watch_bookmarks=True):
            if self._stop.is_set():
                w.stop()
                return
            raw = {"type": event.get("type"), "object": event.get("raw_object")}
            if not self.store.apply_event(raw):
                log.info("namespace watch asked for a relist (%s)", event.get("type"))
                w.stop()
                return
