"""Container image references, parsed the way the container runtime reads them.

One parser for every stage: pod specs, Dockerfile ``FROM`` lines, and image
names given on the command line all split ``[registry[:port]/]path[:tag][@digest]``
the same way, so a registry port is never mistaken for a tag.
"""

from __future__ import annotations

import dataclasses
import re

#: Digests pinned with a registered OCI algorithm (image-spec descriptor.md).
_PINNED_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")


@dataclasses.dataclass(frozen=True, slots=True)
class ImageRef:
    """A container image reference split into its parts, as written (no defaults applied).

    ``registry`` is set only when the first path component names a host (it
    contains ``.`` or ``:``, or is ``localhost``), which is how the Docker
    reference grammar tells ``localhost:5000/app`` from ``library/app``.
    """

    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """Registry and repository as written (``localhost:5000/app``, ``nginx``)."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def pinned(self) -> bool:
        """True when a well-formed sha256/sha512 digest fixes the content."""
        return self.digest is not None and _PINNED_DIGEST.match(self.digest) is not None

    @property
    def mutable(self) -> bool:
        """True when what runs depends on where a tag points at pull time."""
        return not self.pinned

    @property
    def implies_latest(self) -> bool:
        """Not pinned, and tagged ``latest`` or untagged (the runtime then pulls ``latest``)."""
        return not self.pinned and (self.tag == "latest" or not self.tag)


def parse_image(reference: str) -> ImageRef:
    """Split ``[registry[:port]/]path[:tag][@digest]``; never raises."""
    text = reference.strip()
    name, at, digest = text.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag: str | None = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    registry: str | None = None
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    return ImageRef(registry=registry, repository=name, tag=tag, digest=digest if at else None)
