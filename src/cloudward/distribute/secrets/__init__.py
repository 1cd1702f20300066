"""Secret detection: documented credential formats plus entropy-gated generic assignments.

``find_secrets(text, path)`` is pure, so the develop stage (manifests,
Dockerfiles) and the image scanner share it; matches carry the secret redacted.
"""

from cloudward.distribute.secrets.rules import RULES, SecretRule
from cloudward.distribute.secrets.scanner import SecretMatch, find_secrets, redact, shannon_entropy

__all__ = ["RULES", "SecretMatch", "SecretRule", "find_secrets", "redact", "shannon_entropy"]
