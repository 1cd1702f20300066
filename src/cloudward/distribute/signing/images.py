"""Sign, attest and verify images in a registry, stored exactly where and how cosign stores them.

The image is resolved to its manifest digest first; the digest is what is signed
and what the ``sha256-<hex>.sig`` / ``.att`` tags are named after, in the same
repository. Signing appends a layer to the existing signature image (or creates
it), so signatures by several keys accumulate. All registry I/O goes through the
image stage's ``RegistryClient``, which verifies every digest it reads.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cloudward.core.errors import InputError
from cloudward.distribute.image import Descriptor, DigestMismatchError, NotFoundError, RegistryClient, RegistryRef
from cloudward.distribute.signing.cosign import (
    PREDICATE_TYPE_ANNOTATION,
    SIGNATURE_ANNOTATION,
    LayerRejected,
    SignatureLayer,
    check_attestation,
    check_simple_signing,
    require,
)
from cloudward.distribute.signing.dsse import (
    DSSE_MEDIA_TYPE,
    INTOTO_PAYLOAD_TYPE,
    Statement,
    Subject,
    build_statement,
    sign_envelope,
)
from cloudward.distribute.signing.errors import NotVerifiedError
from cloudward.distribute.signing.keyless import KeylessPolicy
from cloudward.distribute.signing.keys import PublicKey
from cloudward.distribute.signing.model import Verified
from cloudward.distribute.signing.signers import NO_REVOCATIONS, Revocations, Signer
from cloudward.distribute.signing.simplesigning import SIMPLESIGNING_MEDIA_TYPE, build_payload

log = logging.getLogger(__name__)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MAX_SIGNATURE_LAYERS = 500
MAX_LAYER_SIZE = 4 * 1024 * 1024  # a simple-signing payload is ~300 bytes; SBOM attestations can be large


@dataclasses.dataclass(frozen=True, slots=True)
class Pushed:
    """Where a signature or attestation went: image digest, the tag written, and how many layers it now has."""

    image: str
    digest: str
    tag: str
    layers: int


@dataclasses.dataclass(frozen=True, slots=True)
class ImageVerification:
    image: str
    digest: str
    verified: tuple[Verified, ...]
    rejected: tuple[str, ...]
    statements: tuple[Statement, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"image": self.image, "digest": self.digest, "verified": [v.to_dict() for v in self.verified],
                "rejected": list(self.rejected)}


def repository_name(ref: RegistryRef) -> str:
    """``registry/repository``: what cosign writes as ``docker-reference`` and as the attestation subject."""
    return f"{ref.registry}/{ref.repository}"


def tag_for(digest: str, suffix: str) -> str:
    algo, _, hexpart = digest.partition(":")
    return f"{algo}-{hexpart}.{suffix}"


def resolve_digest(client: RegistryClient, ref: RegistryRef) -> str:
    """Tag → manifest digest (a digest reference is fetched and checked too); never trusts a header alone."""
    return client.resolve(ref.repository, ref.reference).digest


def sign_image(client: RegistryClient, ref: RegistryRef, signer: Signer,
               annotations: Mapping[str, str] | None = None) -> Pushed:
    digest = resolve_digest(client, ref)
    payload = build_payload(repository_name(ref), digest, annotations)
    sig = base64.b64encode(signer.sign(payload)).decode()
    tag = tag_for(digest, "sig")
    count = _append_layer(client, ref.repository, tag, payload, SIMPLESIGNING_MEDIA_TYPE, {SIGNATURE_ANNOTATION: sig})
    return Pushed(str(ref), digest, tag, count)


def attest_image(client: RegistryClient, ref: RegistryRef, signer: Signer, predicate_type: str,
                 predicate: Mapping[str, Any]) -> Pushed:
    digest = resolve_digest(client, ref)
    algo, _, hexpart = digest.partition(":")
    stmt = build_statement([Subject(repository_name(ref), ((algo, hexpart),))], predicate_type, predicate)
    envelope = sign_envelope(INTOTO_PAYLOAD_TYPE, stmt.to_json(), signer).to_json()
    tag = tag_for(digest, "att")
    count = _append_layer(client, ref.repository, tag, envelope, DSSE_MEDIA_TYPE,
                          {SIGNATURE_ANNOTATION: "", PREDICATE_TYPE_ANNOTATION: predicate_type})
    return Pushed(str(ref), digest, tag, count)


def verify_image(client: RegistryClient, ref: RegistryRef, keys: Sequence[PublicKey], *,
                 annotations: Mapping[str, str] | None = None, identity: str | None = None,
                 check_identity: bool = True, revoked: Revocations = NO_REVOCATIONS, threshold: int = 1,
                 rekor_keys: Mapping[str, PublicKey] | None = None,
                 keyless: KeylessPolicy | None = None) -> ImageVerification:
    """Find and check the image's cosign signatures; ``NotVerifiedError`` unless ``threshold`` signers verified.

    ``keys`` check key-based signatures, ``keyless`` (trust root + expected
    identities) checks Fulcio-certificate signatures; give either or both.
    """
    if not keys and keyless is None:
        raise InputError("give at least one --key, or a keyless identity and trust root")
    subject = str(ref)
    digest = _digest_or_fail(client, ref)
    expected = (identity or repository_name(ref)) if check_identity else None
    verified: list[Verified] = []
    rejected: list[str] = []
    layers = _read_layers(client, ref.repository, tag_for(digest, "sig"), rejected)
    if not layers and not rejected:
        raise NotVerifiedError(subject, f"no signatures found (no {tag_for(digest, 'sig')} tag for {digest})")
    for layer in layers:
        try:
            verified.append(check_simple_signing(layer, keys, digest=digest, identity=expected,
                                                 annotations=annotations, rekor_keys=rekor_keys, revoked=revoked,
                                                 keyless=keyless))
        except LayerRejected as e:
            rejected.append(str(e))
    require(subject, verified, rejected, threshold)
    return ImageVerification(subject, digest, tuple(verified), tuple(rejected))


def verify_image_attestations(client: RegistryClient, ref: RegistryRef, keys: Sequence[PublicKey], *,
                              predicate_types: Iterable[str] | None = None, revoked: Revocations = NO_REVOCATIONS,
                              threshold: int = 1) -> ImageVerification:
    subject = str(ref)
    digest = _digest_or_fail(client, ref)
    types = frozenset(predicate_types or ())
    verified: list[Verified] = []
    rejected: list[str] = []
    statements: list[Statement] = []
    layers = _read_layers(client, ref.repository, tag_for(digest, "att"), rejected)
    if not layers and not rejected:
        raise NotVerifiedError(subject, f"no attestations found (no {tag_for(digest, 'att')} tag for {digest})")
    for layer in layers:
        try:
            v, stmt = check_attestation(layer, keys, digest=digest, predicate_types=types, revoked=revoked)
        except LayerRejected as e:
            rejected.append(str(e))
            continue
        verified.append(v)
        statements.append(stmt)
    require(subject, verified, rejected, threshold)
    return ImageVerification(subject, digest, tuple(verified), tuple(rejected), tuple(statements))


def _digest_or_fail(client: RegistryClient, ref: RegistryRef) -> str:
    try:
        return resolve_digest(client, ref)
    except DigestMismatchError as e:
        raise NotVerifiedError(str(ref), f"the registry served a manifest that does not match its digest ({e})") from e
    except NotFoundError as e:
        raise NotVerifiedError(str(ref), f"the image does not exist ({e})") from e


def _read_layers(client: RegistryClient, repository: str, tag: str, rejected: list[str]) -> list[SignatureLayer]:
    try:
        manifest = client.get_artifact_manifest(repository, tag)
    except NotFoundError:
        return []
    except DigestMismatchError as e:
        rejected.append(f"signature manifest {tag} does not match its digest: {e}")
        return []
    if len(manifest.layers) > MAX_SIGNATURE_LAYERS:
        rejected.append(f"{tag} has {len(manifest.layers)} layers, above the limit of {MAX_SIGNATURE_LAYERS}")
        return []
    out = []
    for desc in manifest.layers:
        if desc.size > MAX_LAYER_SIZE:
            rejected.append(f"layer {desc.digest} is {desc.size} bytes, above the {MAX_LAYER_SIZE} byte limit")
            continue
        try:
            blob = client.get_blob(repository, desc)
        except (DigestMismatchError, NotFoundError) as e:
            rejected.append(f"layer {desc.digest} unreadable: {e}")
            continue
        out.append(SignatureLayer(desc.media_type, blob, dict(desc.annotations)))
    return out


def _append_layer(client: RegistryClient, repository: str, tag: str, blob: bytes, media_type: str,
                  annotations: Mapping[str, str]) -> int:
    """Add one layer to the signature image at ``tag`` (created if missing); an identical layer is not repeated."""
    layers: list[Descriptor] = []
    with contextlib.suppress(NotFoundError):
        layers = list(client.get_artifact_manifest(repository, tag).layers)
    layer_digest = client.push_blob(repository, blob)
    new = Descriptor(media_type, layer_digest, len(blob), annotations=tuple(annotations.items()))
    if not any(d.digest == new.digest and dict(d.annotations) == dict(new.annotations) for d in layers):
        layers.append(new)
    config = _config_json([d.digest for d in layers])
    config_digest = client.push_blob(repository, config)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "size": len(config), "digest": config_digest},
                "layers": [d.to_dict() for d in layers]}
    client.push_manifest(repository, tag, json.dumps(manifest, separators=(",", ":")).encode(), OCI_MANIFEST)
    log.info("pushed %s with %d layer(s)", tag, len(layers))
    return len(layers)


def _config_json(diff_ids: list[str]) -> bytes:
    """The image config cosign's signature images carry (go-containerregistry's empty image plus layers)."""
    zero = "0001-01-01T00:00:00Z"
    doc = {"architecture": "", "created": zero, "history": [{"created": zero} for _ in diff_ids], "os": "",
           "rootfs": {"type": "layers", "diff_ids": diff_ids}, "config": {}}
    return json.dumps(doc, separators=(",", ":")).encode()
