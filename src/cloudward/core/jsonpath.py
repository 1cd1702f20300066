"""JSON paths: tuples of keys and indexes, rendered as RFC 9535 normalized-ish paths."""

from __future__ import annotations

import functools
import re

JsonPath = tuple[str | int, ...]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.lru_cache(maxsize=8192)
def format_path(path: JsonPath) -> str:
    """Render ``("spec", "containers", 0, "image")`` as ``$.spec.containers[0].image``."""
    parts = ["$"]
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _IDENT.match(step):
            parts.append(f".{step}")
        else:
            escaped = step.replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"['{escaped}']")
    return "".join(parts)
