"""Reading cosign's signature and attestation manifests through the image stage's ``RegistryClient``.

``RegistryClient.get_manifest`` parses with the image model, which (rightly, for
images) refuses layers that are not tar media types, so it rejects
``application/vnd.dev.cosign.simplesigning.v1+json`` and DSSE layers. Until the
client offers a non-image ("artifact") manifest fetch, this adapter makes the
same authenticated request through ``RegistryClient.request`` and applies the
same digest checks: the bytes must hash to the digest asked for, and for a tag
to the ``Docker-Content-Digest`` the registry states.
"""

from __future__ import annotations

import dataclasses
import json

from cloudward.distribute.image import Descriptor, DigestMismatchError, ImageError, RegistryClient
from cloudward.distribute.image.model import MAX_JSON_SIZE, sha256_digest, verify_digest

ARTIFACT_ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"


@dataclasses.dataclass(frozen=True, slots=True)
class ArtifactManifest:
    raw: bytes
    digest: str
    media_type: str
    config: Descriptor | None
    layers: tuple[Descriptor, ...]


def get_artifact_manifest(client: RegistryClient, repository: str, reference: str) -> ArtifactManifest:
    """Fetch an image manifest whose layers may be any media type; raise ``NotFoundError`` on 404."""
    resp = client.request("GET", f"/v2/{repository}/manifests/{reference}", scope=f"repository:{repository}:pull",
                          headers={"Accept": ARTIFACT_ACCEPT})
    data = resp.body.read(MAX_JSON_SIZE + 1)
    resp.body.close()
    name = f"{client.registry}/{repository}:{reference}"
    if len(data) > MAX_JSON_SIZE:
        raise ImageError(name, f"manifest is above the {MAX_JSON_SIZE} byte limit")
    if ":" in reference:
        verify_digest(name, "manifest", data, reference)
        digest = reference
    else:
        digest = sha256_digest(data)
        header = resp.headers.get("Docker-Content-Digest")
        if header and header.startswith("sha256:") and header != digest:
            raise DigestMismatchError(name, f"manifest hashes to {digest} but the registry says {header}")
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ImageError(name, "manifest is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        raise ImageError(name, "manifest has no 'layers' list")
    layers = tuple(_descriptor(name, d, f"layers[{i}]") for i, d in enumerate(doc["layers"]))
    config = _descriptor(name, doc["config"], "config") if isinstance(doc.get("config"), dict) else None
    media = str(doc.get("mediaType") or (resp.headers.get("Content-Type") or "").split(";")[0])
    return ArtifactManifest(data, digest, media, config, layers)


def _descriptor(name: str, d: object, where: str) -> Descriptor:
    if not isinstance(d, dict):
        raise ImageError(name, f"{where} is not a descriptor")
    digest, size = d.get("digest"), d.get("size")
    if not isinstance(digest, str) or not digest.startswith("sha256:") or len(digest) != 71:
        raise ImageError(name, f"{where}.digest is not sha256:<64 hex>")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ImageError(name, f"{where}.size is missing or negative")
    ann = d.get("annotations")
    annotations = tuple((str(k), str(v)) for k, v in ann.items()) if isinstance(ann, dict) else ()
    return Descriptor(str(d.get("mediaType") or ""), digest, size, annotations=annotations)
