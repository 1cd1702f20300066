"""The OCI image model: descriptors, manifests, indexes, configs, and an opened ``Image``.

Docker schema 2 and OCI media types are both accepted; they have the same shape.
Parsing happens once at the edge (``parse_manifest``, ``parse_config``) into frozen
values, and each error names the image and the field that is wrong.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import IO, Any

from cloudward.core import jsonsafe
from cloudward.distribute.image.errors import DigestMismatchError, ImageError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})
LAYER_TYPES = frozenset({
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
})
MAX_JSON_SIZE = 8 * 1024 * 1024  # manifests and configs; the distribution spec suggests 4 MiB


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def verify_digest(image: str, what: str, data: bytes, expected: str) -> None:
    """Raise ``DigestMismatchError`` unless ``data`` hashes to ``expected`` (sha256/sha512)."""
    algo, _, hexpart = expected.partition(":")
    if algo not in ("sha256", "sha512") or not hexpart:
        raise ImageError(image, f"{what} has unsupported digest {expected!r}; only sha256 and sha512 are accepted")
    actual = hashlib.new(algo, data).hexdigest()
    if actual != hexpart:
        raise DigestMismatchError(image, f"{what} digest mismatch: expected {expected}, got {algo}:{actual}; "
                                  "the content was altered or truncated")


@dataclasses.dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"invalid platform {text!r}; write OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def matches(self, other: Platform) -> bool:
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        return self.variant is None or other.variant is None or self.variant == other.variant

    def __str__(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")


DEFAULT_PLATFORM = Platform("linux", "amd64")


@dataclasses.dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: tuple[tuple[str, str], ...] = ()

    def annotation(self, key: str) -> str | None:
        return next((v for k, v in self.annotations if k == key), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            out["platform"] = {"os": self.platform.os, "architecture": self.platform.architecture}
            if self.platform.variant:
                out["platform"]["variant"] = self.platform.variant
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class Manifest:
    """An image manifest (config + layers) or an index (``manifests``), with its raw bytes."""

    media_type: str
    raw: bytes
    digest: str
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def _descriptor(image: str, d: Any, where: str) -> Descriptor:
    if not isinstance(d, dict):
        raise ImageError(image, f"{where} is not a descriptor object")
    digest, size, media = d.get("digest"), d.get("size"), d.get("mediaType")
    if not isinstance(digest, str) or ":" not in digest:
        raise ImageError(image, f"{where}.digest is missing or not ALGORITHM:HEX")
    if not isinstance(size, int) or size < 0:
        raise ImageError(image, f"{where}.size is missing or negative")
    plat = d.get("platform")
    platform = None
    if isinstance(plat, dict) and isinstance(plat.get("os"), str) and isinstance(plat.get("architecture"), str):
        variant = plat.get("variant")
        platform = Platform(plat["os"], plat["architecture"], variant if isinstance(variant, str) else None)
    ann = d.get("annotations")
    annotations = tuple((str(k), str(v)) for k, v in ann.items()) if isinstance(ann, dict) else ()
    return Descriptor(str(media or ""), digest, size, platform, annotations)


def load_json(image: str, what: str, data: bytes) -> dict[str, Any]:
    if len(data) > MAX_JSON_SIZE:
        raise ImageError(image, f"{what} is {len(data)} bytes, above the {MAX_JSON_SIZE} byte limit")
    try:
        doc = jsonsafe.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ImageError(image, f"{what} is not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ImageError(image, f"{what} is not a JSON object")
    return doc


def parse_manifest(image: str, data: bytes, digest: str, media_type: str | None = None) -> Manifest:
    """Parse an index or image manifest; ``media_type`` (from a descriptor or header) is a fallback."""
    doc = load_json(image, f"manifest {digest}", data)
    media = doc.get("mediaType") or media_type or ""
    if not media:
        media = OCI_INDEX if "manifests" in doc else OCI_MANIFEST if "layers" in doc else ""
    if media in INDEX_TYPES:
        items = doc.get("manifests")
        if not isinstance(items, list):
            raise ImageError(image, f"index {digest} has no 'manifests' list")
        return Manifest(media, data, digest,
                        manifests=tuple(_descriptor(image, m, f"manifests[{i}]") for i, m in enumerate(items)))
    if media in MANIFEST_TYPES:
        layers = doc.get("layers")
        if not isinstance(layers, list):
            raise ImageError(image, f"manifest {digest} has no 'layers' list")
        config = _descriptor(image, doc.get("config"), "config")
        descs = tuple(_descriptor(image, x, f"layers[{i}]") for i, x in enumerate(layers))
        for i, layer in enumerate(descs):
            if layer.media_type and layer.media_type not in LAYER_TYPES:
                raise ImageError(image, f"layers[{i}] has unknown media type {layer.media_type!r}; "
                                 "expected an OCI or Docker tar layer (plain, gzip or zstd)")
        return Manifest(media, data, digest, config=config, layers=descs)
    raise ImageError(image, f"unknown manifest media type {media!r} for {digest}; expected an OCI/Docker "
                     "image manifest or index")


def parse_artifact_manifest(image: str, data: bytes, digest: str, media_type: str | None = None) -> Manifest:
    """Parse an image manifest whose layers may be of any media type (cosign ``.sig``/``.att`` manifests).

    Same checks as ``parse_manifest`` except the tar-layer media type: the caller
    decides what the layers are. The config descriptor is optional (OCI artifacts
    may omit it); an index is refused, since no signature manifest is one.
    """
    doc = load_json(image, f"manifest {digest}", data)
    media = doc.get("mediaType") or media_type or ""
    if media in INDEX_TYPES or "manifests" in doc:
        raise ImageError(image, f"{digest} is an index, not an image manifest")
    if media and media not in MANIFEST_TYPES:
        raise ImageError(image, f"unknown manifest media type {media!r} for {digest}; expected an OCI/Docker "
                         "image manifest")
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise ImageError(image, f"manifest {digest} has no 'layers' list")
    config = _descriptor(image, doc["config"], "config") if isinstance(doc.get("config"), dict) else None
    descs = tuple(_descriptor(image, x, f"layers[{i}]") for i, x in enumerate(layers))
    return Manifest(str(media or OCI_MANIFEST), data, digest, config=config, layers=descs)


@dataclasses.dataclass(frozen=True, slots=True)
class HistoryEntry:
    created_by: str
    empty_layer: bool = False
    comment: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ImageConfig:
    """The parts of the image config that scanners read; ``raw`` keeps the rest."""

    os: str = ""
    architecture: str = ""
    user: str = ""
    env: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    exposed_ports: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    healthcheck: tuple[str, ...] | None = None
    working_dir: str = ""
    history: tuple[HistoryEntry, ...] = ()
    diff_ids: tuple[str, ...] = ()
    raw: bytes = b"{}"


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        return (value,)
    return ()


def parse_config(image: str, data: bytes) -> ImageConfig:
    doc = load_json(image, "image config", data)
    cfg = doc.get("config") or {}
    if not isinstance(cfg, dict):
        cfg = {}
    hist = []
    for h in doc.get("history") or []:
        if isinstance(h, dict):
            hist.append(HistoryEntry(str(h.get("created_by", "")), bool(h.get("empty_layer", False)),
                                     h.get("comment") if isinstance(h.get("comment"), str) else None))
    hc = cfg.get("Healthcheck")
    health = _strings(hc.get("Test")) if isinstance(hc, dict) else None
    rootfs: dict[str, Any] = doc["rootfs"] if isinstance(doc.get("rootfs"), dict) else {}
    labels: dict[str, Any] = cfg["Labels"] if isinstance(cfg.get("Labels"), dict) else {}
    ports: dict[str, Any] = cfg["ExposedPorts"] if isinstance(cfg.get("ExposedPorts"), dict) else {}
    return ImageConfig(
        os=str(doc.get("os", "")), architecture=str(doc.get("architecture", "")), user=str(cfg.get("User") or ""),
        env=_strings(cfg.get("Env")), cmd=_strings(cfg.get("Cmd")), entrypoint=_strings(cfg.get("Entrypoint")),
        exposed_ports=tuple(sorted(str(p) for p in ports)), labels=tuple((str(k), str(v)) for k, v in labels.items()),
        healthcheck=health, working_dir=str(cfg.get("WorkingDir") or ""), history=tuple(hist),
        diff_ids=_strings(rootfs.get("diff_ids")), raw=data)


BlobOpener = Callable[[Descriptor], IO[bytes]]


@dataclasses.dataclass(frozen=True, slots=True)
class Layer:
    """One layer to walk: its descriptor and a function opening its (compressed) bytes.

    ``open`` returns a stream that verifies the digest when it reaches the end.
    """

    descriptor: Descriptor
    open: Callable[[], IO[bytes]]
    diff_id: str | None = None

    @property
    def digest(self) -> str:
        return self.descriptor.digest


@dataclasses.dataclass(frozen=True, slots=True)
class Image:
    """An opened image: where it came from, its config and its layers in order (lowest first).

    A ``dir:`` rootfs has no layers; ``rootfs`` names the directory to walk instead.
    """

    name: str
    config: ImageConfig
    layers: tuple[Layer, ...]
    manifest_digest: str | None = None
    config_digest: str | None = None
    rootfs: str | None = None
    platform: Platform | None = None
    closer: Callable[[], None] | None = dataclasses.field(default=None, repr=False, compare=False)

    def close(self) -> None:
        """Release open archive files; use ``with open_image(...) as image:``."""
        if self.closer is not None:
            self.closer()

    def __enter__(self) -> Image:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
