"""The admission policy: what the webhook denies, warns about and records, and for whom.

It lives in the same ``.cloudward.yaml`` that ``cloudward scan`` reads, so the
rule choices (``rules.disable``/``enable_only``/``severity``), exceptions with
reasons and expiry, ``pss_version`` and ``inline_suppressions`` are shared; the
admission-only settings sit under an ``admission:`` key::

    admission:
      failure_mode: closed            # or open: what an internal error answers
      pss:                            # for namespaces without pod-security.kubernetes.io labels
        enforce: baseline
        warn: restricted
        audit: restricted
      rules:                          # every non-PSS rule: default mode + per-rule modes (globs)
        default: warn
        enforce: [pod.image-tag-latest]
        audit: [pod.liveness-probe]
        off: []
      exemptions:                     # as Pod Security Admission: nothing is evaluated
        namespaces: [kube-system]
        usernames: []
        runtime_classes: []
      images:                         # gates: configured means enforced
        allowed_registries: [registry.example.com, ghcr.io/acme/]
        require_digest: true
      registry: {...}                 # signature and vulnerability gates: see deploy/gateconfig.py
      signatures: {...}
      vulnerabilities: {...}

``core.config`` parses the shared keys and hands the ``admission`` section over
as a YAML node (``Config.section``), so every error here names the real line.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from pathlib import Path
from typing import Any

import yaml

from cloudward.core.config import Config, load_config, parse_config
from cloudward.core.errors import ConfigError
from cloudward.core.model import PSSLevel
from cloudward.core.rules import PSSVersion
from cloudward.deploy.confignodes import NodeParser
from cloudward.deploy.gateconfig import (
    RegistryAccess,
    SignatureGate,
    VulnerabilityGate,
    parse_registry,
    parse_signatures,
    parse_vulnerabilities,
)
from cloudward.deploy.model import FailureMode, Mode

_ADMISSION_KEYS = {"failure_mode", "pss", "rules", "exemptions", "images", "registry", "signatures",
                   "vulnerabilities"}
_PSS_KEYS = {"enforce", "enforce_version", "warn", "warn_version", "audit", "audit_version"}
_RULES_KEYS = {"default", "enforce", "warn", "audit", "off"}
_EXEMPT_KEYS = {"namespaces", "usernames", "runtime_classes"}
_IMAGES_KEYS = {"allowed_registries", "require_digest"}
@dataclasses.dataclass(frozen=True, slots=True)
class PSSModePolicy:
    """One PSA mode's level and version (``pod-security.kubernetes.io/<mode>[-version]``)."""

    level: PSSLevel = PSSLevel.PRIVILEGED
    version: PSSVersion = PSSVersion()

    def display(self) -> str:
        return f"{self.level.value}:{self.version}"


@dataclasses.dataclass(frozen=True, slots=True)
class PSSPolicy:
    """Pod Security Admission's three modes for one namespace."""

    enforce: PSSModePolicy = PSSModePolicy()
    warn: PSSModePolicy = PSSModePolicy()
    audit: PSSModePolicy = PSSModePolicy()

    def modes(self) -> tuple[tuple[Mode, PSSModePolicy], ...]:
        return ((Mode.ENFORCE, self.enforce), (Mode.WARN, self.warn), (Mode.AUDIT, self.audit))


@dataclasses.dataclass(frozen=True, slots=True)
class Exemptions:
    """Requests that are not evaluated at all, as Pod Security Admission's exemptions (exact names)."""

    namespaces: frozenset[str] = frozenset()
    usernames: frozenset[str] = frozenset()
    runtime_classes: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True, slots=True)
class ImageGates:
    """Image gates; a configured gate enforces (denies) unless its rule is given another mode."""

    allowed_registries: tuple[str, ...] = ()
    require_digest: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class AdmissionPolicy:
    """Everything ``review()`` needs besides the request and namespace labels; immutable."""

    config: Config = Config()
    failure_mode: FailureMode = FailureMode.CLOSED
    pss_defaults: PSSPolicy = PSSPolicy(enforce=PSSModePolicy(PSSLevel.BASELINE))
    rule_default: Mode = Mode.WARN
    rule_modes: tuple[tuple[str, Mode], ...] = ()
    exemptions: Exemptions = Exemptions()
    images: ImageGates = ImageGates()
    registry: RegistryAccess = RegistryAccess()
    signatures: SignatureGate | None = None
    vulnerabilities: VulnerabilityGate | None = None

    def rule_mode(self, rule_id: str, default: Mode | None = None) -> Mode:
        """The mode of a rule outside PSS enforcement: the first matching glob, else the default.

        Configured image gates are explicit choices, so they enforce unless
        ``rules`` names them with another mode. ``default`` (a namespace's
        ``cloudward.io/rules-mode`` label) replaces the configured default.
        """
        for pattern, mode in self.rule_modes:
            if fnmatch.fnmatchcase(rule_id, pattern):
                return mode
        if rule_id == "pod.image-digest" and self.images.require_digest:
            return Mode.ENFORCE
        if rule_id == IMAGE_REGISTRY_RULE and self.images.allowed_registries:
            return Mode.ENFORCE
        if rule_id == IMAGE_SIGNATURE_RULE and self.signatures is not None:
            return Mode.ENFORCE
        if rule_id == IMAGE_VULNERABILITY_RULE and self.vulnerabilities is not None:
            return Mode.ENFORCE
        if rule_id == IMAGE_SCAN_MISSING_RULE and self.vulnerabilities is not None:
            return self.vulnerabilities.missing
        return self.rule_default if default is None else default

    @property
    def inline_suppressions(self) -> bool:
        return self.config.inline_suppressions is not False

    @property
    def pss_version(self) -> PSSVersion:
        return self.pss_defaults.enforce.version


IMAGE_REGISTRY_RULE = "pod.image-registry"
IMAGE_SIGNATURE_RULE = "pod.image-signature"
IMAGE_VULNERABILITY_RULE = "pod.image-vulnerabilities"
IMAGE_SCAN_MISSING_RULE = "pod.image-scan-missing"
#: Rules built from admission configuration, not in the scan registry (valid in rules.* of the config).
GATE_RULE_IDS = frozenset({IMAGE_REGISTRY_RULE, IMAGE_SIGNATURE_RULE, IMAGE_VULNERABILITY_RULE,
                           IMAGE_SCAN_MISSING_RULE})


def load_policy(path: Path, pss_enforce: str | None = None) -> AdmissionPolicy:
    """Read ``path`` (a ``.cloudward.yaml`` with an optional ``admission:`` section)."""
    return policy_from_config(load_config(path), pss_enforce)


def parse_policy(text: str, source: str, *, pss_enforce: str | None = None,
                 base_dir: Path | None = None) -> AdmissionPolicy:
    """Parse the shared config and its ``admission`` section; errors name file, line and field."""
    return policy_from_config(parse_config(text, source, base_dir=base_dir), pss_enforce)


def policy_from_config(config: Config, pss_enforce: str | None = None) -> AdmissionPolicy:
    """The admission policy of a parsed ``.cloudward.yaml`` (its ``admission`` and ``signing`` sections)."""
    version = PSSVersion.parse(config.pss_version) if config.pss_version else PSSVersion()
    kw: dict[str, Any] = {"config": config}
    p = NodeParser(config.source or ".cloudward.yaml", config.base_dir)
    admission = config.section("admission")
    section = p.mapping(admission, "admission", _ADMISSION_KEYS) if admission is not None else {}
    if "failure_mode" in section:
        kw["failure_mode"] = FailureMode(p.choice(section["failure_mode"], "admission.failure_mode",
                                                  [m.value for m in FailureMode]))
    pss = p.mapping(section["pss"], "admission.pss", _PSS_KEYS) if "pss" in section else {}
    modes: dict[str, PSSModePolicy] = {}
    for mode, default in (("enforce", PSSLevel.BASELINE), ("warn", PSSLevel.PRIVILEGED),
                          ("audit", PSSLevel.PRIVILEGED)):
        level = default
        if mode == "enforce" and pss_enforce is not None:
            level = _level(pss_enforce, "--pss-enforce")
        elif mode in pss:
            level = PSSLevel(p.choice(pss[mode], f"admission.pss.{mode}", [lv.value for lv in PSSLevel]))
        v = version
        if f"{mode}_version" in pss:
            v = p.version(pss[f"{mode}_version"], f"admission.pss.{mode}_version")
        modes[mode] = PSSModePolicy(level, v)
    kw["pss_defaults"] = PSSPolicy(**modes)
    if "rules" in section:
        rules = p.mapping(section["rules"], "admission.rules", _RULES_KEYS)
        if "default" in rules:
            kw["rule_default"] = Mode.parse(p.choice(rules["default"], "admission.rules.default",
                                                     [m.label for m in Mode]))
        kw["rule_modes"] = tuple((pattern, Mode.parse(name)) for name in ("enforce", "warn", "audit", "off")
                                 if name in rules for pattern in p.strings(rules[name], f"admission.rules.{name}"))
    if "exemptions" in section:
        ex = p.mapping(section["exemptions"], "admission.exemptions", _EXEMPT_KEYS)
        kw["exemptions"] = Exemptions(**{k: frozenset(p.strings(v, f"admission.exemptions.{k}"))
                                         for k, v in ex.items()})
    if "images" in section:
        kw["images"] = _images(p, section["images"])
    if "registry" in section:
        kw["registry"] = parse_registry(p, section["registry"])
    if "signatures" in section:
        kw["signatures"] = parse_signatures(p, section["signatures"], config)
    if "vulnerabilities" in section:
        kw["vulnerabilities"] = parse_vulnerabilities(p, section["vulnerabilities"])
    return AdmissionPolicy(**kw)


def _images(p: NodeParser, node: yaml.Node) -> ImageGates:
    im = p.mapping(node, "admission.images", _IMAGES_KEYS)
    registries = tuple(p.strings(im["allowed_registries"], "admission.images.allowed_registries")
                       ) if "allowed_registries" in im else ()
    for r in registries:
        if not r.strip("/") or "://" in r:
            raise p.fail(im["allowed_registries"], f"admission.images.allowed_registries: {r!r} is not a "
                         "registry or repository prefix; write e.g. registry.example.com or ghcr.io/acme/")
    digest = p.boolean(im["require_digest"], "admission.images.require_digest") if "require_digest" in im \
        else False
    return ImageGates(registries, digest)


def default_policy(pss_enforce: str | None = None) -> AdmissionPolicy:
    """The policy with no config file: enforce ``pss_enforce`` (default baseline), warn on everything else."""
    return parse_policy("", "<defaults>", pss_enforce=pss_enforce)


def _level(text: str, where: str) -> PSSLevel:
    try:
        return PSSLevel(text.strip().lower())
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a Pod Security Standards level; use privileged, baseline "
                          "or restricted") from None
