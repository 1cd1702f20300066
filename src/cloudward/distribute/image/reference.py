"""Image references in the containers-transports syntax (as skopeo and podman write them).

``oci:DIR[:TAG]``, ``oci-archive:FILE[:TAG]``, ``docker-archive:FILE[:REFERENCE|:@INDEX]``,
``dir:ROOTFS`` and ``docker://REGISTRY/REPO[:TAG|@DIGEST]``. A plain
``REPO:TAG`` without a transport is read as ``docker://`` like podman does, and
an existing file or directory path without a transport is sniffed by the caller.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from pathlib import Path

from cloudward.core.errors import InputError
from cloudward.core.imageref import parse_image

DEFAULT_REGISTRY = "docker.io"
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_SHA256 = re.compile(r"^sha256:[a-f0-9]{64}$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_REPO_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


class Transport(enum.StrEnum):
    OCI = "oci"
    OCI_ARCHIVE = "oci-archive"
    DOCKER_ARCHIVE = "docker-archive"
    DIR = "dir"
    DOCKER = "docker"


@dataclasses.dataclass(frozen=True, slots=True)
class RegistryRef:
    """``registry/repository`` plus a tag or a digest (a digest wins when both are given)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What goes in ``/v2/<repo>/manifests/<reference>``."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        out = f"{self.registry}/{self.repository}"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    def with_digest(self, digest: str) -> RegistryRef:
        return dataclasses.replace(self, digest=digest)


@dataclasses.dataclass(frozen=True, slots=True)
class ImageReference:
    """A parsed image reference: the transport and its transport-specific parts."""

    transport: Transport
    path: str = ""  # file or directory for local transports
    tag: str | None = None  # oci:/oci-archive: tag (org.opencontainers.image.ref.name); docker-archive: which image
    registry: RegistryRef | None = None

    def __str__(self) -> str:
        if self.transport is Transport.DOCKER:
            return f"docker://{self.registry}"
        return f"{self.transport.value}:{self.path}" + (f":{self.tag}" if self.tag else "")


def parse_registry_ref(text: str) -> RegistryRef:
    """Parse ``[REGISTRY/]REPO[:TAG][@DIGEST]`` with docker's defaults (docker.io, library/, latest).

    The split is core's one image-reference parser; this adds validation and defaults.
    """
    parts = parse_image(text)
    digest, tag = parts.digest, parts.tag
    if digest is not None and not _DIGEST.match(digest):
        raise InputError(f"invalid image digest {digest!r} in {text!r}; expected ALGORITHM:HEX, e.g. sha256:…")
    if tag is not None and not _TAG.match(tag):
        raise InputError(f"invalid image tag {tag!r} in {text!r}")
    registry = parts.registry or DEFAULT_REGISTRY
    repo = parts.repository
    if parts.registry is None and "/" not in repo:
        repo = f"library/{repo}"
    if not repo or not all(_REPO_COMPONENT.match(c) for c in repo.split("/")):
        raise InputError(f"invalid repository name {repo!r} in {text!r}; use lowercase letters, digits and . _ - /")
    if digest is None and tag is None:
        tag = "latest"
    return RegistryRef(registry=registry, repository=repo, tag=tag, digest=digest)


def parse_reference(text: str) -> ImageReference:
    """Parse a transport-qualified reference; raise ``InputError`` naming the part that is wrong."""
    if not text:
        raise InputError("empty image reference; give e.g. oci:DIR, docker-archive:FILE or docker://REPO:TAG")
    if text.startswith("docker://"):
        return ImageReference(Transport.DOCKER, registry=parse_registry_ref(text[len("docker://"):]))
    transport, sep, rest = text.partition(":")
    if sep and transport in {t.value for t in Transport if t is not Transport.DOCKER}:
        if not rest:
            raise InputError(f"image reference {text!r} names no path after {transport}:")
        kind = Transport(transport)
        if kind in (Transport.OCI, Transport.OCI_ARCHIVE):
            path, tag = _split_tag(rest)
            return ImageReference(kind, path=path, tag=tag)
        if kind is Transport.DOCKER_ARCHIVE:
            path, selector = _split_archive_selector(rest)
            return ImageReference(kind, path=path, tag=selector)
        return ImageReference(kind, path=rest)
    if sep and transport == "docker":
        raise InputError(f"image reference {text!r}: write docker://{rest.lstrip('/')} (two slashes)")
    return ImageReference(Transport.DOCKER, registry=parse_registry_ref(text))


def _split_archive_selector(rest: str) -> tuple[str, str | None]:
    """``FILE[:REFERENCE|:@INDEX]`` as skopeo reads docker-archive: an existing file keeps its colons."""
    if Path(rest).exists() or ":" not in rest:
        return rest, None
    path, selector = rest.split(":", 1)
    return path, selector or None


def _split_tag(rest: str) -> tuple[str, str | None]:
    """``DIR:TAG`` → (DIR, TAG); a colon inside the last path element starts the tag."""
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = rest.rsplit(":", 1)
        return path, tag or None
    return rest, None


def is_sha256_digest(value: str) -> bool:
    return bool(_SHA256.match(value))
