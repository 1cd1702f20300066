"""Rules about what goes into the image: ADD sources and secrets in ENV/ARG.

``ADD`` fetches URLs without verification unless given ``--checksum``, and
silently unpacks local archives, so ``COPY`` is the predictable choice for
plain files. ``ENV`` values live in the image configuration and build
arguments in its history, where anyone who can pull the image reads them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.develop.dockerfile import Dockerfile, Instruction, iter_instructions, parse_arg, parse_env
from cloudward.rules.dockerfile_packages import CIS_DOCKER

_URL = re.compile(r"^https?://", re.IGNORECASE)
_GIT = re.compile(r"(^git@|^git://|^ssh://|\.git(#.*)?$|\.git/?#)", re.IGNORECASE)
_ARCHIVE = re.compile(r"\.(tar|tar\.(gz|bz2|xz|zst|lz4)|tgz|tbz2?|txz|tzst)$", re.IGNORECASE)
_ONLY_VARIABLES = re.compile(r"^(\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*)+$")

_SECRET_WORDS = frozenset({"password", "passwd", "pass", "passphrase", "secret", "token", "apikey", "credential",
                           "credentials", "privatekey", "secretkey", "accesskey"})
_SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("auth", "key"),
                           ("master", "key"), ("encryption", "key"), ("signing", "key")})
# A last word like these names something about a secret (where it is, how long), not the secret itself.
_NOT_A_SECRET = frozenset({"file", "path", "dir", "url", "uri", "endpoint", "name", "id", "length", "len", "ttl",
                           "timeout", "expiry", "expires", "expiration", "type", "header", "env", "var", "prefix",
                           "location", "host", "port", "user", "username", "enabled", "enable", "mode", "policy",
                           "version", "size", "count", "format", "algorithm", "arn", "ref", "source", "days"})
_NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "0", "1", "none", "null", "enabled",
                                "disabled"})


def _sources(ins: Instruction) -> list[str]:
    words = ins.words()
    return [w for w in words[:-1] if not w.startswith("<<")] if len(words) >= 2 else []


def _check_add_url(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    for ins in iter_instructions(df, "ADD"):
        if ins.flag("checksum"):
            continue
        for src in _sources(ins):
            if _URL.match(src) and not _GIT.search(src):
                yield Violation(message=f'ADD downloads "{src}" without --checksum', line=ins.line)


def _check_add_local(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    for ins in iter_instructions(df, "ADD"):
        local = [s for s in _sources(ins)
                 if not _URL.match(s) and not _GIT.search(s) and "$" not in s and not _ARCHIVE.search(s)]
        if local:
            shown = ", ".join(f'"{s}"' for s in local)
            yield Violation(message=f"ADD copies local non-archive source {shown}; use COPY", line=ins.line)


def is_secret_name(name: str) -> bool:
    """True for names like DB_PASSWORD, apiKey, AWS_SECRET_ACCESS_KEY; false for TOKEN_URL or GPG_KEY."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    words = [w for w in re.split(r"[^a-z0-9]+", spaced) if w]
    if not words or words[-1] in _NOT_A_SECRET:
        return False
    return any(w in _SECRET_WORDS for w in words) or any(p in _SECRET_PAIRS for p in itertools.pairwise(words))


def _literal(value: str | None) -> bool:
    if value is None:
        return False
    value = value.strip()
    return bool(value) and not _ONLY_VARIABLES.match(value) and value.lower() not in _NOT_SECRET_VALUES


def _check_secret_values(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    for ins in df.instructions:
        if ins.keyword == "ENV":
            for name, value in parse_env(ins):
                if is_secret_name(name) and _literal(value):
                    yield Violation(message=f'ENV "{name}" sets a secret-looking value that ships in the image '
                                            "configuration", line=ins.line)
        elif ins.keyword == "ARG":
            for name, default in parse_arg(ins):
                if is_secret_name(name) and _literal(default):
                    yield Violation(message=f'ARG "{name}" has a secret-looking default that is recorded in the '
                                            "image history", line=ins.line)


def _check_secret_args(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    for ins in df.instructions:
        if ins.keyword != "ARG":
            continue
        for name, default in parse_arg(ins):
            if is_secret_name(name) and not _literal(default):
                yield Violation(message=f'ARG "{name}" passes a secret as a build argument; build arguments can '
                                        "be read from the image history and provenance", line=ins.line)


_SECRET_MOUNTS = "https://docs.docker.com/build/building/secrets/"  # noqa: S105 - a documentation URL

RULES: tuple[Rule, ...] = (
    Rule(
        id="dockerfile.add-url",
        title="ADD downloads a URL without a checksum",
        severity=Severity.MEDIUM,
        target=Target.DOCKERFILE,
        check=_check_add_url,
        description="ADD with an http(s) source downloads at build time without verifying what it got; a changed or "
                    "tampered file goes into the image unnoticed.",
        remediation="Add --checksum=sha256:<digest> to the ADD, or download with curl and verify with sha256sum -c "
                    "in the same RUN.",
        references=(f"{CIS_DOCKER} 4.9: Ensure that COPY is used instead of ADD in Dockerfiles",
                    "https://docs.docker.com/reference/dockerfile/#add---checksum"),
        controls=Controls(nist_800_190=("4.1.3",), attack=("T1195.002",)),
    ),
    Rule(
        id="dockerfile.add-instead-of-copy",
        title="ADD used for local files",
        severity=Severity.LOW,
        target=Target.DOCKERFILE,
        check=_check_add_local,
        description="ADD of a local file or directory does what COPY does but also unpacks anything that turns out "
                    "to be an archive; COPY states the intent and has no such surprise. ADD of a tar archive (for "
                    "its extraction) is not reported.",
        remediation="Use COPY for local files and directories.",
        references=(f"{CIS_DOCKER} 4.9: Ensure that COPY is used instead of ADD in Dockerfiles",
                    "https://docs.docker.com/build/building/best-practices/#add-or-copy"),
    ),
    Rule(
        id="dockerfile.secret-in-env",
        title="Secret value in ENV or ARG",
        severity=Severity.HIGH,
        target=Target.DOCKERFILE,
        check=_check_secret_values,
        description="An ENV or ARG whose name says it holds a password, token, secret or private/API key is given a "
                    "literal value: ENV values are stored in the image configuration and ARG values in its history, "
                    "readable by anyone who can pull the image.",
        remediation="Remove the value and rotate it; pass secrets at build time with RUN --mount=type=secret and at "
                    "run time from the orchestrator's secret store.",
        references=(f"{CIS_DOCKER} 4.10: Ensure secrets are not stored in Dockerfiles", _SECRET_MOUNTS,
                    "https://docs.docker.com/reference/build-checks/secrets-used-in-arg-or-env/"),
        controls=Controls(nist_800_190=("4.1.4",), attack=("T1552.001",)),
    ),
    Rule(
        id="dockerfile.secret-build-arg",
        title="Secret passed as a build argument",
        severity=Severity.MEDIUM,
        target=Target.DOCKERFILE,
        check=_check_secret_args,
        description="An ARG named like a password, token or key (without a literal default) expects the secret from "
                    "--build-arg; build argument values are visible in the image history and in provenance "
                    "attestations.",
        remediation="Use a secret mount instead: RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN ... and build "
                    "with --secret id=npm_token,env=NPM_TOKEN.",
        references=(f"{CIS_DOCKER} 4.10: Ensure secrets are not stored in Dockerfiles", _SECRET_MOUNTS,
                    "https://docs.docker.com/reference/build-checks/secrets-used-in-arg-or-env/"),
        controls=Controls(nist_800_190=("4.1.4",), attack=("T1552.001",)),
    ),
)
