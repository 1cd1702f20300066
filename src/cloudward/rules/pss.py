"""Pod Security Standards, judged exactly as Pod Security Admission judges them.

Every PSS control is one rule (``pod.*``) whose ``controls.pss_level`` says
which profile it belongs to; Restricted is Baseline plus the Restricted rules.
``ctx.pss_version`` selects the behaviour PSA has at that policy version; see
docs/pss.md for the table of controls, allowed values and version changes.

PSA does not simply add Restricted checks to Baseline: some Restricted checks
*replace* a Baseline check from a given version (``OverrideCheckIDs`` in PSA's
registry). The replacement is stricter for every pod the API server accepts, so
running both only duplicates findings — except for Windows pods, where the
Restricted check is exempt from v1.25 and the Baseline one is not. Use
``pss_rules_for(level, version)`` to get PSA's exact set of checks.
"""

from __future__ import annotations

import dataclasses

from cloudward.core.model import PSSLevel
from cloudward.core.rules import PSSVersion, Rule
from cloudward.rules import pss_baseline_confinement, pss_baseline_host, pss_restricted

BASELINE_RULES: tuple[Rule, ...] = pss_baseline_host.RULES + pss_baseline_confinement.RULES

#: (restricted rule, baseline rule it replaces, first policy minor of the replacement), as in PSA.
PSS_OVERRIDES: tuple[tuple[str, str, int], ...] = (
    ("pod.volume-types", "pod.host-path", 0),
    ("pod.seccomp-restricted", "pod.seccomp-baseline", 19),
    ("pod.capabilities-restricted", "pod.capabilities-baseline", 22),
)

_REPLACES = {restricted: (baseline, minor) for restricted, baseline, minor in PSS_OVERRIDES}
RESTRICTED_RULES: tuple[Rule, ...] = tuple(
    dataclasses.replace(r, replaces=_REPLACES[r.id][0], replaces_since=_REPLACES[r.id][1]) if r.id in _REPLACES else r
    for r in pss_restricted.RULES
)
RULES: tuple[Rule, ...] = BASELINE_RULES + RESTRICTED_RULES


def pss_rules_for(level: PSSLevel, version: PSSVersion | None = None) -> tuple[Rule, ...]:
    """The rules PSA evaluates for ``level`` at ``version`` (default: latest).

    Privileged has no rules; Baseline has the Baseline rules; Restricted has the
    Restricted rules plus the Baseline rules they do not replace at ``version``.
    """
    version = version or PSSVersion()
    if level is PSSLevel.PRIVILEGED:
        return ()
    if level is PSSLevel.BASELINE:
        return BASELINE_RULES
    replaced = {baseline for _, baseline, minor in PSS_OVERRIDES if version.at_least(minor)}
    return tuple(r for r in BASELINE_RULES if r.id not in replaced) + RESTRICTED_RULES


__all__ = ["BASELINE_RULES", "PSS_OVERRIDES", "RESTRICTED_RULES", "RULES", "pss_rules_for"]
