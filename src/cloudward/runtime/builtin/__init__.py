"""cloudward's built-in audit rule pack: Falco rules YAML shipped as package data."""

from __future__ import annotations

from importlib.resources import files

PACK_NAME = "k8s_audit_builtin.yaml"


def builtin_rules_text() -> tuple[str, str]:
    """``(display_name, text)`` of the built-in pack, for ``load_rules``."""
    res = files(__name__) / PACK_NAME
    return f"<builtin>/{PACK_NAME}", res.read_text(encoding="utf-8")


__all__ = ["PACK_NAME", "builtin_rules_text"]
