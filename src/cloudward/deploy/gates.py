"""The image gates that need a registry or the scan cache, as rules run by the scan engine.

Like ``pod.image-registry`` (``evaluate.registry_gate``), each gate is a rule
built from configuration, so its findings get the same modes, exceptions,
messages and metrics as every other rule. They check every container image of
the object: init, regular and ephemeral containers.

- ``pod.image-signature``: ``admission.signatures`` — the verification policy.
- ``pod.image-vulnerabilities``: ``admission.vulnerabilities`` — no
  vulnerability at or above the severity in the image's cached scan report.
- ``pod.image-scan-missing``: the image has no usable report in the cache
  (mode from ``admission.vulnerabilities.missing``, warn by default).

The state they share (registry clients, the digest and verdict caches, the scan
cache) lives in one ``GateRuntime`` per policy and process. ``registry_pending``
tells, without any network, which images of a request would make a gate ask a
registry, so the server can judge everything else on its event loop and send
only those reviews to its thread pool (``deploy.offload``).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from cloudward.core.imageref import parse_image
from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.deploy.gateconfig import VulnerabilityGate
from cloudward.deploy.policy import (
    IMAGE_SCAN_MISSING_RULE,
    IMAGE_SIGNATURE_RULE,
    IMAGE_VULNERABILITY_RULE,
    AdmissionPolicy,
)
from cloudward.deploy.scancache import ScanCache, ScanEntry, age_days
from cloudward.deploy.verifier import DigestResolver, GateStats, GateUnavailable, ImageVerifier, parse_image_ref
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, Container, pod_spec

MAX_LISTED = 5


@dataclasses.dataclass(eq=False)
class GateRuntime:
    """Per-process state of a policy's gates: one resolver, verifier and scan cache, shared by all requests."""

    resolver: DigestResolver
    verifier: ImageVerifier | None
    scans: ScanCache | None


@functools.lru_cache(maxsize=16)
def runtime(policy: AdmissionPolicy) -> GateRuntime:
    resolver = DigestResolver(policy.registry)
    verifier = ImageVerifier(policy.signatures, resolver) if policy.signatures is not None else None
    scans = ScanCache(policy.vulnerabilities.cache) if policy.vulnerabilities is not None else None
    return GateRuntime(resolver, verifier, scans)


def set_stats(policy: AdmissionPolicy, stats: GateStats) -> None:
    """Send this process's gate events (cache hits/misses, registry latency, failures) to ``stats``."""
    rt = runtime(policy)
    rt.resolver.stats = stats
    if rt.scans is not None:
        rt.scans.stats = stats


def registry_pending(objects: Iterable[dict[str, Any]], policy: AdmissionPolicy) -> list[tuple[str, str]]:
    """(gate rule id, image) for every image whose gate would ask a registry now; touches no network.

    A signature verdict or a tag's digest that is cached within its TTL needs no
    registry, nor does a digest-pinned image for the vulnerability gate.
    """
    if policy.signatures is None and policy.vulnerabilities is None:
        return []
    rt = runtime(policy)
    out: list[tuple[str, str]] = []
    for obj in objects:
        for _, image in _images(K8sObject(obj, "<admission>")):
            if rt.verifier is not None and rt.verifier.needs_registry(image):
                out.append((IMAGE_SIGNATURE_RULE, image))
            elif rt.scans is not None:
                ref = parse_image_ref(image)
                if ref is not None and rt.resolver.cached_digest(ref) is None:
                    out.append((IMAGE_VULNERABILITY_RULE, image))
    return out


def gate_rules(policy: AdmissionPolicy) -> list[Rule]:
    """The rules of the configured signature and vulnerability gates (none when neither is configured)."""
    rt = runtime(policy)
    rules = []
    if rt.verifier is not None:
        rules.append(_signature_rule(rt.verifier))
    if rt.scans is not None and policy.vulnerabilities is not None:
        rules += _vulnerability_rules(policy.vulnerabilities, rt.resolver, rt.scans)
    return rules


def _images(obj: K8sObject) -> Iterator[tuple[Container, str]]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for container in spec.containers():
        image = container.image
        if isinstance(image, str) and image.strip():
            yield container, image


def _signature_rule(verifier: ImageVerifier) -> Rule:
    def check(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
        for container, image in _images(obj):
            verdict = verifier.verify(image)
            if not verdict.verified:
                yield Violation(message=f'container "{container.name}" image "{image}" is not verified by '
                                f"{verifier.gate.policy_file}: {verdict.reason}",
                                path=(*container.path, "image"), container=container.name)

    return Rule(
        id=IMAGE_SIGNATURE_RULE, title="Image signature does not meet the verification policy",
        severity=Severity.HIGH, target=Target.K8S_OBJECT, check=check, kinds=WORKLOAD_KINDS,
        description="Admission gate: every container image (init and ephemeral too) must pass the verification "
        "policy of admission.signatures.policy, the same check as 'cloudward verify --policy'.",
        remediation="Sign the image with a key the policy trusts ('cloudward sign IMAGE --key KEY'), or use an "
        "image that is signed.",
        controls=Controls(nist_800_190=("4.1.5",), attack=("T1525",)))


def _vulnerability_rules(gate: VulnerabilityGate, resolver: DigestResolver, scans: ScanCache) -> list[Rule]:
    def lookup(image: str) -> tuple[ScanEntry | None, str]:
        """The usable cache entry for ``image``, or None and why not."""
        ref = parse_image_ref(image)
        if ref is None:
            return None, "is not a registry image reference"
        digest = resolver.digest(ref, "vulnerabilities")
        if digest is None:
            return None, "does not exist in its registry"
        entry = scans.lookup(digest)
        if entry is None:
            return None, f"({digest}) has no scan report in {scans.directory}"
        if entry.error is not None:
            return None, f"({digest}) has an unusable scan report: {entry.error}"
        if gate.max_age_days is not None and age_days(entry, time.time()) > gate.max_age_days:
            return None, f"({digest}) has a scan report older than {gate.max_age_days:g} days"
        return entry, digest

    fixable = " with a fix available" if gate.only_fixable else ""

    def check_vulns(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
        for container, image in _images(obj):
            entry, _ = lookup(image)
            if entry is None:
                continue
            hits = sorted(entry.at_or_above(gate.severity, gate.only_fixable), key=lambda v: (-v.severity.rank, v.id))
            if hits:
                listed = ", ".join(f"{v.id} ({v.severity.value}, {v.package})" for v in hits[:MAX_LISTED])
                more = f" and {len(hits) - MAX_LISTED} more" if len(hits) > MAX_LISTED else ""
                yield Violation(message=f'container "{container.name}" image "{image}" has {len(hits)} '
                                f"vulnerabilities at or above {gate.severity.value}{fixable}: {listed}{more}",
                                path=(*container.path, "image"), container=container.name)

    def check_missing(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
        for container, image in _images(obj):
            entry, why = lookup(image)
            if entry is None:
                yield Violation(message=f'container "{container.name}" image "{image}" {why}; scan it and add '
                                "the report ('cloudward admission cache add')",
                                path=(*container.path, "image"), container=container.name)

    controls = Controls(nist_800_190=("4.1.1",))
    return [
        Rule(id=IMAGE_VULNERABILITY_RULE, title="Image has vulnerabilities at or above the admission threshold",
             severity=Severity.HIGH, target=Target.K8S_OBJECT, check=check_vulns, kinds=WORKLOAD_KINDS,
             description="Admission gate: no container image may have an unsuppressed vulnerability at or above "
             "admission.vulnerabilities.severity (optionally only fixable ones) in its cached scan report.",
             remediation="Rebuild the image on patched packages, or record a VEX statement when the code is not "
             "reachable, then refresh the scan cache.", controls=controls),
        Rule(id=IMAGE_SCAN_MISSING_RULE, title="Image has no vulnerability scan in the scan cache",
             severity=Severity.MEDIUM, target=Target.K8S_OBJECT, check=check_missing, kinds=WORKLOAD_KINDS,
             description="Admission gate: the image's digest has no usable report in the scan cache, so its "
             "vulnerabilities are unknown.",
             remediation="Scan the image in CI ('cloudward sbom scan --format json') and add the report with "
             "'cloudward admission cache add'.", controls=controls),
    ]


# -- /mutate: pin verified images to their digest ------------------------------------------------

def pin_patch(obj: dict[str, Any], policy: AdmissionPolicy) -> tuple[bytes | None, list[str]]:
    """A JSONPatch replacing each tag-only image whose signature verified with ``image:tag@digest``.

    Images that do not verify are left alone (``/validate`` denies them); a
    registry failure leaves the image alone with a warning (``/mutate`` never
    denies). Returns the patch (or ``None``) and warnings.
    """
    gate = policy.signatures
    if gate is None or not gate.mutate:
        return None, []
    verifier = runtime(policy).verifier
    assert verifier is not None
    ops: list[dict[str, Any]] = []
    warnings: list[str] = []
    for container, image in _images(K8sObject(obj, "<admission>")):
        if parse_image(image).pinned:
            continue
        try:
            verdict = verifier.verify(image)
        except GateUnavailable as e:
            warnings.append(f"cloudward: {image} not pinned to a digest: {e}")
            continue
        if verdict.verified and verdict.digest:
            pinned = f"{image.strip()}@{verdict.digest}"
            ops.append({"op": "replace", "path": _pointer((*container.path, "image")), "value": pinned})
    return (orjson.dumps(ops) if ops else None), warnings


def _pointer(path: tuple[str | int, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
