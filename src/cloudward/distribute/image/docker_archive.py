"""``docker-archive:FILE``: what ``docker save`` and ``podman save`` write.

``manifest.json`` names the config and the layer tars by path. Layers carry no
descriptor digest, so a layer is named by its ``diff_id`` from the config (the
sha256 of the uncompressed tar); the walker verifies every layer against its
``diff_id`` after decompression, for every source.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from cloudward.distribute.image.errors import ImageError
from cloudward.distribute.image.model import (
    MAX_JSON_SIZE,
    Descriptor,
    Image,
    Layer,
    Platform,
    load_json,
    parse_config,
    sha256_digest,
)

_PLAIN_TAR = "application/vnd.docker.image.rootfs.diff.tar"


def _norm(name: str) -> str:
    return os.path.normpath(name.lstrip("/")).removeprefix("./")


def open_docker_archive(path: str, platform: Platform | None, name: str) -> Image:
    if not Path(path).is_file():
        raise ImageError(name, f"{path} does not exist or is not a file")
    try:
        tar = tarfile.open(path, "r:*")  # noqa: SIM115 - lives as long as the layer openers
        members = {_norm(m.name): m for m in tar.getmembers() if m.isfile()}
    except (tarfile.TarError, EOFError, OSError):
        raise ImageError(name, "not a readable tar archive (truncated, or not an image archive)") from None

    def read(rel: str) -> bytes:
        member = members.get(_norm(rel))
        fh = tar.extractfile(member) if member else None
        if fh is None:
            raise ImageError(name, f"{rel} is missing from the archive")
        with fh:
            return fh.read(MAX_JSON_SIZE + 1)

    try:
        return _open(tar, members, read, platform, name)
    except BaseException:
        tar.close()
        raise


def _open(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], read: Callable[[str], bytes],
          platform: Platform | None, name: str) -> Image:
    if "manifest.json" not in members:
        hint = "; it looks like an OCI archive, use oci-archive:" if "oci-layout" in members else ""
        raise ImageError(name, f"no manifest.json in the archive: not a docker-archive{hint}")
    raw = read("manifest.json")
    try:
        entries: Any = load_json(name, "manifest.json", b'{"m":' + raw + b"}")["m"]
    except ImageError:
        raise ImageError(name, "manifest.json is not valid JSON") from None
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
        raise ImageError(name, "manifest.json is not a non-empty list of images")
    entry = entries[0]
    config_path, layer_paths = entry.get("Config"), entry.get("Layers")
    if not isinstance(config_path, str) or not isinstance(layer_paths, list):
        raise ImageError(name, "manifest.json entry lacks 'Config' or 'Layers'")
    config_raw = read(config_path)
    config = parse_config(name, config_raw)
    if config.diff_ids and len(config.diff_ids) != len(layer_paths):
        raise ImageError(name, f"config lists {len(config.diff_ids)} diff_ids but manifest.json has "
                         f"{len(layer_paths)} layers")
    layers = []
    for i, rel in enumerate(layer_paths):
        member = members.get(_norm(str(rel)))
        if member is None:
            raise ImageError(name, f"layer {rel} is missing from the archive")
        diff_id = config.diff_ids[i] if config.diff_ids else None
        digest = diff_id or sha256_digest(str(rel).encode())
        desc = Descriptor(_PLAIN_TAR, digest, member.size)
        layers.append(Layer(desc, _opener(tar, member, name), diff_id))
    return Image(name, config, tuple(layers), None, sha256_digest(config_raw), platform=platform, closer=tar.close)


def _opener(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str) -> Callable[[], IO[bytes]]:
    def open_layer() -> IO[bytes]:
        fh = tar.extractfile(member)
        if fh is None:
            raise ImageError(name, f"layer {member.name} is not a regular file")
        return fh  # the walker verifies the diff_id on the uncompressed stream

    return open_layer
