"""Secrets in the files ``cloudward scan`` reads: the same scanner that searches image layers.

Every scanned file (manifests and Dockerfiles alike) is searched once for all
secret patterns; each pattern is its own rule (``secret.github-token``…), so it
can be disabled, re-rated or excepted like any other. Findings show the secret
redacted, never in full. Accept a known test credential with a config exception
(``rule`` + ``path``), or in a Dockerfile with ``# cloudward:ignore=<rule>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from cloudward.core.model import Controls, TextFile, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.distribute.secrets.rules import RULES as SECRET_RULES
from cloudward.distribute.secrets.rules import SecretRule
from cloudward.distribute.secrets.scanner import SecretMatch, find_secrets

_CONTROLS = Controls(
    nsa=("Use immutable containers; store secrets as Kubernetes Secrets, not in code or images",),
    nist_800_190=("4.1.4",),  # embedded clear text secrets
    attack=("T1552.001",),  # unsecured credentials: credentials in files
)


def _matches(file: TextFile) -> list[SecretMatch]:
    """All secrets in the file, found in one pass and shared by every secret rule."""
    found: list[SecretMatch] | None = file.derived.get("secrets")
    if found is None:
        found = file.derived["secrets"] = list(find_secrets(file.text, file.path))
    return found


def _check_for(rule_id: str) -> Callable[[TextFile, RuleContext], Iterator[Violation]]:
    def check(file: TextFile, ctx: RuleContext) -> Iterator[Violation]:
        for m in _matches(file):
            if m.rule_id == rule_id:
                yield Violation(f"{m.title} {m.redacted} in the file", line=m.line, column=m.column,
                                evidence=m.line_text)

    return check


def _rule(secret: SecretRule) -> Rule:
    return Rule(
        id=secret.id, title=f"{secret.title} in a file", severity=secret.severity, target=Target.TEXT,
        check=_check_for(secret.id),
        description=f"A {secret.title.lower()} is written into a file that is committed and shipped. Anyone who can "
        "read the repository, the rendered manifests or the image can use it.",
        remediation="Remove it from the file and its history, rotate the credential, and inject it at run time "
        "from a Secret mounted as a volume or a secret manager.",
        controls=_CONTROLS)


RULES: tuple[Rule, ...] = tuple(_rule(s) for s in SECRET_RULES)
