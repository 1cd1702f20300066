"""Verification policy: which images need which signatures and attestations (``cloudward verify --policy``).

Requirements compose: ``SignedBy`` (k of n keys), ``Attested`` (a predicate type
signed by k of n keys), ``AllOf`` and ``AnyOf`` over them, all with one
``check(image) -> list[Verified]`` protocol. Misuse is refused: an empty
``AllOf``/``AnyOf`` or an empty policy file is an error, an image that no policy
covers is *not verified* (fail closed), and the only way to let an unsigned image
through is ``UnsafeAllowUnsigned``, which warns every time it is used. The
admission webhook evaluates exactly this code.

File format (YAML, safe loader)::

    version: 1
    policies:
      - name: prod
        images: ["registry.example.com/prod/**"]   # * stays inside a path segment, ** crosses them
        require:
          - signature: {keys: [release.pub, ops.pub], threshold: 2}
          - attestation: {type: slsaprovenance, keys: [ci.pub]}
          - anyOf:
              - signature: {keys: [team-a.pub]}
              - signature: {keys: [team-b.pub]}
      - name: scratch
        images: ["localhost:5000/scratch/*"]
        unsafeAllowUnsigned: true
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from cloudward.core.errors import ConfigError, InputError
from cloudward.distribute.image import RegistryClient, RegistryRef
from cloudward.distribute.signing.errors import KeyFileError, NotVerifiedError
from cloudward.distribute.signing.images import repository_name, verify_image, verify_image_attestations
from cloudward.distribute.signing.keys import PublicKey, read_public_key
from cloudward.distribute.signing.model import Verified
from cloudward.distribute.signing.predicates import accepted_types
from cloudward.distribute.signing.signers import NO_REVOCATIONS, Revocations

log = logging.getLogger(__name__)
MAX_POLICY_FILE = 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class ImageUnderCheck:
    """What requirements check: the image, a client for its registry, and the revoked keys."""

    ref: RegistryRef
    client: RegistryClient
    revoked: Revocations = NO_REVOCATIONS


class Requirement(Protocol):
    def check(self, image: ImageUnderCheck) -> list[Verified]:
        """Return what verified; raise ``NotVerifiedError`` saying why not."""
        ...

    def describe(self) -> str: ...


@dataclasses.dataclass(frozen=True, slots=True)
class SignedBy:
    keys: tuple[PublicKey, ...]
    threshold: int = 1

    def check(self, image: ImageUnderCheck) -> list[Verified]:
        result = verify_image(image.client, image.ref, self.keys, revoked=image.revoked, threshold=self.threshold)
        return list(result.verified)

    def describe(self) -> str:
        return f"signed by {self.threshold} of {len(self.keys)} keys"


@dataclasses.dataclass(frozen=True, slots=True)
class Attested:
    predicate_type: str
    keys: tuple[PublicKey, ...]
    threshold: int = 1

    def check(self, image: ImageUnderCheck) -> list[Verified]:
        result = verify_image_attestations(image.client, image.ref, self.keys, revoked=image.revoked,
                                           predicate_types=accepted_types(self.predicate_type),
                                           threshold=self.threshold)
        return list(result.verified)

    def describe(self) -> str:
        return f"{self.predicate_type} attestation by {self.threshold} of {len(self.keys)} keys"


@dataclasses.dataclass(frozen=True, slots=True)
class AllOf:
    children: tuple[Requirement, ...]

    def __post_init__(self) -> None:
        if not self.children:
            raise ValueError("an empty AllOf would verify anything; give at least one requirement")

    def check(self, image: ImageUnderCheck) -> list[Verified]:
        out: list[Verified] = []
        for child in self.children:
            out += child.check(image)
        return out

    def describe(self) -> str:
        return "all of: " + "; ".join(c.describe() for c in self.children)


@dataclasses.dataclass(frozen=True, slots=True)
class AnyOf:
    children: tuple[Requirement, ...]

    def __post_init__(self) -> None:
        if not self.children:
            raise ValueError("an empty AnyOf can never verify; give at least one requirement")

    def check(self, image: ImageUnderCheck) -> list[Verified]:
        reasons = []
        for child in self.children:
            try:
                return child.check(image)
            except NotVerifiedError as e:
                reasons.append(e.reason)
        raise NotVerifiedError(str(image.ref), "none of the alternatives verified: " + " | ".join(reasons))

    def describe(self) -> str:
        return "any of: " + " | ".join(c.describe() for c in self.children)


@dataclasses.dataclass(frozen=True, slots=True)
class UnsafeAllowUnsigned:
    """Lets an image through unverified. It exists for scratch registries and warns on every use."""

    def check(self, image: ImageUnderCheck) -> list[Verified]:
        log.warning("UNSAFE: %s is allowed without any signature (policy unsafeAllowUnsigned)", image.ref)
        return [Verified(str(image.ref), "none", (("unsafe", "allowed unsigned"),))]

    def describe(self) -> str:
        return "UNSAFE: no signature required"


@dataclasses.dataclass(frozen=True, slots=True)
class ImagePolicy:
    name: str
    patterns: tuple[str, ...]
    requirement: Requirement

    def matches(self, ref: RegistryRef) -> bool:
        name = repository_name(ref)
        return any(_glob(p).fullmatch(name) for p in self.patterns)


@dataclasses.dataclass(frozen=True, slots=True)
class PolicyResult:
    image: str
    policies: tuple[str, ...]
    verified: tuple[Verified, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class PolicySet:
    policies: tuple[ImagePolicy, ...]
    source: str = "policy"

    def evaluate(self, image: ImageUnderCheck) -> PolicyResult:
        """Every policy that matches must pass (AllOf); no matching policy means not verified."""
        matching = [p for p in self.policies if p.matches(image.ref)]
        if not matching:
            raise NotVerifiedError(str(image.ref), f"no policy in {self.source} covers {repository_name(image.ref)}; "
                                   "add one (images: [...]) or the image stays unverified")
        verified: list[Verified] = []
        for p in matching:
            try:
                verified += p.requirement.check(image)
            except NotVerifiedError as e:
                raise NotVerifiedError(e.subject, f"policy {p.name!r}: {e.reason}") from None
        return PolicyResult(str(image.ref), tuple(p.name for p in matching), tuple(verified))


def _glob(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


# -- loading -------------------------------------------------------------------------------------------------------
def load_policy(path: Path, *, key_loader: Callable[[Path], PublicKey] = read_public_key) -> PolicySet:
    """Parse and validate a policy file; every error names the file and the field."""
    import yaml

    from cloudward.core.yamlsafe import check_aliases, check_depth

    src = str(path)
    try:
        if path.stat().st_size > MAX_POLICY_FILE:
            raise ConfigError(f"policy file is larger than {MAX_POLICY_FILE} bytes", file=src)
        text = path.read_text(encoding="utf-8")
        check_depth(text, src, ConfigError)
        loader = yaml.CSafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                check_aliases(root, src, 1, ConfigError)
            doc = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except FileNotFoundError:
        raise ConfigError("policy file not found; check the --policy path", file=src) from None
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise ConfigError(f"policy is not valid YAML: {e.problem}", file=src, line=line) from None
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as e:
        raise ConfigError(f"policy file is unreadable: {e}", file=src) from None
    parser = _Parser(src, path.parent, key_loader)
    return PolicySet(parser.policies(doc), src)


class _Parser:
    def __init__(self, source: str, base: Path, key_loader: Callable[[Path], PublicKey]) -> None:
        self.source, self.base, self.key_loader = source, base, key_loader

    def fail(self, where: str, message: str) -> ConfigError:
        return ConfigError(f"{where}: {message}", file=self.source)

    def policies(self, doc: Any) -> tuple[ImagePolicy, ...]:
        if doc is None:
            raise self.fail("policies", "the policy file is empty; an empty policy would verify nothing")
        self.mapping(doc, "(top level)", {"version", "policies"})
        if doc.get("version", 1) != 1:
            raise self.fail("version", f"unsupported version {doc.get('version')!r}; this cloudward reads version 1")
        items = doc.get("policies")
        if not isinstance(items, list) or not items:
            raise self.fail("policies", "must be a non-empty list of policies")
        return tuple(self.policy(item, f"policies[{i}]") for i, item in enumerate(items))

    def policy(self, item: Any, where: str) -> ImagePolicy:
        self.mapping(item, where, {"name", "images", "require", "unsafeAllowUnsigned"})
        images = item.get("images")
        if not isinstance(images, list) or not images or not all(isinstance(g, str) and g for g in images):
            raise self.fail(f"{where}.images", "must be a non-empty list of registry/repository globs")
        name = str(item.get("name") or where)
        unsafe = item.get("unsafeAllowUnsigned", False)
        if not isinstance(unsafe, bool):
            raise self.fail(f"{where}.unsafeAllowUnsigned", "must be true or false")
        if unsafe:
            if item.get("require"):
                raise self.fail(where, "give either require or unsafeAllowUnsigned, not both")
            log.warning("%s: policy %r allows unsigned images (unsafeAllowUnsigned)", self.source, name)
            return ImagePolicy(name, tuple(images), UnsafeAllowUnsigned())
        reqs = item.get("require")
        if not isinstance(reqs, list) or not reqs:
            raise self.fail(f"{where}.require", "must list at least one requirement (signature, attestation, anyOf)")
        return ImagePolicy(name, tuple(images), AllOf(self.requirements(reqs, f"{where}.require")))

    def requirements(self, items: list[Any], where: str) -> tuple[Requirement, ...]:
        return tuple(self.requirement(r, f"{where}[{i}]") for i, r in enumerate(items))

    def requirement(self, item: Any, where: str) -> Requirement:
        self.mapping(item, where, {"signature", "attestation", "anyOf", "allOf"})
        if len(item) != 1:
            raise self.fail(where, "each requirement has exactly one of signature, attestation, anyOf, allOf")
        kind, body = next(iter(item.items()))
        if kind in ("anyOf", "allOf"):
            if not isinstance(body, list) or not body:
                raise self.fail(f"{where}.{kind}", "must be a non-empty list of requirements")
            children = self.requirements(body, f"{where}.{kind}")
            return AnyOf(children) if kind == "anyOf" else AllOf(children)
        allowed = {"keys", "threshold"} | ({"type"} if kind == "attestation" else set())
        self.mapping(body, f"{where}.{kind}", allowed)
        keys = self.keys(body.get("keys"), f"{where}.{kind}.keys")
        threshold = body.get("threshold", 1)
        if not isinstance(threshold, int) or isinstance(threshold, bool) or not 1 <= threshold <= len(keys):
            raise self.fail(f"{where}.{kind}.threshold", f"must be a whole number from 1 to {len(keys)} (the number "
                            "of keys)")
        if kind == "signature":
            return SignedBy(keys, threshold)
        ptype = body.get("type")
        if not isinstance(ptype, str) or not ptype:
            raise self.fail(f"{where}.attestation.type", "is required (slsaprovenance, cyclonedx, spdx, vuln or a URI)")
        try:
            accepted_types(ptype)
        except InputError as e:
            raise self.fail(f"{where}.attestation.type", e.message) from None
        return Attested(ptype, keys, threshold)

    def keys(self, value: Any, where: str) -> tuple[PublicKey, ...]:
        if not isinstance(value, list) or not value or not all(isinstance(k, str) and k for k in value):
            raise self.fail(where, "must be a non-empty list of public key files")
        out = []
        for k in value:
            try:
                out.append(self.key_loader(self.base / k))
            except KeyFileError as e:
                raise self.fail(where, str(e)) from None
        return tuple(out)

    def mapping(self, value: Any, where: str, allowed: set[str]) -> None:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping")
        unknown = sorted(set(map(str, value)) - allowed)
        if unknown:
            raise self.fail(where, f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")


def requirements_for(policies: Sequence[ImagePolicy], ref: RegistryRef) -> list[str]:
    """Human-readable requirements that apply to ``ref`` (for ``--dry-run`` style output and docs)."""
    return [f"{p.name}: {p.requirement.describe()}" for p in policies if p.matches(ref)]
