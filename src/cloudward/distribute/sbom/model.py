"""What an SBOM run produces: the image it describes, its OS, and its packages."""

from __future__ import annotations

import dataclasses

from cloudward.distribute.packages import Distro, Package


@dataclasses.dataclass(frozen=True, slots=True)
class ImageInfo:
    """The image an SBOM describes (``name`` as the user typed it)."""

    name: str
    manifest_digest: str | None = None
    config_digest: str | None = None
    platform: str | None = None
    layers: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Sbom:
    image: ImageInfo
    distro: Distro | None
    packages: tuple[Package, ...]
