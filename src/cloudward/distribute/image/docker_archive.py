"""``docker-archive:FILE[:REFERENCE|:@INDEX]``: what ``docker save`` and ``podman save`` write.

An archive may hold several images (``docker save a b``); as with skopeo, one is
chosen by a reference from its ``RepoTags`` (``busybox``, ``busybox:1.36``,
``docker.io/library/busybox:1.36`` all name the same tag) or by its position
(``@0``). An archive of several images without a choice is refused rather than
scanned partly: the error lists what it holds.

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

from cloudward.core.errors import InputError
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
from cloudward.distribute.image.reference import parse_registry_ref

_PLAIN_TAR = "application/vnd.docker.image.rootfs.diff.tar"


def _norm(name: str) -> str:
    return os.path.normpath(name.lstrip("/")).removeprefix("./")


def open_docker_archive(path: str, platform: Platform | None, name: str, selector: str | None = None) -> Image:
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
        return _open(tar, members, read, platform, name, selector)
    except BaseException:
        tar.close()
        raise


def _open(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], read: Callable[[str], bytes],
          platform: Platform | None, name: str, selector: str | None) -> Image:
    if "manifest.json" not in members:
        hint = "; it looks like an OCI archive, use oci-archive:" if "oci-layout" in members else ""
        raise ImageError(name, f"no manifest.json in the archive: not a docker-archive{hint}")
    raw = read("manifest.json")
    try:
        entries: Any = load_json(name, "manifest.json", b'{"m":' + raw + b"}")["m"]
    except ImageError:
        raise ImageError(name, "manifest.json is not valid JSON") from None
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ImageError(name, "manifest.json is not a non-empty list of images")
    entry = _choose(entries, selector, name)
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


def _choose(entries: list[dict[str, Any]], selector: str | None, name: str) -> dict[str, Any]:
    """The image ``selector`` names (a RepoTags reference or ``@INDEX``); the only one when there is one."""
    def tags(e: dict[str, Any]) -> list[str]:
        return [t for t in e.get("RepoTags") or [] if isinstance(t, str)]

    listing = "; ".join(f"@{i}: {', '.join(tags(e)) or '(untagged)'}" for i, e in enumerate(entries))
    if selector is None:
        if len(entries) == 1:
            return entries[0]
        raise ImageError(name, f"the archive holds {len(entries)} images ({listing}); choose one with "
                         "docker-archive:FILE:REFERENCE or docker-archive:FILE:@INDEX")
    if selector.startswith("@"):
        index = selector[1:]
        if not index.isdigit() or int(index) >= len(entries):
            raise ImageError(name, f"no image {selector} in the archive ({listing})")
        return entries[int(index)]
    wanted = _normal_tag(selector)
    for e in entries:
        if any(_normal_tag(t) == wanted for t in tags(e)):
            return e
    raise ImageError(name, f"no image tagged {selector!r} in the archive ({listing})")


def _normal_tag(ref: str) -> str | None:
    """``busybox`` → ``docker.io/library/busybox:latest``, as Docker completes a name; None if unreadable."""
    try:
        r = parse_registry_ref(ref)
    except InputError:
        return None
    return f"{r.registry}/{r.repository}:{r.tag}" if r.tag else f"{r.registry}/{r.repository}@{r.digest}"


def _opener(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str) -> Callable[[], IO[bytes]]:
    def open_layer() -> IO[bytes]:
        fh = tar.extractfile(member)
        if fh is None:
            raise ImageError(name, f"layer {member.name} is not a regular file")
        return fh  # the walker verifies the diff_id on the uncompressed stream

    return open_layer
