"""Secret rules: well-known credential formats, each with cheap keywords that gate the regex.

Patterns follow the token formats the issuers document (AWS key ids, GitHub
``ghp_``/``github_pat_``, Slack ``xox?-``, Stripe ``sk_live_``…). ``keywords`` are
lower-case substrings that must occur in the text before the regex runs, which
keeps a full-image scan fast.
"""

from __future__ import annotations

import dataclasses
import re

from cloudward.core.severity import Severity


@dataclasses.dataclass(frozen=True, slots=True)
class SecretRule:
    id: str
    title: str
    severity: Severity
    pattern: re.Pattern[str]
    keywords: tuple[str, ...]
    group: int = 0  # the regex group that is the secret itself
    min_entropy: float = 0.0


def _r(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


RULES: tuple[SecretRule, ...] = (
    SecretRule("secret.aws-access-key-id", "AWS access key ID", Severity.CRITICAL,
               _r(r"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-9])"), ("akia", "asia", "abia", "acca"),
               1),
    SecretRule("secret.aws-secret-access-key", "AWS secret access key", Severity.CRITICAL,
               _r(r"(?i)aws_?(?:secret)?_?(?:access)?_?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),
               ("aws",), 1),
    SecretRule("secret.private-key", "Private key", Severity.HIGH,
               _r(r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"), ("private key",)),
    SecretRule("secret.github-token", "GitHub token", Severity.CRITICAL,
               _r(r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82})\b"),
               ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), 1),
    SecretRule("secret.gitlab-token", "GitLab personal access token", Severity.CRITICAL,
               _r(r"\b(glpat-[A-Za-z0-9_-]{20,})"), ("glpat-",), 1),
    SecretRule("secret.slack-token", "Slack token", Severity.HIGH,
               _r(r"\b(xox[baprs]-[A-Za-z0-9-]{10,250})"), ("xox",), 1),
    SecretRule("secret.slack-webhook", "Slack incoming webhook", Severity.MEDIUM,
               _r(r"(https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,})"),
               ("hooks.slack.com",), 1),
    SecretRule("secret.stripe-key", "Stripe live secret key", Severity.CRITICAL,
               _r(r"\b((?:sk|rk)_live_[A-Za-z0-9]{24,99})\b"), ("_live_",), 1),
    SecretRule("secret.google-api-key", "Google API key", Severity.HIGH,
               _r(r"\b(AIza[0-9A-Za-z_-]{35})"), ("aiza",), 1),
    SecretRule("secret.npm-token", "npm access token", Severity.CRITICAL,
               _r(r"\b(npm_[A-Za-z0-9]{36})\b"), ("npm_",), 1),
    SecretRule("secret.pypi-token", "PyPI upload token", Severity.CRITICAL,
               _r(r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})"), ("pypi-ageichlwas5vcmc",), 1),
    SecretRule("secret.sendgrid-key", "SendGrid API key", Severity.HIGH,
               _r(r"\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})\b"), ("sg.",), 1),
    SecretRule("secret.jwt", "JSON Web Token", Severity.MEDIUM,
               _r(r"\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"), ("eyj",), 1),
    SecretRule("secret.password-in-url", "Password in URL", Severity.HIGH,
               _r(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^/\s:@\"']{1,64}:([^/\s:@\"']{3,128})@[A-Za-z0-9.-]+"),
               ("://",), 1, 2.5),
    SecretRule("secret.generic-assignment", "Hard-coded secret", Severity.MEDIUM,
               _r(r"(?i)\b(?:password|passwd|secret|api_?key|access_?token|auth_?token|client_?secret)[\"']?\s*"
                  r"[:=]\s*[\"']([^\s\"']{12,200})[\"']"),
               ("password", "passwd", "secret", "key", "token"), 1, 3.5),
)
