"""Dockerfile rules: the final image's user, base images, health check and ports.

This module also gathers the other ``dockerfile_*`` rule modules into one
``RULES`` tuple, the only thing the registry imports. Rules about something
missing (no USER, no HEALTHCHECK) report the final stage's ``FROM`` line, the
place a reader looks for that stage; everything else reports the first line of
the offending instruction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.develop.dockerfile import Dockerfile, Stage, expand, split_words
from cloudward.rules.dockerfile_files import RULES as _FILE_RULES
from cloudward.rules.dockerfile_packages import CIS_DOCKER
from cloudward.rules.dockerfile_packages import RULES as _PACKAGE_RULES
from cloudward.rules.dockerfile_run import RULES as _RUN_RULES

_ROOT = frozenset({"root", "0"})
_PORT = re.compile(r"^(\d+)(?:-(\d+))?(?:/([A-Za-z]+))?$")
_SSH_PORT = 22


def _from_text(df: Dockerfile, stage: Stage) -> str:
    """The FROM image as written, with its ARG-substituted value when they differ."""
    written = split_words(stage.instructions[0].arguments)
    raw = written[0] if written else stage.base
    return raw if raw == stage.base else f"{raw} (= {stage.base})"


def _known_nonroot(df: Dockerfile, stage: Stage) -> bool:
    """Distroless ``nonroot`` tags set a non-root USER in the image config; nothing else is assumed."""
    root = df.lineage(stage)[-1]
    image = root.image
    return (image is not None and image.name.startswith("gcr.io/distroless/") and image.tag is not None
            and "nonroot" in image.tag)


def _check_user_root(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    final = df.final
    user = df.effective(final, "USER")
    if user is None:
        if not _known_nonroot(df, final):
            yield Violation(message=f"final stage (FROM {_from_text(df, final)}) sets no USER, so the container "
                                    "runs as root", line=final.from_line)
        return
    owner = df.stages[user.stage] if user.stage is not None else final
    value, resolved = expand(user.arguments.strip(), df.variables(owner, user.line))
    name = value.split(":", 1)[0].strip()
    if resolved and name in _ROOT:
        inherited = "" if user.stage == final.index else f" (inherited from stage {_stage_label(owner)})"
        written = user.arguments.strip()
        shown = written if written == value else f"{written} (= {value})"
        yield Violation(message=f"final stage runs as root: USER {shown}{inherited}", line=user.line)


def _stage_label(stage: Stage) -> str:
    return f'"{stage.name}"' if stage.name else str(stage.index)


def _check_latest(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    for stage in df.stages:
        image = stage.image
        if image is None or image.digest is not None:
            continue
        if image.tag is None:
            yield Violation(message=f"FROM {_from_text(df, stage)} has no tag, so it pulls whatever 'latest' is",
                            line=stage.from_line)
        elif image.tag == "latest":
            yield Violation(message=f"FROM {_from_text(df, stage)} uses the mutable 'latest' tag",
                            line=stage.from_line)


def _check_digest(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    for stage in df.stages:
        if stage.image is not None and stage.image.digest is None:
            yield Violation(message=f"FROM {_from_text(df, stage)} is not pinned by digest", line=stage.from_line)


def _check_healthcheck(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    final = df.final
    check = df.effective(final, "HEALTHCHECK")
    if check is None:
        yield Violation(message=f"final stage (FROM {_from_text(df, final)}) has no HEALTHCHECK",
                        line=final.from_line)
    elif check.arguments.strip().upper() == "NONE":
        yield Violation(message="HEALTHCHECK NONE disables the image's health check", line=check.line)


def _check_expose_ssh(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    for stage in reversed(df.shipped()):
        for ins in stage.instructions:
            if ins.keyword != "EXPOSE":
                continue
            variables = df.variables(stage, ins.line)
            for word in split_words(ins.arguments):
                port = _PORT.match(expand(word, variables)[0])
                if port is None:
                    continue
                low = int(port.group(1))
                high = int(port.group(2) or low)
                protocol = (port.group(3) or "tcp").lower()
                if protocol == "tcp" and low <= _SSH_PORT <= high:
                    yield Violation(message=f"EXPOSE {word} includes the SSH port 22", line=ins.line)


_OWN_RULES: tuple[Rule, ...] = (
    Rule(
        id="dockerfile.user-root",
        title="Image runs as root",
        severity=Severity.HIGH,
        target=Target.DOCKERFILE,
        check=_check_user_root,
        description="The final stage sets no USER (nor inherits one from the stage it is built FROM), or its last "
                    "USER is root or UID 0, so every container of the image runs as root unless the orchestrator "
                    "overrides it; a compromise of the application is then root in the container.",
        remediation="Create an unprivileged user and switch to it at the end of the final stage, e.g. "
                    "RUN useradd --uid 10001 app and USER 10001:10001.",
        references=(f"{CIS_DOCKER} 4.1: Ensure that a user for the container has been created",
                    "https://docs.docker.com/reference/dockerfile/#user"),
        controls=Controls(nist_800_190=("4.1.2",), attack=("T1611",)),
    ),
    Rule(
        id="dockerfile.base-image-latest",
        title="Base image uses the latest tag",
        severity=Severity.MEDIUM,
        target=Target.DOCKERFILE,
        check=_check_latest,
        description="A FROM without a tag, or with :latest, builds on whatever the tag points to that day: builds "
                    "are not reproducible and an unreviewed base (or a major-version jump) enters silently. scratch, "
                    "earlier build stages and digest-pinned references are not reported.",
        remediation="Name an explicit version tag, ideally with its digest: FROM python:3.12-slim@sha256:<digest>.",
        references=(f"{CIS_DOCKER} 4.2: Ensure that containers use only trusted base images",),
        controls=Controls(nist_800_190=("4.2.2",)),
    ),
    Rule(
        id="dockerfile.base-image-digest",
        title="Base image not pinned by digest",
        severity=Severity.LOW,
        target=Target.DOCKERFILE,
        check=_check_digest,
        description="Tags are mutable: the image behind python:3.12 changes with every rebuild upstream, and a "
                    "compromised registry account can repoint it. Only a digest names exact content.",
        remediation="Append the digest to the reference (FROM image:tag@sha256:<digest>) and let a bot such as "
                    "Renovate or Dependabot update it.",
        references=(f"{CIS_DOCKER} 4.2: Ensure that containers use only trusted base images",
                    "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions"),
        controls=Controls(nist_800_190=("4.1.5", "4.2.2"), attack=("T1525",)),
    ),
    Rule(
        id="dockerfile.missing-healthcheck",
        title="Image has no HEALTHCHECK",
        severity=Severity.LOW,
        target=Target.DOCKERFILE,
        check=_check_healthcheck,
        description="Without a HEALTHCHECK in the final stage (or inherited from the stage it is built FROM) the "
                    "engine cannot tell a hung container from a healthy one; HEALTHCHECK NONE counts as missing.",
        remediation="Add a HEALTHCHECK CMD that probes the service, e.g. HEALTHCHECK CMD [\"/app\", \"healthz\"], "
                    "or rely on orchestrator probes and suppress this rule with a reason.",
        references=(f"{CIS_DOCKER} 4.6: Ensure that HEALTHCHECK instructions have been added to container images",
                    "https://docs.docker.com/reference/dockerfile/#healthcheck"),
    ),
    Rule(
        id="dockerfile.expose-ssh",
        title="Image exposes the SSH port",
        severity=Severity.MEDIUM,
        target=Target.DOCKERFILE,
        check=_check_expose_ssh,
        description="EXPOSE 22 (or a TCP range covering it) in the final image suggests an SSH daemon in the "
                    "container: an extra remote entry point with its own credentials to manage.",
        remediation="Remove sshd and the EXPOSE; use docker exec / kubectl exec for access.",
        references=("CIS Docker Benchmark v1.6.0 5.6: Ensure sshd is not run within containers",
                    "https://attack.mitre.org/techniques/T1021/004/"),
        controls=Controls(nist_800_190=("4.1.2",), attack=("T1021.004",)),
    ),
)

RULES: tuple[Rule, ...] = (
    *_OWN_RULES,
    *_FILE_RULES,
    *_RUN_RULES,
    *_PACKAGE_RULES,
)
