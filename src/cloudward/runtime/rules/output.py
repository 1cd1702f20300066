"""Falco output templates: ``%field`` placeholders rendered from the event.

A missing value renders as ``<NA>`` and a list field as ``(a,b)``, as Falco prints
them; the template is split once at load time into literal text and extractors.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from cloudward.core.errors import InputError
from cloudward.runtime.rules.fields import Extractor, FieldSpec, Value
from cloudward.runtime.rules.model import Where

_PLACEHOLDER = re.compile(r"%(\(?)([A-Za-z_][A-Za-z0-9_.]*)(\[[^\]]*\])?")
NA = "<NA>"


@dataclasses.dataclass(frozen=True, slots=True)
class OutputTemplate:
    """Literal pieces and (display name, extractor) pairs, in order."""

    parts: tuple[str | tuple[str, Extractor], ...]

    def render(self, ev: dict[str, Any]) -> str:
        out: list[str] = []
        for p in self.parts:
            out.append(p if isinstance(p, str) else format_value(p[1](ev)))
        return "".join(out)

    def render_fields(self, ev: dict[str, Any]) -> tuple[str, dict[str, Value]]:
        """The rendered text and the placeholders' values, extracting each field once."""
        out: list[str] = []
        fields: dict[str, Value] = {}
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
            else:
                v = p[1](ev)
                fields[p[0]] = v
                out.append(format_value(v))
        return "".join(out), fields

    def fields(self, ev: dict[str, Any]) -> dict[str, str | list[str] | None]:
        """The placeholders' values, as Falco's ``output_fields`` (missing ones are ``None``)."""
        return {p[0]: p[1](ev) for p in self.parts if not isinstance(p, str)}


def format_value(v: Value) -> str:
    if v is None:
        return NA
    if isinstance(v, list):
        return "(" + ",".join(v) + ")"
    return v


def compile_output(text: str, fields: dict[str, FieldSpec], where: Where,
                   extractor: Callable[[str, str | None, Where], tuple[FieldSpec, Extractor]]) -> OutputTemplate:
    """Split ``text`` at each ``%field``; the longest known field name wins (``%ka.target.name.`` ends a sentence)."""
    parts: list[str | tuple[str, Extractor]] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        paren, name, arg = m.group(1), m.group(2), m.group(3)
        end = m.end()
        if paren:  # %(field) is not Falco syntax for plugin fields; keep it literal
            continue
        while name not in fields and "." in name:
            name = name.rsplit(".", 1)[0]
            arg = None
            end = m.start() + 1 + len(name)
        if name not in fields:
            raise InputError(f"output names unknown field %{m.group(2)}; see docs/detect.md for the k8s_audit fields",
                             file=where.file, line=where.line)
        if m.start() > pos:
            parts.append(text[pos:m.start()])
        arg_text = arg[1:-1] if arg else None
        _, get = extractor(name, arg_text, where)
        parts.append((name + (arg or ""), get))
        pos = end
    if pos < len(text):
        parts.append(text[pos:])
    return OutputTemplate(tuple(parts))
