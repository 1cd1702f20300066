"""Namespace labels → the policy for that namespace, with Pod Security Admission's semantics.

PSA reads ``pod-security.kubernetes.io/<mode>`` (a level) and
``pod-security.kubernetes.io/<mode>-version`` (``v1.N`` or ``latest``) for the
modes enforce, warn and audit; a mode without a label keeps the default. A label
that does not parse is not ignored: an invalid enforce level enforces
``restricted`` (fail closed), invalid warn/audit levels become ``privileged``
(fail open), and an invalid version means ``latest`` — exactly
``PolicyToEvaluate`` in k8s.io/pod-security-admission/api.

cloudward adds one label of its own, ``cloudward.io/rules-mode``, that sets the
default mode of the non-PSS rules for the namespace (enforce, warn, audit, off).

``NamespaceStore`` holds the labels of every known namespace. It is filled from
a ``kubectl get ns -o yaml`` dump (offline) or by the watch in ``watch.py``
(in a cluster); ``apply_event`` is the watch's pure step, tested with recorded
events.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cloudward.core.errors import InputError
from cloudward.core.model import PSSLevel
from cloudward.core.rules import PSSVersion
from cloudward.deploy.model import Mode
from cloudward.deploy.policy import PSSModePolicy, PSSPolicy

PSA_PREFIX = "pod-security.kubernetes.io/"
RULES_MODE_LABEL = "cloudward.io/rules-mode"


@dataclasses.dataclass(frozen=True, slots=True)
class NamespacePolicy:
    """The effective policy of one namespace and the label problems found on the way."""

    pss: PSSPolicy
    rules_mode: Mode | None = None
    errors: tuple[str, ...] = ()


def policy_for_labels(labels: Mapping[str, Any] | None, defaults: PSSPolicy) -> NamespacePolicy:
    """PSA's ``PolicyToEvaluate`` plus cloudward's rules-mode label."""
    if not labels:
        return NamespacePolicy(defaults)
    errors: list[str] = []
    modes: dict[str, PSSModePolicy] = {}
    for mode, current in (("enforce", defaults.enforce), ("warn", defaults.warn), ("audit", defaults.audit)):
        level, version = current.level, current.version
        raw_level = labels.get(PSA_PREFIX + mode)
        if raw_level is not None:
            try:
                level = PSSLevel(str(raw_level))
            except ValueError:
                errors.append(f"{PSA_PREFIX}{mode}={raw_level!r} is not a level")
                level = PSSLevel.RESTRICTED if mode == "enforce" else PSSLevel.PRIVILEGED
        raw_version = labels.get(f"{PSA_PREFIX}{mode}-version")
        if raw_version is not None:
            try:
                version = PSSVersion.parse(str(raw_version))
            except ValueError:
                errors.append(f"{PSA_PREFIX}{mode}-version={raw_version!r} is not a version")
                version = PSSVersion()
        modes[mode] = PSSModePolicy(level, version)
    rules_mode: Mode | None = None
    raw_mode = labels.get(RULES_MODE_LABEL)
    if raw_mode is not None:
        try:
            rules_mode = Mode.parse(str(raw_mode))
        except ValueError:
            errors.append(f"{RULES_MODE_LABEL}={raw_mode!r} is not a mode")
    return NamespacePolicy(PSSPolicy(**modes), rules_mode, tuple(errors))


class NamespaceStore:
    """Labels by namespace name; safe to read from the event loop while a watch thread writes.

    Writes replace whole entries (one dict assignment, atomic under the GIL);
    ``replace_all`` swaps the mapping in one step after a (re)list.
    """

    def __init__(self, labels: Mapping[str, Mapping[str, str]] | None = None, *, synced: bool = True) -> None:
        self._labels: dict[str, dict[str, str]] = {k: dict(v) for k, v in (labels or {}).items()}
        self._synced = threading.Event()
        if synced:
            self._synced.set()
        self.resource_version: str | None = None

    def labels(self, namespace: str) -> dict[str, str] | None:
        """The labels of ``namespace``, or ``None`` when it is not known (yet)."""
        return self._labels.get(namespace)

    def names(self) -> list[str]:
        return sorted(self._labels)

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def wait_synced(self, timeout: float) -> bool:
        return self._synced.wait(timeout)

    def replace_all(self, namespaces: Iterable[dict[str, Any]], resource_version: str | None = None) -> None:
        fresh: dict[str, dict[str, str]] = {}
        for ns in namespaces:
            name, labels = _name_labels(ns)
            if name:
                fresh[name] = labels
        self._labels = fresh
        self.resource_version = resource_version
        self._synced.set()

    def apply_event(self, event: Mapping[str, Any]) -> bool:
        """Apply one watch event (``{"type": ..., "object": {...}}``); False when a relist is needed.

        ``ERROR`` events (e.g. 410 Gone: the resource version is too old) and
        unknown types ask the caller to list again; ``BOOKMARK`` only moves the
        resource version.
        """
        kind = event.get("type")
        obj = event.get("object")
        if not isinstance(obj, dict):
            return False
        rv = obj.get("metadata", {}).get("resourceVersion") if isinstance(obj.get("metadata"), dict) else None
        if kind in ("ADDED", "MODIFIED"):
            name, labels = _name_labels(obj)
            if name:
                self._labels[name] = labels
        elif kind == "DELETED":
            name, _ = _name_labels(obj)
            self._labels.pop(name, None)
        elif kind != "BOOKMARK":
            return False
        if isinstance(rv, str) and rv:
            self.resource_version = rv
        return True


def _name_labels(obj: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    md = obj.get("metadata")
    if not isinstance(md, dict):
        return "", {}
    name = md.get("name")
    labels = md.get("labels")
    clean = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
    return (name if isinstance(name, str) else ""), clean


def load_namespaces(path: Path) -> NamespaceStore:
    """Namespaces from ``kubectl get ns -o yaml`` (or ``-o json``, or Namespace manifests)."""
    from cloudward.k8s.loader import iter_documents
    from cloudward.k8s.object import K8sObject

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read namespaces file: {e}; give a 'kubectl get ns -o yaml' dump",
                         file=str(path)) from e
    found: list[dict[str, Any]] = []
    for item in iter_documents(text, str(path), json_fallback=str(path).endswith(".json")):
        if isinstance(item, InputError):
            raise item
        if isinstance(item, K8sObject):
            if item.kind != "Namespace":
                raise InputError(f"expected Namespace objects, found kind {item.kind or '(none)'}; give the "
                                 "output of 'kubectl get ns -o yaml'", file=str(path), line=item.line)
            found.append(item.data)
    store = NamespaceStore()
    store.replace_all(found)
    return store
