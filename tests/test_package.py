"""The package's public surface and its behaviour at import time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cloudward.core
import cloudward.develop
import cloudward.k8s

ROOT = Path(__file__).resolve().parents[1]


def test_public_api_is_pinned() -> None:
    assert cloudward.develop.__all__ == ["scan"]
    assert set(cloudward.core.__all__) == {
        "CloudwardError", "ConfigError", "Controls", "Finding", "InputError", "JsonPath", "Location",
        "OperationalError", "PSSLevel", "PSSVersion", "Problem", "ProblemKind", "ResourceRef", "Rule",
        "RuleContext", "RuleRegistry", "Severity", "Suppression", "SuppressionSource", "Target", "TextFile",
        "Violation",
        "format_path"}
    assert set(cloudward.k8s.__all__) == {"POD_SPEC_PATHS", "WORKLOAD_KINDS", "Container", "K8sObject", "PodSpec",
                                          "as_dict", "as_list", "dig", "pod_spec"}


def test_importing_everything_has_no_side_effects() -> None:
    """No logging handlers, no config reads, and the top-level package stays light."""
    code = (
        "import logging, sys, pkgutil, importlib\n"
        "import cloudward\n"
        "assert 'yaml' not in sys.modules, 'import cloudward must not load PyYAML'\n"
        "for m in pkgutil.walk_packages(cloudward.__path__, 'cloudward.'):\n"
        "    if m.name != 'cloudward.__main__':\n"
        "        importlib.import_module(m.name)\n"
        "assert logging.getLogger().handlers == [], logging.getLogger().handlers\n"
        "assert logging.getLogger('cloudward').handlers == []\n"
        "print('ok')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT / "src"), "HOME": "/nonexistent"}, timeout=60)
    assert r.stdout.strip() == "ok", r.stderr


def test_every_rule_id_is_unique_and_slugged() -> None:
    from cloudward.rules import builtin_rules

    ids = builtin_rules().ids()
    assert len(ids) == len(set(ids))
    assert len(ids) >= 40
    prefixes = {i.split(".", 1)[0] for i in ids}
    allowed = {"pod", "k8s", "rbac", "service", "ingress", "netpol", "namespace", "dockerfile", "secret"}
    assert prefixes <= allowed, prefixes
