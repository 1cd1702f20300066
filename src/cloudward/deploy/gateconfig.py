"""Configuration of the image gates that need more than the object: signatures and vulnerabilities.

::

    admission:
      registry:                      # how gates reach registries (credentials: $REGISTRY_AUTH_FILE or
        timeout: 3                   #   ~/.docker/config.json, as for 'cloudward verify')
        insecure: [127.0.0.1:5000]   # plain-HTTP registries
        cache_ttl: 300               # seconds a tag's digest and a verified signature are reused
        failure_cache_ttl: 30        # seconds a "not verified" verdict is reused
        budget: 4                    # seconds a review may wait for registry checks (then: failure mode)
        concurrency: 4               # registry checks in flight per worker process (a thread pool)
      signatures:
        policy: verify-policy.yaml   # the signing stage's verification policy (docs/signing.md)
        mutate: true                 # /mutate pins verified images to their digest
      vulnerabilities:
        cache: /var/lib/cloudward/scans   # directory of scan reports keyed by digest
        severity: high               # deny at or above
        only_fixable: false          # count only vulnerabilities with a fixed version
        missing: warn                # image not in the cache: warn (default), deny or audit
        max_age_days: 7              # older reports count as missing (optional)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from cloudward.core.config import Config
from cloudward.core.errors import ConfigError
from cloudward.core.severity import Severity
from cloudward.deploy.confignodes import NodeParser
from cloudward.deploy.model import Mode
from cloudward.distribute.signing.policy import PolicySet
from cloudward.distribute.signing.policy import load_policy as load_verification_policy
from cloudward.distribute.signing.signers import Revocations, revocations_from_config

_REGISTRY_KEYS = {"timeout", "insecure", "cache_ttl", "failure_cache_ttl", "budget", "concurrency"}
_SIGNATURE_KEYS = {"policy", "mutate"}
_VULN_KEYS = {"cache", "severity", "only_fixable", "missing", "max_age_days"}
MAX_CONCURRENCY = 64
_MISSING = {"warn": Mode.WARN, "deny": Mode.ENFORCE, "audit": Mode.AUDIT}


@dataclasses.dataclass(frozen=True, slots=True)
class RegistryAccess:
    """How the webhook talks to registries; ``auth_file`` is filled in by the CLI (the core reads no env).

    ``budget`` bounds the whole registry work of one review in the server (it
    must end before the API server's ``timeoutSeconds: 5`` so that our failure
    mode, not the API server's, answers); ``concurrency`` bounds the threads per
    worker that do it, so a slow registry can tie up at most that many.
    """

    timeout: float = 3.0
    insecure: frozenset[str] = frozenset()
    cache_ttl: float = 300.0
    failure_cache_ttl: float = 30.0
    auth_file: Path | None = None
    budget: float = 4.0
    concurrency: int = 4


@dataclasses.dataclass(frozen=True, eq=False)
class SignatureGate:
    """Every container image must pass the verification policy (``PolicySet.evaluate``).

    Compared by identity: a loaded policy holds public keys, and each parsed
    policy gets its own verdict cache.
    """

    policy: PolicySet
    policy_file: str
    revoked: Revocations
    mutate: bool = True


@dataclasses.dataclass(frozen=True, slots=True)
class VulnerabilityGate:
    """No vulnerability at or above ``severity`` in the image's cached scan report."""

    cache: Path
    severity: Severity = Severity.HIGH
    only_fixable: bool = False
    missing: Mode = Mode.WARN
    max_age_days: float | None = None


def parse_registry(p: NodeParser, node: yaml.Node) -> RegistryAccess:
    m = p.mapping(node, "admission.registry", _REGISTRY_KEYS)
    kw: dict[str, object] = {}
    for key in ("timeout", "cache_ttl", "failure_cache_ttl", "budget"):
        if key in m:
            kw[key] = p.number(m[key], f"admission.registry.{key}", minimum=0.1 if key in ("timeout", "budget") else 0)
    if "concurrency" in m:
        kw["concurrency"] = p.integer(m["concurrency"], "admission.registry.concurrency")
        if kw["concurrency"] > MAX_CONCURRENCY:  # type: ignore[operator]
            raise p.fail(m["concurrency"], f"admission.registry.concurrency must be at most {MAX_CONCURRENCY}")
    if "insecure" in m:
        kw["insecure"] = frozenset(p.strings(m["insecure"], "admission.registry.insecure"))
    return RegistryAccess(**kw)  # type: ignore[arg-type]


def parse_signatures(p: NodeParser, node: yaml.Node, config: Config) -> SignatureGate:
    m = p.mapping(node, "admission.signatures", _SIGNATURE_KEYS)
    if "policy" not in m:
        raise p.fail(node, "admission.signatures needs 'policy': a verification policy file (docs/signing.md)")
    path = p.path(m["policy"], "admission.signatures.policy")
    if not path.is_file():
        raise p.fail(m["policy"], f"admission.signatures.policy: {path} is not a file; write the verification "
                     "policy there (relative paths are relative to this config file)")
    try:
        policy = load_verification_policy(path)
    except ConfigError as e:
        raise ConfigError(f"{e} (admission.signatures.policy)") from None
    mutate = p.boolean(m["mutate"], "admission.signatures.mutate") if "mutate" in m else True
    return SignatureGate(policy, str(path), revocations_from_config(config), mutate)


def parse_vulnerabilities(p: NodeParser, node: yaml.Node) -> VulnerabilityGate:
    m = p.mapping(node, "admission.vulnerabilities", _VULN_KEYS)
    if "cache" not in m:
        raise p.fail(node, "admission.vulnerabilities needs 'cache': the directory of scan reports "
                     "(docs/admission.md, 'Scan cache')")
    kw: dict[str, object] = {"cache": p.path(m["cache"], "admission.vulnerabilities.cache")}
    if "severity" in m:
        try:
            kw["severity"] = Severity.parse(p.string(m["severity"], "admission.vulnerabilities.severity"))
        except ValueError as e:
            raise p.fail(m["severity"], f"admission.vulnerabilities.severity: {e}") from None
    if "only_fixable" in m:
        kw["only_fixable"] = p.boolean(m["only_fixable"], "admission.vulnerabilities.only_fixable")
    if "missing" in m:
        kw["missing"] = _MISSING[p.choice(m["missing"], "admission.vulnerabilities.missing", list(_MISSING))]
    if "max_age_days" in m:
        kw["max_age_days"] = p.number(m["max_age_days"], "admission.vulnerabilities.max_age_days", minimum=0.001)
    return VulnerabilityGate(**kw)  # type: ignore[arg-type]
