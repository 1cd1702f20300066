"""Image reference parsing and the image rules (latest tag, digest pinning, pull policy).

Reference splits follow the Docker/OCI reference grammar
(``[registry[:port]/]path[:tag][@digest]``); default pull policies follow the
Kubernetes images page (Always for ``:latest`` or no tag, else IfNotPresent).
"""

from __future__ import annotations

from typing import Any

import pytest

from cloudward.core.imageref import ImageRef, parse_image
from cloudward.core.jsonpath import JsonPath
from cloudward.core.rules import RuleContext
from cloudward.k8s.object import K8sObject
from cloudward.rules.workload_images import RULES

BY_ID = {r.id: r for r in RULES}
DIGEST = "sha256:" + "a" * 64


def pod(*containers: dict[str, Any], init: tuple[dict[str, Any], ...] = ()) -> K8sObject:
    spec: dict[str, Any] = {"containers": list(containers)}
    if init:
        spec["initContainers"] = list(init)
    return K8sObject(data={"kind": "Pod", "metadata": {"name": "p"}, "spec": spec}, file="t.yaml")


def found(rule_id: str, o: K8sObject) -> list[tuple[JsonPath, str | None]]:
    return [(v.path, v.container) for v in BY_ID[rule_id].check(o, RuleContext())]


def verdict(rule_id: str, image: str, **extra: Any) -> bool:
    """True when the rule reports a single container using ``image``."""
    return bool(found(rule_id, pod({"name": "c", "image": image, **extra})))


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("nginx", ImageRef(None, "nginx", None, None)),
        ("nginx:1.25", ImageRef(None, "nginx", "1.25", None)),
        ("library/nginx:latest", ImageRef(None, "library/nginx", "latest", None)),
        ("localhost:5000/app", ImageRef("localhost:5000", "app", None, None)),
        ("localhost:5000/app:v2", ImageRef("localhost:5000", "app", "v2", None)),
        ("localhost/app", ImageRef("localhost", "app", None, None)),
        ("registry.example.com/team/app", ImageRef("registry.example.com", "team/app", None, None)),
        ("ghcr.io/o/app:1.0@" + DIGEST, ImageRef("ghcr.io", "o/app", "1.0", DIGEST)),
        ("app@" + DIGEST, ImageRef(None, "app", None, DIGEST)),
        ("[::1]:5000/app:1", ImageRef("[::1]:5000", "app", "1", None)),
        ("  app:1  ", ImageRef(None, "app", "1", None)),
    ],
)
def test_parse_image(reference: str, expected: ImageRef) -> None:
    assert parse_image(reference) == expected


def test_pinned_requires_a_well_formed_digest() -> None:
    assert parse_image("app@" + DIGEST).pinned
    assert parse_image("app@sha512:" + "0" * 128).pinned
    assert not parse_image("app@sha256:abc").pinned
    assert not parse_image("app@sha256:" + "A" * 64).pinned  # digests are lowercase hex
    assert not parse_image("app:1.0").pinned


@pytest.mark.parametrize(
    ("image", "reported"),
    [
        ("nginx", True),
        ("nginx:latest", True),
        ("localhost:5000/app", True),  # the port is not a tag
        ("app@sha256:abc", True),  # malformed digest pins nothing
        ("app:", True),
        ("nginx:1.25", False),
        ("localhost:5000/app:1.0", False),
        ("app@" + DIGEST, False),
        ("app:latest@" + DIGEST, False),  # the digest decides what is pulled
        ("nginx:Latest", False),  # tags are case-sensitive
        ("nginx:latest-alpine", False),
    ],
)
def test_image_tag_latest(image: str, reported: bool) -> None:
    assert verdict("pod.image-tag-latest", image) is reported


@pytest.mark.parametrize(
    ("image", "reported"),
    [
        ("nginx:1.25", True),
        ("localhost:5000/app:1", True),
        ("app@sha256:abc", True),
        ("app@" + DIGEST, False),
        ("app:1@" + DIGEST, False),
    ],
)
def test_image_digest(image: str, reported: bool) -> None:
    assert verdict("pod.image-digest", image) is reported


def test_image_rules_point_at_image_and_cover_init_containers() -> None:
    o = pod({"name": "app", "image": "app:1.0"}, init=({"name": "setup", "image": "busybox"},))
    assert found("pod.image-digest", o) == [
        (("spec", "initContainers", 0, "image"), "setup"),
        (("spec", "containers", 0, "image"), "app"),
    ]
    assert found("pod.image-tag-latest", o) == [(("spec", "initContainers", 0, "image"), "setup")]
    msgs = [v.message for v in BY_ID["pod.image-tag-latest"].check(o, RuleContext())]
    assert msgs == ['init container "setup" image "busybox" has no tag and no valid digest, so latest is pulled']


def test_missing_or_wrongly_typed_image_is_ignored() -> None:
    o = pod({"name": "a"}, {"name": "b", "image": 42}, {"name": "c", "image": "  "})
    for rule_id in BY_ID:
        assert found(rule_id, o) == []


@pytest.mark.parametrize(
    ("image", "policy", "reported"),
    [
        ("app:1.0", None, True),  # defaults to IfNotPresent
        ("app:1.0", "IfNotPresent", True),
        ("app:1.0", "Never", True),
        ("app:1.0", "Always", False),
        ("app:latest", None, False),  # defaults to Always
        ("app", None, False),  # defaults to Always
        ("app:latest", "IfNotPresent", True),
        ("localhost:5000/app", None, False),  # no tag: Always
        ("localhost:5000/app:2", None, True),
        ("app@" + DIGEST, "IfNotPresent", False),  # immutable content
        ("app:1@" + DIGEST, None, False),
        ("app@sha256:abc", "IfNotPresent", True),  # malformed digest is not a pin
    ],
)
def test_image_pull_policy(image: str, policy: str | None, reported: bool) -> None:
    extra = {} if policy is None else {"imagePullPolicy": policy}
    assert verdict("pod.image-pull-policy", image, **extra) is reported


def test_image_pull_policy_paths() -> None:
    o = pod({"name": "a", "image": "app:1"}, {"name": "b", "image": "app:1", "imagePullPolicy": "IfNotPresent"})
    assert found("pod.image-pull-policy", o) == [
        (("spec", "containers", 0), "a"),
        (("spec", "containers", 1, "imagePullPolicy"), "b"),
    ]
