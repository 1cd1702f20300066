"""``open_image``: one entry point from a reference string to an opened ``Image``."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from cloudward.core.errors import InputError
from cloudward.distribute.image.errors import ImageError
from cloudward.distribute.image.model import Image, ImageConfig, Platform
from cloudward.distribute.image.reference import ImageReference, Transport, parse_reference


@dataclasses.dataclass(frozen=True, slots=True)
class OpenOptions:
    """How to open an image: platform for indexes, registry transport settings."""

    platform: Platform | None = None
    allow_insecure_registry: bool = False
    timeout: float = 30.0
    auth_file: str | None = None  # default: $REGISTRY_AUTH_FILE, then ~/.docker/config.json
    ca_file: str | None = None


def _sniff(text: str) -> ImageReference | None:
    """A bare path: a directory with ``oci-layout`` is ``oci:``, one without is ``dir:``, a tar is an archive."""
    p = Path(text)
    if p.is_dir():
        return ImageReference(Transport.OCI if (p / "oci-layout").is_file() else Transport.DIR, path=text)
    if p.is_file():
        import tarfile

        try:
            with tarfile.open(p, "r:*") as tar:
                names = {os.path.normpath(n).removeprefix("./") for n in tar.getnames()[:2000]}
        except (tarfile.TarError, OSError, EOFError):
            raise ImageError(text, "not an image: neither a tar archive nor a directory") from None
        if "manifest.json" in names:
            return ImageReference(Transport.DOCKER_ARCHIVE, path=text)
        if "oci-layout" in names:
            return ImageReference(Transport.OCI_ARCHIVE, path=text)
        raise ImageError(text, "tar archive holds neither manifest.json (docker-archive) nor oci-layout "
                         "(oci-archive)")
    return None


def resolve_reference(text: str) -> ImageReference:
    """Parse ``text``; an existing local path without a transport is sniffed."""
    if ":" not in text.split("/", 1)[0] or text.startswith(("/", ".")):
        sniffed = _sniff(text)
        if sniffed is not None:
            return sniffed
    return parse_reference(text)


def open_image(text: str, options: OpenOptions | None = None) -> Image:
    """Open the image named by ``text`` (containers-transports syntax, or a local path)."""
    options = options or OpenOptions()
    ref = resolve_reference(text)
    name = str(ref) if ref.transport is Transport.DOCKER else text
    if ref.transport is Transport.OCI:
        from cloudward.distribute.image.oci import open_oci_layout

        return open_oci_layout(ref.path, ref.tag, options.platform, name)
    if ref.transport is Transport.OCI_ARCHIVE:
        from cloudward.distribute.image.oci import open_oci_archive

        return open_oci_archive(ref.path, ref.tag, options.platform, name)
    if ref.transport is Transport.DOCKER_ARCHIVE:
        from cloudward.distribute.image.docker_archive import open_docker_archive

        return open_docker_archive(ref.path, options.platform, name, ref.tag)
    if ref.transport is Transport.DIR:
        if not Path(ref.path).is_dir():
            raise ImageError(name, f"{ref.path} is not a directory; dir: needs an unpacked root filesystem")
        return Image(name, ImageConfig(), (), rootfs=ref.path)
    if ref.transport is Transport.DOCKER:
        from cloudward.distribute.image.registry import open_registry_image

        assert ref.registry is not None
        return open_registry_image(ref.registry, options)
    raise InputError(f"unsupported transport in {text!r}")
