"""Image rules: frozen metadata for SARIF and ``rules list``, plus pure checks over ``ImageFacts``.

Every rule has ``Target.IMAGE`` and no kinds: its check receives the image's
config and squashed filesystem view. Secret and malware rules are metadata only
(their scanners run inside the layer walk); the image scanner turns each
violation into a finding located at the path in the image and its layer.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.distribute.image import EntryKind, ImageConfig, SquashedView
from cloudward.distribute.secrets import RULES as SECRET_RULES

NIST_IMAGE = ("4.1.2",)  # SP 800-190 image configuration defects
_CURL_SH = re.compile(r"\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|da)?sh\b")
_CACHE_PREFIXES = ("var/cache/apt/archives/", "var/lib/apt/lists/", "var/cache/apk/", "root/.cache/pip/",
                   "var/cache/yum/", "var/cache/dnf/", "root/.npm/_cacache/")
_TMP_DIRS = ("tmp", "var/tmp", "dev/shm", "run/lock")


@dataclasses.dataclass(frozen=True, slots=True)
class ImageFacts:
    config: ImageConfig
    view: SquashedView


def _user_root(f: ImageFacts, _: RuleContext) -> Iterator[Violation]:
    user = f.config.user.split(":", 1)[0]
    if user in ("", "root", "0"):
        yield Violation("image runs as root" + ("" if f.config.user else " (no USER set)"))


def _no_healthcheck(f: ImageFacts, _: RuleContext) -> Iterator[Violation]:
    if f.config.healthcheck is None or f.config.healthcheck[:1] == ("NONE",):
        yield Violation("image defines no HEALTHCHECK")


def _ssh_server(f: ImageFacts, _: RuleContext) -> Iterator[Violation]:
    for path in ("usr/sbin/sshd", "usr/sbin/dropbear"):
        e = f.view.get(path)
        if e is not None and e.kind is EntryKind.FILE:
            yield Violation(f"SSH server {e.display_path} is installed (layer {e.layer})", subject=e)


def _setuid(f: ImageFacts, _: RuleContext) -> Iterator[Violation]:
    for e in f.view:
        if e.setuid:
            bits = "setuid" if e.mode & 0o4000 else "setgid"
            yield Violation(f"{bits} file {e.display_path} (mode {e.mode:o}) added in layer {e.layer}", subject=e)


def _world_writable(f: ImageFacts, _: RuleContext) -> Iterator[Violation]:
    for e in f.view:
        if e.world_writable and e.path not in _TMP_DIRS:
            yield Violation(f"world-writable {e.kind.value} {e.display_path} (mode {e.mode:o}) from layer {e.layer}",
                            subject=e)


def _package_cache(f: ImageFacts, _: RuleContext) -> Iterator[Violation]:
    counts: dict[str, tuple[int, str]] = {}
    for e in f.view:
        if e.kind is EntryKind.FILE and e.size > 0:
            for prefix in _CACHE_PREFIXES:
                if e.path.startswith(prefix) and not e.path.endswith(("/lock", "/partial")):
                    n, layer = counts.get(prefix, (0, e.layer))
                    counts[prefix] = (n + 1, layer)
    for prefix, (n, layer) in sorted(counts.items()):
        yield Violation(f"package manager cache /{prefix} left with {n} files (layer {layer})",
                        subject=("/" + prefix.rstrip("/"), layer))


def _curl_pipe_shell(f: ImageFacts, _: RuleContext) -> Iterator[Violation]:
    for i, h in enumerate(f.config.history):
        if _CURL_SH.search(h.created_by):
            yield Violation(f"history step {i} pipes a download into a shell: {h.created_by[:160]}", line=i + 1)


def _exposed_ssh(f: ImageFacts, _: RuleContext) -> Iterator[Violation]:
    for port in f.config.exposed_ports:
        if port.split("/")[0] == "22":
            yield Violation(f"image exposes SSH port {port}")


def _none(_subject: object, _ctx: RuleContext) -> Iterable[Violation]:
    return ()


def _rule(rid: str, title: str, sev: Severity, check: object, desc: str, fix: str,
          attack: tuple[str, ...] = ()) -> Rule:
    return Rule(id=rid, title=title, severity=sev, target=Target.IMAGE, check=check,  # type: ignore[arg-type]
                description=desc, remediation=fix, controls=Controls(nist_800_190=NIST_IMAGE, attack=attack))


HARDENING_RULES: tuple[Rule, ...] = (
    _rule("image.user-root", "Image runs as root", Severity.HIGH, _user_root,
          "The image config sets no USER, or USER root/0, so containers run as root unless the pod overrides it.",
          "Add USER with a non-root UID in the Dockerfile.", ("T1611",)),
    _rule("image.no-healthcheck", "No HEALTHCHECK", Severity.LOW, _no_healthcheck,
          "Without a HEALTHCHECK the runtime cannot tell a hung container from a healthy one.",
          "Add a HEALTHCHECK instruction (or rely on Kubernetes probes and accept this finding)."),
    _rule("image.ssh-server", "SSH server in the image", Severity.MEDIUM, _ssh_server,
          "An SSH daemon in a container is remote access that bypasses the orchestrator's exec and audit.",
          "Remove openssh-server; use kubectl exec or ephemeral debug containers.", ("T1021.004",)),
    _rule("image.setuid-binary", "setuid/setgid file", Severity.MEDIUM, _setuid,
          "setuid/setgid binaries are privilege-escalation paths inside the container.",
          "Remove the bit (chmod u-s,g-s) or the binary; run with allowPrivilegeEscalation: false.", ("T1548.001",)),
    _rule("image.world-writable", "World-writable file or directory", Severity.MEDIUM, _world_writable,
          "Files anyone can write let any process in the container tamper with code or config.",
          "chmod o-w the path in the Dockerfile; use the sticky bit for shared directories."),
    _rule("image.package-cache", "Package manager cache left in the image", Severity.LOW, _package_cache,
          "Caches grow the image and keep package indexes that date it; they are never needed at run time.",
          "Clean in the same RUN: rm -rf /var/lib/apt/lists/*, apk add --no-cache, pip --no-cache-dir."),
    _rule("image.curl-pipe-shell", "Download piped into a shell", Severity.HIGH, _curl_pipe_shell,
          "A build step ran a script straight from the network without verifying it.",
          "Download, verify a checksum or signature, then run.", ("T1195",)),
    _rule("image.expose-ssh", "SSH port exposed", Severity.MEDIUM, _exposed_ssh,
          "EXPOSE 22 suggests an SSH server is meant to be reachable.",
          "Remove EXPOSE 22 and the SSH server."),
)

SECRET_RULE_META: tuple[Rule, ...] = tuple(
    _rule(r.id, r.title, r.severity, _none, f"{r.title} found in an image file, its config or its history.",
          "Remove the secret from every layer (rebuild without it; deleting it in a later layer does not help), "
          "rotate it, and pass secrets at run time.", ("T1552.001",)) for r in SECRET_RULES)

MALWARE_RULES: tuple[Rule, ...] = (
    _rule("malware.known-bad-hash", "Known-bad file", Severity.CRITICAL, _none,
          "A file's SHA-256 is on the known-bad list.", "Rebuild from a trusted base; investigate the source."),
    _rule("malware.yara", "YARA rule match", Severity.HIGH, _none,
          "A file matches a malware YARA rule (crypto miner, reverse shell, or a user rule).",
          "Investigate the file and its layer's origin; rebuild from a trusted base.", ("T1496", "T1059")),
)
