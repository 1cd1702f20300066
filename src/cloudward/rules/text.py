"""How rule messages show containers and manifest values, so every rule words them alike."""

from __future__ import annotations

import json
from typing import Any

from cloudward.k8s.workloads import Container

_CONTAINER_LABELS = {
    "containers": "container",
    "initContainers": "init container",
    "ephemeralContainers": "ephemeral container",
}


def who(container: Container) -> str:
    """``container "app"`` / ``init container "setup"``: how messages name a container."""
    return f'{_CONTAINER_LABELS.get(container.field, "container")} "{container.name}"'


def show(value: Any) -> str:
    """A manifest value rendered the way it would be written in JSON (``true``, ``"x"``, ``0``)."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)
