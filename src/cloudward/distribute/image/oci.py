"""``oci:DIR[:TAG]`` and ``oci-archive:FILE[:TAG]``: the OCI image layout, on disk or in a tar.

The archive is read in place (``tarfile`` random access on the uncompressed
archive); nothing is extracted. Blob names come only from validated digests, so a
hostile ``index.json`` cannot point outside ``blobs/``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tarfile
from pathlib import Path
from typing import IO

from cloudward.distribute.image.blobs import check_blob_digest, read_verified, resolve_image
from cloudward.distribute.image.errors import ImageError
from cloudward.distribute.image.model import (
    MAX_JSON_SIZE,
    Descriptor,
    Image,
    Manifest,
    Platform,
    load_json,
    parse_manifest,
    sha256_digest,
)

REF_NAME = "org.opencontainers.image.ref.name"


def _blob_path(image: str, digest: str) -> str:
    algo, _, hexpart = check_blob_digest(image, digest).partition(":")
    return f"blobs/{algo}/{hexpart}"


class OciLayoutStore:
    """Blobs of an OCI layout directory."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name

    def read_file(self, rel: str) -> bytes:
        path = self.root / rel
        try:
            with open(path, "rb") as fh:
                return fh.read(MAX_JSON_SIZE + 1)
        except FileNotFoundError:
            raise ImageError(self.name, f"{rel} is missing; this is not an OCI image layout") from None
        except OSError as e:
            raise ImageError(self.name, f"cannot read {rel}: {e.strerror}") from None

    def open_blob(self, desc: Descriptor) -> IO[bytes]:
        path = self.root / _blob_path(self.name, desc.digest)
        try:
            return open(path, "rb")
        except FileNotFoundError:
            raise ImageError(self.name, f"blob {desc.digest} is missing from the layout") from None


class OciArchiveStore:
    """Blobs of an OCI layout packed in a tar file, read without extracting."""

    def __init__(self, path: Path, name: str) -> None:
        self.name = name
        try:
            self._tar = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by close()
            self._members = {_norm(m.name): m for m in self._tar.getmembers() if m.isfile()}
        except (tarfile.TarError, EOFError, OSError):
            raise ImageError(name, "not a readable tar archive (truncated, or not an image archive)") from None

    def close(self) -> None:
        self._tar.close()

    def has(self, rel: str) -> bool:
        return rel in self._members

    def read_file(self, rel: str) -> bytes:
        fh = self._open(rel)
        with fh:
            return fh.read(MAX_JSON_SIZE + 1)

    def _open(self, rel: str) -> IO[bytes]:
        member = self._members.get(rel)
        if member is None:
            raise ImageError(self.name, f"{rel} is missing from the archive")
        fh = self._tar.extractfile(member)
        if fh is None:
            raise ImageError(self.name, f"{rel} is not a regular file in the archive")
        return fh

    def open_blob(self, desc: Descriptor) -> IO[bytes]:
        return self._open(_blob_path(self.name, desc.digest))


def _norm(name: str) -> str:
    return os.path.normpath(name.lstrip("/")).removeprefix("./")


def _root_manifest(store: OciLayoutStore | OciArchiveStore, tag: str | None) -> Manifest:
    layout = load_json(store.name, "oci-layout", store.read_file("oci-layout"))
    if layout.get("imageLayoutVersion") != "1.0.0":
        raise ImageError(store.name, f"unsupported imageLayoutVersion {layout.get('imageLayoutVersion')!r}")
    raw = store.read_file("index.json")
    index = parse_manifest(store.name, raw, sha256_digest(raw), "application/vnd.oci.image.index.v1+json")
    entries = list(index.manifests)
    if tag is not None:
        entries = [d for d in entries if d.annotation(REF_NAME) == tag]
        if not entries:
            tags = sorted({d.annotation(REF_NAME) or "" for d in index.manifests} - {""})
            raise ImageError(store.name, f"no tag {tag!r} in index.json (tags: {', '.join(tags) or 'none'})")
    if not entries:
        raise ImageError(store.name, "index.json lists no manifests")
    if len(entries) > 1 and all(d.platform is None for d in entries):
        tags = sorted({d.annotation(REF_NAME) or d.digest for d in entries})
        raise ImageError(store.name, f"the layout holds {len(entries)} images; name one with :TAG "
                         f"({', '.join(tags)})")
    if len(entries) == 1:
        desc = entries[0]
        return parse_manifest(store.name, read_verified(store, desc, "manifest"), desc.digest, desc.media_type)
    return index  # several platform entries: an index, resolved by platform


def open_oci_layout(path: str, tag: str | None, platform: Platform | None, name: str) -> Image:
    root = Path(path)
    if not root.is_dir():
        raise ImageError(name, f"{path} is not a directory; oci: needs an OCI image layout directory")
    store = OciLayoutStore(root, name)
    return resolve_image(store, _root_manifest(store, tag), platform)


def open_oci_archive(path: str, tag: str | None, platform: Platform | None, name: str) -> Image:
    if not Path(path).is_file():
        raise ImageError(name, f"{path} does not exist or is not a file")
    store = OciArchiveStore(Path(path), name)
    if not store.has("oci-layout"):
        store.close()
        raise ImageError(name, "the archive holds no oci-layout file; is it a docker-archive?")
    try:
        image = resolve_image(store, _root_manifest(store, tag), platform)
    except BaseException:
        store.close()
        raise
    return dataclasses.replace(image, closer=store.close)


def write_json(data: object) -> bytes:
    """Canonical-enough JSON for blobs we write (tests, registry pushes)."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
