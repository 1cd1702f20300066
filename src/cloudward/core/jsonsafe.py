"""``json.loads`` for input we do not control: too-deep nesting is a ``JSONDecodeError``, not a crash.

The standard library's decoder recurses once per nesting level and raises
``RecursionError`` (a ``RuntimeError``) near Python's recursion limit: a
``[[[[…`` of a few thousand brackets in an SBOM, a Dockerfile's JSON-form
``RUN``, an audit event or a registry's manifest would escape every
``except ValueError`` that handles bad JSON and end in a traceback. Here it is
a ``json.JSONDecodeError`` (a ``ValueError``) like any other malformed JSON.
"""

from __future__ import annotations

import json
from typing import Any


class NestingError(json.JSONDecodeError):
    """JSON nested more deeply than the decoder can follow; it has no useful position, so none is shown."""

    def __str__(self) -> str:
        return self.msg


def loads(data: str | bytes | bytearray) -> Any:
    """Parse JSON as ``json.loads`` does; nesting deeper than Python can recurse raises ``NestingError``."""
    try:
        return json.loads(data)
    except RecursionError:
        raise NestingError("nested too deeply to parse (more levels than any real document has)", "", 0) from None
