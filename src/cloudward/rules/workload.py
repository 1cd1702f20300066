"""Workload hardening rules beyond the Pod Security Standards, gathered in one tuple.

The rules live in themed modules (resources and probes, images, hardening,
identity, hostPath, ports); this module is the single place the registry takes them from.
"""

from __future__ import annotations

from cloudward.core.rules import Rule
from cloudward.rules import (
    workload_hardening,
    workload_hostpath,
    workload_identity,
    workload_images,
    workload_ports,
    workload_resources,
)

RULES: tuple[Rule, ...] = (
    workload_resources.RULES + workload_images.RULES + workload_hardening.RULES + workload_identity.RULES
    + workload_hostpath.RULES + workload_ports.RULES
)
