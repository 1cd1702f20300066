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
"""

from __future__ import annotations

import dataclasses
import fnmatch
from pathlib import Path
from typing import Any

import yaml

from cloudward.core.config import Config, parse_config
from cloudward.core.errors import ConfigError
from cloudward.core.model import PSSLevel
from cloudward.core.rules import PSSVersion
from cloudward.deploy.model import FailureMode, Mode

_ADMISSION_KEYS = {"failure_mode", "pss", "rules", "exemptions", "images", "signatures", "vulnerabilities"}
_PSS_KEYS = {"enforce", "enforce_version", "warn", "warn_version", "audit", "audit_version"}
_RULES_KEYS = {"default", "enforce", "warn", "audit", "off"}
_EXEMPT_KEYS = {"namespaces", "usernames", "runtime_classes"}
_IMAGES_KEYS = {"allowed_registries", "require_digest"}
_NOT_YET = {
    "signatures": "signature verification gates arrive with the signing stage; until then verify in CI with "
    "'cloudward' signing commands and remove 'admission.signatures'",
    "vulnerabilities": "vulnerability gates arrive with the vulnerability database; remove "
    "'admission.vulnerabilities' until then",
}


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
        return self.rule_default if default is None else default

    @property
    def inline_suppressions(self) -> bool:
        return self.config.inline_suppressions is not False

    @property
    def pss_version(self) -> PSSVersion:
        return self.pss_defaults.enforce.version


IMAGE_REGISTRY_RULE = "pod.image-registry"


def load_policy(path: Path, pss_enforce: str | None = None) -> AdmissionPolicy:
    """Read ``path`` (a ``.cloudward.yaml`` with an optional ``admission:`` section)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file: {e}; check the --config path", file=str(path)) from e
    return parse_policy(text, str(path), pss_enforce=pss_enforce, base_dir=path.parent)


def parse_policy(text: str, source: str, *, pss_enforce: str | None = None,
                 base_dir: Path | None = None) -> AdmissionPolicy:
    """Parse the shared config and its ``admission`` section; errors name file, line and field."""
    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        raise ConfigError(f"invalid YAML: {e.problem}", file=source, line=mark.line + 1 if mark else None) from e
    admission: yaml.Node | None = None
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "admission":
                admission = value
                text = _blank_lines(text, key.start_mark.line, value.end_mark)
    config = parse_config(text, source, base_dir=base_dir)
    version = PSSVersion.parse(config.pss_version) if config.pss_version else PSSVersion()
    kw: dict[str, Any] = {"config": config}
    p = _Parser(source)
    section = p.mapping(admission, "admission", _ADMISSION_KEYS) if admission is not None else {}
    for key, hint in _NOT_YET.items():
        if key in section:
            raise p.fail(section[key], f"admission.{key}: not available in this version: {hint}")
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
        im = p.mapping(section["images"], "admission.images", _IMAGES_KEYS)
        registries = tuple(p.strings(im["allowed_registries"], "admission.images.allowed_registries")
                           ) if "allowed_registries" in im else ()
        for r in registries:
            if not r.strip("/") or "://" in r:
                raise p.fail(im["allowed_registries"], f"admission.images.allowed_registries: {r!r} is not a "
                             "registry or repository prefix; write e.g. registry.example.com or ghcr.io/acme/")
        digest = p.boolean(im["require_digest"], "admission.images.require_digest") if "require_digest" in im \
            else False
        kw["images"] = ImageGates(registries, digest)
    return AdmissionPolicy(**kw)


def default_policy(pss_enforce: str | None = None) -> AdmissionPolicy:
    """The policy with no config file: enforce ``pss_enforce`` (default baseline), warn on everything else."""
    return parse_policy("", "<defaults>", pss_enforce=pss_enforce)


def _level(text: str, where: str) -> PSSLevel:
    try:
        return PSSLevel(text.strip().lower())
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a Pod Security Standards level; use privileged, baseline "
                          "or restricted") from None


def _blank_lines(text: str, first: int, end: yaml.Mark) -> str:
    """``text`` with the lines of the ``admission`` section emptied, so other lines keep their numbers.

    The shared parser (``core.config``) does not know the ``admission`` key;
    blanking keeps its file:line errors exact for the rest of the file.
    """
    lines = text.splitlines(keepends=True)
    last = end.line if end.column > 0 else end.line - 1
    for i in range(first, min(last + 1, len(lines))):
        lines[i] = "\n"
    return "".join(lines)


class _Parser:
    """Typed access to the admission section's nodes; every error names file, line and field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node, message: str) -> ConfigError:
        return ConfigError(message, file=self.source, line=node.start_mark.line + 1,
                           column=node.start_mark.column + 1)

    def mapping(self, node: yaml.Node, where: str, allowed: set[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where} must be a mapping")
        out: dict[str, yaml.Node] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode) or k.value not in allowed:
                raise self.fail(k, f"unknown key {getattr(k, 'value', k)!r} in {where}; allowed: "
                                f"{', '.join(sorted(allowed))}")
            out[k.value] = v
        return out

    def string(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(node, f"{where} must be a string")
        return str(node.value)

    def strings(self, node: yaml.Node, where: str) -> list[str]:
        if isinstance(node, yaml.ScalarNode):
            return [self.string(node, where)]
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{where} must be a list of strings")
        return [self.string(n, where) for n in node.value]

    def choice(self, node: yaml.Node, where: str, allowed: list[str]) -> str:
        value = self.string(node, where).strip().lower()
        if value not in allowed:
            raise self.fail(node, f"{where}: {value!r} is not one of {', '.join(allowed)}")
        return value

    def boolean(self, node: yaml.Node, where: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            raise self.fail(node, f"{where} must be true or false")
        return node.value.lower() in ("true", "yes", "on", "y")

    def version(self, node: yaml.Node, where: str) -> PSSVersion:
        try:
            return PSSVersion.parse(self.string(node, where))
        except ValueError as e:
            raise self.fail(node, f"{where}: {e}") from None

