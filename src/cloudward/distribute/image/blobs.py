"""Content-addressed reading: streams that verify size and digest, and image resolution.

Every source (OCI layout, archives, registry) is a ``BlobStore``; ``resolve_image``
walks index → manifest → config → layers through it the same way for all of them,
so digest verification and platform selection are written once.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from typing import IO, Protocol

from cloudward.distribute.image.errors import DigestMismatchError, ImageError
from cloudward.distribute.image.model import (
    DEFAULT_PLATFORM,
    Descriptor,
    Image,
    Layer,
    Manifest,
    Platform,
    parse_config,
    parse_manifest,
    verify_digest,
)

_BLOB_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
MAX_INDEX_DEPTH = 4


def check_blob_digest(image: str, digest: str) -> str:
    """Return ``digest`` if it is a well-formed sha256/sha512 digest; it becomes a file name, so be strict."""
    if not _BLOB_DIGEST.match(digest):
        raise ImageError(image, f"malformed digest {digest!r}; expected sha256:<64 hex> or sha512:<128 hex>")
    return digest


class VerifyingReader(io.RawIOBase):
    """Read a blob and fail at the end unless its size and digest are the ones promised.

    ``expected_size`` < 0 skips the size check (docker-archive layers have none).
    The check runs when the stream hits EOF, so a consumer that reads to the end
    (the tar walker drains every layer) always verifies.
    """

    def __init__(self, raw: IO[bytes], image: str, what: str, digest: str, expected_size: int = -1) -> None:
        super().__init__()
        self._raw = raw
        self._image = image
        self._what = what
        algo, _, self._hex = digest.partition(":")
        self._hash = hashlib.new(algo)
        self._digest = digest
        self._expected = expected_size
        self._count = 0
        self._verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        if n == 0:
            self._verify()
            return 0
        self._count += n
        if 0 <= self._expected < self._count:
            raise DigestMismatchError(self._image, f"{self._what} is longer than its declared size {self._expected}")
        self._hash.update(data)
        buffer[:n] = data
        return n

    def _verify(self) -> None:
        if self._verified:
            return
        self._verified = True
        if self._expected >= 0 and self._count != self._expected:
            raise DigestMismatchError(self._image, f"{self._what} is {self._count} bytes, expected "
                                      f"{self._expected}; the blob is truncated")
        if self._hash.hexdigest() != self._hex:
            raise DigestMismatchError(self._image, f"{self._what} digest mismatch: expected {self._digest}, got "
                                      f"{self._hash.name}:{self._hash.hexdigest()}")

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


class BlobStore(Protocol):
    """Where an image's blobs live. ``open_blob`` returns the raw, unverified bytes."""

    name: str

    def open_blob(self, desc: Descriptor) -> IO[bytes]: ...


def read_verified(store: BlobStore, desc: Descriptor, what: str) -> bytes:
    check_blob_digest(store.name, desc.digest)
    with store.open_blob(desc) as fh:
        data = fh.read(desc.size + 1)
    if len(data) != desc.size:
        raise DigestMismatchError(store.name, f"{what} {desc.digest} is {len(data)} bytes, expected {desc.size}")
    verify_digest(store.name, f"{what} {desc.digest}", data, desc.digest)
    return data


def open_verified(store: BlobStore, desc: Descriptor, what: str) -> IO[bytes]:
    check_blob_digest(store.name, desc.digest)
    raw = VerifyingReader(store.open_blob(desc), store.name, f"{what} {desc.digest}", desc.digest, desc.size)
    return io.BufferedReader(raw, buffer_size=1024 * 1024)


def select_platform(image: str, index: Manifest, platform: Platform | None) -> Descriptor:
    """The index entry for ``platform`` (default linux/amd64); a clear error lists what exists."""
    wanted = platform or DEFAULT_PLATFORM
    candidates = [d for d in index.manifests if d.platform is None or d.platform.os != "unknown"]
    if platform is None and len(candidates) == 1:
        return candidates[0]
    for d in candidates:
        if d.platform is not None and wanted.matches(d.platform):
            return d
    offered = ", ".join(str(d.platform) for d in candidates if d.platform) or "none"
    raise ImageError(image, f"no manifest for platform {wanted} in the index (available: {offered}); "
                     "choose one with --platform")


def resolve_image(store: BlobStore, root: Manifest, platform: Platform | None, *,
                  fetch_manifest: Callable[[Descriptor], Manifest] | None = None) -> Image:
    """From a root manifest or index to an ``Image`` with verified manifest and config."""
    manifest = root
    depth = 0
    while manifest.is_index:
        depth += 1
        if depth > MAX_INDEX_DEPTH:
            raise ImageError(store.name, f"indexes nested deeper than {MAX_INDEX_DEPTH} levels")
        desc = select_platform(store.name, manifest, platform)
        if fetch_manifest is not None:
            manifest = fetch_manifest(desc)
        else:
            manifest = parse_manifest(store.name, read_verified(store, desc, "manifest"), desc.digest,
                                      desc.media_type)
    assert manifest.config is not None
    config_raw = read_verified(store, manifest.config, "config")
    config = parse_config(store.name, config_raw)
    if config.diff_ids and len(config.diff_ids) != len(manifest.layers):
        raise ImageError(store.name, f"config lists {len(config.diff_ids)} diff_ids but the manifest has "
                         f"{len(manifest.layers)} layers")
    layers = []
    for i, desc in enumerate(manifest.layers):
        check_blob_digest(store.name, desc.digest)
        layers.append(Layer(desc, _opener(store, desc), config.diff_ids[i] if config.diff_ids else None))
    plat = Platform(config.os, config.architecture) if config.os and config.architecture else None
    return Image(store.name, config, tuple(layers), manifest.digest, manifest.config.digest, platform=plat)


def _opener(store: BlobStore, desc: Descriptor) -> Callable[[], IO[bytes]]:
    def open_layer() -> IO[bytes]:
        return open_verified(store, desc, "layer")

    return open_layer
