"""Suppressions: inline annotations on the object authors write, and config exceptions.

Inline (when allowed): ``cloudward.io/ignore: "rule-id[,rule-id]"`` on the
object (everything in it) or on its pod template (findings inside the pod
spec), ``cloudward.io/ignore.<container-name>`` for one container, and
``cloudward.io/ignore-reason`` for the why. Rule ids may be globs (``pod.*``).
Config exceptions come from ``.cloudward.yaml``; an expired one stops
suppressing and is reported as a warning.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Mapping
from typing import Any

from cloudward.core.config import Exception_
from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import Suppression, SuppressionSource
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import pod_spec

IGNORE = "cloudward.io/ignore"
IGNORE_REASON = "cloudward.io/ignore-reason"


def _listed(value: Any, rule_id: str) -> bool:
    if not isinstance(value, str):
        return False
    return any(fnmatch.fnmatchcase(rule_id, r.strip()) for r in value.split(",") if r.strip())


def _from_annotations(annotations: Mapping[str, Any], rule_id: str, container: str | None) -> Suppression | None:
    reason = annotations.get(IGNORE_REASON)
    reason = reason if isinstance(reason, str) else None
    if _listed(annotations.get(IGNORE), rule_id):
        return Suppression(SuppressionSource.INLINE, reason)
    if container and _listed(annotations.get(f"{IGNORE}.{container}"), rule_id):
        return Suppression(SuppressionSource.INLINE, reason)
    return None


def _has_ignores(annotations: Mapping[str, Any]) -> bool:
    return any(isinstance(k, str) and k.startswith(IGNORE) for k in annotations)


def inline_suppression(obj: K8sObject, rule_id: str, path: JsonPath, container: str | None) -> Suppression | None:
    """The inline suppression that covers this finding, if any."""
    marked = obj.derived.get("ignores")
    if marked is None:  # once per object: most objects carry no ignore annotation at all
        pod = pod_spec(obj)
        marked = obj.derived["ignores"] = _has_ignores(obj.annotations) or (
            pod is not None and _has_ignores(pod.annotations))
    if not marked:
        return None
    found = _from_annotations(obj.annotations, rule_id, container)
    if found is not None:
        return found
    pod = pod_spec(obj)
    if pod is not None and obj.kind != "Pod" and tuple(path[: len(pod.path)]) == pod.path:
        return _from_annotations(pod.annotations, rule_id, container)
    return None


def config_suppression(exceptions: tuple[Exception_, ...], today: dt.date, rule_id: str, kind: str | None,
                       namespace: str | None, name: str | None, file: str,
                       container: str | None) -> tuple[Suppression | None, Exception_ | None]:
    """(suppression, expired exception that would have matched) for one finding."""
    expired: Exception_ | None = None
    for exc in exceptions:
        if not exc.matches(rule_id, kind, namespace, name, file, container):
            continue
        if exc.expired(today):
            expired = expired or exc
            continue
        return Suppression(SuppressionSource.CONFIG, exc.reason, exc.expires), None
    return None, expired
