"""Image reference rules: mutable tags, digest pinning and pull policy.

A tag is a movable pointer: whoever can push to the repository decides what
``app:1.2`` (let alone ``app:latest``) runs tomorrow, and nodes that cached an
older image keep running it. A digest names the content itself. These rules
parse references the way the container runtime does, so a registry port
(``localhost:5000/app``) is never mistaken for a tag.
"""

from __future__ import annotations

from collections.abc import Iterator

from cloudward.core.imageref import ImageRef, parse_image
from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import WORKLOAD_KINDS, Container, pod_spec
from cloudward.rules.text import show, who

IMAGES_DOC = "https://kubernetes.io/docs/concepts/containers/images/"
PULL_POLICY_DOC = "https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy"
ALWAYS_PULL_DOC = "https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#alwayspullimages"
NIST_800_190 = "https://csrc.nist.gov/pubs/sp/800/190/final"

def _images(obj: K8sObject) -> Iterator[tuple[Container, str, ImageRef]]:
    """Every container with a non-empty image string, including init and ephemeral containers."""
    spec = pod_spec(obj)
    if spec is None:
        return
    for container in spec.containers():
        image = container.image
        if image is not None and image.strip():
            yield container, image, parse_image(image)


def _check_latest(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for container, image, ref in _images(obj):
        if not ref.implies_latest:
            continue
        how = "uses the latest tag" if ref.tag == "latest" else "has no tag and no valid digest, so latest is pulled"
        yield Violation(
            message=f"{who(container)} image {show(image)} {how}",
            path=(*container.path, "image"),
            container=container.name,
        )


def _check_digest(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for container, image, ref in _images(obj):
        if ref.pinned:
            continue
        how = "has a malformed digest" if ref.digest is not None else "is not pinned by digest"
        yield Violation(
            message=f"{who(container)} image {show(image)} {how}",
            path=(*container.path, "image"),
            container=container.name,
        )


def _check_pull_policy(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    for container, image, ref in _images(obj):
        if not ref.mutable:
            continue
        policy = container.data.get("imagePullPolicy")
        if policy is None:
            # Kubernetes defaults to Always only for the latest tag (written or implied).
            if ref.implies_latest:
                continue
            yield Violation(
                message=f"{who(container)} sets no imagePullPolicy, so mutable image {show(image)} "
                "defaults to IfNotPresent",
                path=container.path,
                container=container.name,
            )
        elif policy != "Always":
            yield Violation(
                message=f"{who(container)} sets imagePullPolicy {show(policy)} for mutable image {show(image)}",
                path=(*container.path, "imagePullPolicy"),
                container=container.name,
            )


RULES: tuple[Rule, ...] = (
    Rule(
        id="pod.image-tag-latest",
        title="Container image uses the latest tag",
        severity=Severity.MEDIUM,
        target=Target.K8S_OBJECT,
        check=_check_latest,
        description=(
            "An image tagged latest, or with no tag and no digest (the runtime then pulls latest), runs whatever"
            " was pushed last: deployments are not reproducible, rollbacks do not roll back, and anyone able to"
            " push to the repository changes what runs. An image pinned by digest is not reported even if it"
            " also carries the latest tag, because the digest decides what is pulled. Init and ephemeral"
            " containers are checked as well."
        ),
        remediation="Use an immutable version tag (app:1.4.2) or, better, pin the digest (app@sha256:...).",
        kinds=WORKLOAD_KINDS,
        references=(IMAGES_DOC, NIST_800_190),
        controls=Controls(nist_800_190=("4.2.2",), attack=("T1525",)),
    ),
    Rule(
        id="pod.image-digest",
        title="Container image is not pinned by digest",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_check_digest,
        description=(
            "Tags are mutable: a version tag can be re-pushed, so what a node runs depends on when it pulled."
            " Only a digest (@sha256:<64 hex>, or @sha512:<128 hex>) fixes the image content and lets signatures"
            " and scan results carry over to what actually runs. A reference with a malformed digest is reported"
            " as not pinned."
        ),
        remediation="Reference images by digest, e.g. registry.example.com/app:1.4.2@sha256:<digest>; let CI or an "
        "admission webhook resolve tags to digests.",
        kinds=WORKLOAD_KINDS,
        references=(IMAGES_DOC, NIST_800_190),
        controls=Controls(nist_800_190=("4.1.5", "4.2.2"), attack=("T1525",)),
    ),
    Rule(
        id="pod.image-pull-policy",
        title="Mutable image is not always pulled",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_check_pull_policy,
        description=(
            "For an image referenced by a mutable tag, imagePullPolicy other than Always lets a node run a stale"
            " cached copy of the tag, and lets a pod on a shared node start an image cached for another tenant"
            " without presenting registry credentials (the per-pod counterpart of the AlwaysPullImages admission"
            " plugin). The effective policy is checked: when imagePullPolicy is left out Kubernetes uses Always"
            " for the latest tag (written or implied) and IfNotPresent otherwise, so app:1.2 without a policy is"
            " reported and app:latest is not. Images pinned by a valid digest are not reported: their content"
            " cannot change, so IfNotPresent is safe for integrity."
        ),
        remediation="Set imagePullPolicy: Always, or pin the image by digest.",
        kinds=WORKLOAD_KINDS,
        references=(PULL_POLICY_DOC, ALWAYS_PULL_DOC),
        controls=Controls(nist_800_190=("4.2.2",)),
    ),
)
