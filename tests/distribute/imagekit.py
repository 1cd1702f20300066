"""Build real OCI layouts, OCI archives and docker archives in tests, with our own tar/blob code.

Layers are lists of ``Item``s written with ``tarfile``; files can come from the
host (``from_host``) so images carry real package databases, not toy text.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_MEDIA = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
               "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
               "none": "application/vnd.oci.image.layer.v1.tar"}


@dataclasses.dataclass
class Item:
    path: str
    data: bytes = b""
    kind: str = "file"  # file, dir, symlink, hardlink, whiteout, opaque
    mode: int = 0o644
    link: str = ""


def files_from_host(src: Path, dest: str) -> list[Item]:
    """Every regular file under ``src`` (or ``src`` itself) as items under ``dest`` in the image."""
    if src.is_file():
        return [Item(dest, src.read_bytes(), mode=src.stat().st_mode & 0o7777)]
    out = []
    for p in sorted(src.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out.append(Item(f"{dest}/{p.relative_to(src).as_posix()}", p.read_bytes(), mode=p.stat().st_mode & 0o7777))
    return out


def tar_bytes(items: Iterable[Item]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for it in items:
            info = tarfile.TarInfo(it.path)
            info.mode = it.mode
            info.mtime = 0
            if it.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif it.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = it.link
                tar.addfile(info)
            elif it.kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = it.link
                tar.addfile(info)
            else:
                if it.kind == "whiteout":
                    d, _, base = it.path.rpartition("/")
                    info.name = f"{d}/.wh.{base}" if d else f".wh.{base}"
                elif it.kind == "opaque":
                    info.name = f"{it.path.rstrip('/')}/.wh..wh..opq"
                info.size = len(it.data)
                tar.addfile(info, io.BytesIO(it.data))
    return buf.getvalue()


def compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def jbytes(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


@dataclasses.dataclass
class Built:
    """An image's blobs: ``blobs`` maps digest → bytes; ``manifest`` is the top manifest's bytes."""

    blobs: dict[str, bytes]
    manifest: bytes
    manifest_media: str
    config: bytes
    layer_digests: list[str]
    diff_ids: list[str]
    layer_tars: list[bytes]

    @property
    def manifest_digest(self) -> str:
        return digest(self.manifest)


def build_image(layers: Sequence[Sequence[Item]], *, compression: str = "gzip", config: dict | None = None,
                arch: str = "amd64", history: list[dict] | None = None) -> Built:
    blobs: dict[str, bytes] = {}
    descs, diff_ids, tars = [], [], []
    for items in layers:
        raw = tar_bytes(items)
        tars.append(raw)
        diff_ids.append(digest(raw))
        blob = compress(raw, compression)
        blobs[digest(blob)] = blob
        descs.append({"mediaType": LAYER_MEDIA[compression], "digest": digest(blob), "size": len(blob)})
    cfg = {"architecture": arch, "os": "linux", "config": config or {},
           "rootfs": {"type": "layers", "diff_ids": diff_ids},
           "history": history or [{"created_by": "test layer"} for _ in layers]}
    cfg_bytes = jbytes(cfg)
    blobs[digest(cfg_bytes)] = cfg_bytes
    manifest = jbytes({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": {"mediaType": OCI_CONFIG, "digest": digest(cfg_bytes), "size": len(cfg_bytes)},
                       "layers": descs})
    blobs[digest(manifest)] = manifest
    return Built(blobs, manifest, OCI_MANIFEST, cfg_bytes, [d["digest"] for d in descs], diff_ids, tars)


def index_of(images: dict[str, Built]) -> tuple[bytes, dict[str, bytes]]:
    """A multi-arch index over ``{"amd64": built, "arm64": built}``; returns (index bytes, all blobs)."""
    blobs: dict[str, bytes] = {}
    manifests = []
    for arch, built in images.items():
        blobs.update(built.blobs)
        manifests.append({"mediaType": OCI_MANIFEST, "digest": built.manifest_digest, "size": len(built.manifest),
                          "platform": {"os": "linux", "architecture": arch}})
    index = jbytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})
    blobs[digest(index)] = index
    return index, blobs


def write_layout(root: Path, built: Built, tag: str = "latest", *, index_bytes: bytes | None = None,
                 blobs: dict[str, bytes] | None = None) -> Path:
    """Write an OCI image layout; with ``index_bytes`` the tag points at that (multi-arch) index."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    all_blobs = dict(blobs or built.blobs)
    top, media = (index_bytes, OCI_INDEX) if index_bytes is not None else (built.manifest, built.manifest_media)
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    for d, data in all_blobs.items():
        (root / "blobs" / "sha256" / d.split(":", 1)[1]).write_bytes(data)
    index = {"schemaVersion": 2, "manifests": [{"mediaType": media, "digest": digest(top), "size": len(top),
                                                "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (root / "index.json").write_bytes(jbytes(index))
    return root


def write_oci_archive(path: Path, layout: Path) -> Path:
    with tarfile.open(path, "w") as tar:
        for p in sorted(layout.rglob("*")):
            tar.add(p, arcname=p.relative_to(layout).as_posix(), recursive=False)
    return path


def write_docker_archive(path: Path, built: Built, tag: str = "test/image:latest") -> Path:
    """What ``docker save`` writes: manifest.json, the config, and uncompressed layer tars."""
    cfg_name = built.config and digest(built.config).split(":")[1] + ".json"
    layers = [f"{d.split(':')[1]}/layer.tar" for d in built.diff_ids]
    manifest = json.dumps([{"Config": cfg_name, "RepoTags": [tag], "Layers": layers}]).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in [("manifest.json", manifest), (cfg_name, built.config),
                           *zip(layers, built.layer_tars, strict=True)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path
