"""cloudward's built-in rules, registered in one place.

Each module holds one theme and exposes ``RULES``; ``builtin_rules`` is the only
place they are collected, so nothing registers itself as an import side effect
and a duplicate id fails loudly.
"""

from __future__ import annotations

from cloudward.core.rules import RuleRegistry

__all__ = ["builtin_rules"]


def builtin_rules() -> RuleRegistry:
    """A fresh registry with every built-in rule, in documentation order."""
    from cloudward.rules import crossobject, dockerfile, namespaces, network, pss, rbac, secrets, workload

    registry = RuleRegistry()
    for module in (pss, workload, network, rbac, crossobject, namespaces, dockerfile, secrets):
        for rule in module.RULES:
            registry.register(rule)
    return registry
