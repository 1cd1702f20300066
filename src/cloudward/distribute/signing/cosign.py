"""cosign's image signature format, independent of where the layers come from.

A signature is one layer of the ``sha256-<digest>.sig`` image: the layer blob is
the simple-signing payload, the layer annotation
``dev.cosignproject.cosign/signature`` holds base64 of the signature over the
blob's exact bytes, and ``dev.sigstore.cosign/bundle`` (optional) a Rekor SET.
An attestation is one layer of the ``.att`` image: a DSSE envelope with an
in-toto Statement, annotated with its ``predicateType``. This module checks one
layer's content; ``images`` fetches layers from a registry.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cloudward.core import jsonsafe
from cloudward.distribute.signing.dsse import Envelope, Statement, envelope_verifies, parse_statement
from cloudward.distribute.signing.errors import LayerRejected, NotVerifiedError
from cloudward.distribute.signing.keyless import KeylessPolicy, certificate_key, check_certificate, parse_certificates
from cloudward.distribute.signing.keys import PublicKey, fingerprint
from cloudward.distribute.signing.model import Verified
from cloudward.distribute.signing.signers import NO_REVOCATIONS, Revocations, verify_signature
from cloudward.distribute.signing.simplesigning import parse_payload
from cloudward.distribute.signing.tlog import set_verifies

__all__ = ["BUNDLE_ANNOTATION", "CERTIFICATE_ANNOTATION", "CHAIN_ANNOTATION", "PREDICATE_TYPE_ANNOTATION",
           "SIGNATURE_ANNOTATION", "LayerRejected", "SignatureLayer", "check_attestation", "check_simple_signing",
           "normalise_reference", "parse_containers_signature", "require"]

SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"
CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
PREDICATE_TYPE_ANNOTATION = "predicateType"
CONTAINERS_SIGSTORE_PREFIX = b"\x00sigstore-json\n"


@dataclasses.dataclass(frozen=True, slots=True)
class SignatureLayer:
    """One layer of a signature or attestation image: the blob and its descriptor annotations."""

    media_type: str
    blob: bytes
    annotations: Mapping[str, str]


def normalise_reference(name: str) -> str:
    """``docker.io/x`` and ``index.docker.io/x`` name the same repository; compare them equal."""
    for prefix in ("index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            return "docker.io/" + name[len(prefix):]
    return name


def check_simple_signing(layer: SignatureLayer, keys: Sequence[PublicKey], *, digest: str,
                         identity: str | None = None, annotations: Mapping[str, str] | None = None,
                         rekor_keys: Mapping[str, PublicKey] | None = None,
                         revoked: Revocations = NO_REVOCATIONS, keyless: KeylessPolicy | None = None) -> Verified:
    """Verify one simple-signing layer against ``keys`` (or ``keyless``); raise ``LayerRejected`` with the reason.

    A layer with a Fulcio certificate is checked against ``keyless`` only, a layer
    without one against ``keys`` only: a certificate never stands in for a key.
    """
    sig_text = layer.annotations.get(SIGNATURE_ANNOTATION)
    if not sig_text:
        raise LayerRejected(f"layer has no {SIGNATURE_ANNOTATION} annotation")
    try:
        signature = base64.b64decode(sig_text, validate=True)
    except binascii.Error:
        raise LayerRejected("signature annotation is not base64") from None
    cert_text = layer.annotations.get(CERTIFICATE_ANNOTATION)
    claims: list[tuple[str, str]] = []
    if cert_text:
        if keyless is None:
            raise LayerRejected("keyless signature (Fulcio certificate): verify it with --certificate-identity, "
                                "--certificate-oidc-issuer and a Fulcio/Rekor trust root, not with a key")
        signer_id, claims = _check_keyless(layer, cert_text, signature, keyless, revoked)
    else:
        if not keys:
            raise LayerRejected("signed with a key, not a Fulcio certificate; verify it with --key")
        signer_id = fingerprint(_signing_key(layer, keys, signature, revoked))
    try:
        payload = parse_payload(layer.blob)
    except ValueError as e:
        raise LayerRejected(f"signed payload is malformed: {e}") from None
    if payload.manifest_digest != digest:
        raise LayerRejected(f"signature is for {payload.manifest_digest}, not this image {digest} (a replayed "
                            "signature, or the tag moved after signing)")
    if identity is not None and normalise_reference(payload.docker_reference) != normalise_reference(identity):
        raise LayerRejected(f"signature names {payload.docker_reference!r}, not {identity!r}")
    signed = payload.annotation_map
    for k, v in (annotations or {}).items():
        if signed.get(k) != v:
            raise LayerRejected(f"annotation {k}={v} is not signed (payload has {k}={signed.get(k)!r})")
    claims += [("digest", payload.manifest_digest), ("docker-reference", payload.docker_reference)]
    claims += [(f"annotation.{k}", v) for k, v in payload.annotations]
    if rekor_keys is not None and not cert_text:
        claims.append(("tlog", _check_cosign_bundle(layer, rekor_keys, signature)[0]))
    return Verified(digest, signer_id, tuple(claims))


def _signing_key(layer: SignatureLayer, keys: Sequence[PublicKey], signature: bytes,
                 revoked: Revocations) -> PublicKey:
    live = [k for k in keys if not revoked.is_revoked(k)]
    signer = next((k for k in live if verify_signature(k, signature, layer.blob)), None)
    if signer is None:
        revoked_hit = next((k for k in keys if revoked.is_revoked(k) and verify_signature(k, signature, layer.blob)),
                           None)
        if revoked_hit is not None:
            raise LayerRejected(f"signed by revoked key {fingerprint(revoked_hit)}")
        raise LayerRejected("signature does not verify with " + _keys_text(keys) +
                            " (signed by another key, or the payload was changed)")
    return signer


def _check_keyless(layer: SignatureLayer, cert_text: str, signature: bytes, policy: KeylessPolicy,
                   revoked: Revocations) -> tuple[str, list[tuple[str, str]]]:
    """cosign's keyless checks, in an order that names the first thing wrong (see ``keyless``)."""
    leaf, chain = parse_certificates(cert_text, layer.annotations.get(CHAIN_ANNOTATION))
    key = certificate_key(leaf)
    if not verify_signature(key, signature, layer.blob):
        raise LayerRejected("signature does not verify with the certificate's key (the payload was changed, or "
                            "the certificate was swapped)")
    if revoked.is_revoked(key):
        raise LayerRejected(f"signed by revoked key {fingerprint(key)}")
    tlog, integrated = _check_cosign_bundle(layer, policy.trust.rekor_keys, signature, leaf=leaf)
    at = datetime.datetime.fromtimestamp(integrated, datetime.UTC)
    claims = check_certificate(leaf, chain, policy, at)
    claims.append(("tlog", tlog))
    return claims[0][1], claims


def check_attestation(layer: SignatureLayer, keys: Sequence[PublicKey], *, digest: str,
                      predicate_types: Iterable[str] | None = None,
                      revoked: Revocations = NO_REVOCATIONS) -> tuple[Verified, Statement]:
    """Verify one ``.att`` layer: envelope signature, payload type, subject digest, predicate type."""
    try:
        env = Envelope.from_json(layer.blob)
    except ValueError as e:
        raise LayerRejected(f"attestation layer is not a DSSE envelope: {e}") from None
    live = [k for k in keys if not revoked.is_revoked(k)]
    signer = next((k for k in live if envelope_verifies(env, k)), None)
    if signer is None:
        if any(envelope_verifies(env, k) for k in keys if revoked.is_revoked(k)):
            raise LayerRejected("attestation signed by a revoked key")
        raise LayerRejected("envelope signature does not verify with " + _keys_text(keys))
    if env.payload_type != "application/vnd.in-toto+json":
        raise LayerRejected(f"envelope payloadType is {env.payload_type!r}, not application/vnd.in-toto+json")
    try:
        stmt = parse_statement(env.payload)
    except ValueError as e:
        raise LayerRejected(f"signed statement is malformed: {e}") from None
    algo, _, hexdigest = digest.partition(":")
    if not any(a == algo and v == hexdigest for s in stmt.subjects for a, v in s.digest):
        raise LayerRejected(f"statement subjects do not include this image {digest}")
    wanted = set(predicate_types or ())
    if wanted and stmt.predicate_type not in wanted:
        raise LayerRejected(f"predicate type is {stmt.predicate_type}, not {' or '.join(sorted(wanted))}")
    claims = (("digest", digest), ("predicateType", stmt.predicate_type), ("statement", stmt.type))
    return Verified(digest, fingerprint(signer), claims), stmt


def _check_cosign_bundle(layer: SignatureLayer, logs: Mapping[str, PublicKey], signature: bytes,
                         leaf: Any = None) -> tuple[str, int]:
    """Check the ``dev.sigstore.cosign/bundle`` SET and that its entry records this signature (and certificate).

    Returns the claim text and the integrated time, the one trusted time for a
    keyless certificate. The entry must record the signature, the payload's
    sha256 and, for keyless signatures, the same certificate (CVE-2022-36056's
    class of mix-ups).
    """
    text = layer.annotations.get(BUNDLE_ANNOTATION)
    if not text:
        raise LayerRejected("no Rekor bundle annotation, but a transparency log key was given"
                            if leaf is None else "keyless signature has no Rekor bundle; its certificate's time "
                            "cannot be established offline")
    try:
        doc = jsonsafe.loads(text)
        payload = doc["Payload"]
        set_sig = base64.b64decode(doc["SignedEntryTimestamp"])
        body, integrated, index, log_id = (payload["body"], int(payload["integratedTime"]),
                                           int(payload["logIndex"]), str(payload["logID"]))
        entry = jsonsafe.loads(base64.b64decode(body))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise LayerRejected("Rekor bundle annotation is malformed") from None
    key = logs.get(log_id)
    if key is None:
        raise LayerRejected(f"Rekor entry is from log {log_id[:16]}…, not a trusted log")
    if not set_verifies(key, set_sig, body, integrated, index, log_id):
        raise LayerRejected(f"Rekor signed entry timestamp (log index {index}) does not verify")
    spec = entry.get("spec") if isinstance(entry, dict) else None
    if entry.get("kind") != "hashedrekord" or not isinstance(spec, dict):
        if leaf is not None:
            raise LayerRejected(f"Rekor entry kind {entry.get('kind')!r} is not hashedrekord; cannot bind it to "
                                "this signature")
        return f"log index {index} at {integrated}", integrated
    sig_spec = spec.get("signature") or {}
    if sig_spec.get("content") != base64.b64encode(signature).decode():
        raise LayerRejected("Rekor entry records a different signature")
    recorded_hash = ((spec.get("data") or {}).get("hash") or {}).get("value")
    if recorded_hash is not None and recorded_hash != hashlib.sha256(layer.blob).hexdigest():
        raise LayerRejected("Rekor entry records a different payload hash")
    if leaf is not None and not _same_certificate(sig_spec, leaf):
        raise LayerRejected("Rekor entry records a different certificate than the signature layer carries")
    return f"log index {index} at {integrated}", integrated


def _same_certificate(sig_spec: Mapping[str, Any], leaf: Any) -> bool:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        recorded = base64.b64decode((sig_spec.get("publicKey") or {}).get("content") or "")
        cert = x509.load_pem_x509_certificate(recorded)
    except (ValueError, TypeError, binascii.Error):
        return False
    return bool(cert.public_bytes(serialization.Encoding.DER) == leaf.public_bytes(serialization.Encoding.DER))


def parse_containers_signature(data: bytes) -> SignatureLayer:
    """containers/image's on-disk signature (``\\x00sigstore-json\\n`` + JSON), as in its fixtures."""
    if not data.startswith(CONTAINERS_SIGSTORE_PREFIX):
        raise ValueError("not a containers/image sigstore signature (missing \\x00sigstore-json prefix)")
    doc = jsonsafe.loads(data[len(CONTAINERS_SIGSTORE_PREFIX):])
    return SignatureLayer(str(doc["mimeType"]), base64.b64decode(doc["payload"]),
                          {str(k): str(v) for k, v in (doc.get("annotations") or {}).items()})


def require(subject: str, verified: Sequence[Verified], reasons: Sequence[str], threshold: int) -> None:
    """Raise ``NotVerifiedError`` unless ``threshold`` distinct keys verified; the message lists each reason."""
    distinct = {v.key for v in verified}
    if len(distinct) >= threshold:
        return
    if not verified and not reasons:
        raise NotVerifiedError(subject, "no signatures found")
    detail = "; ".join(f"#{i + 1}: {r}" for i, r in enumerate(reasons)) or "none failed"
    need = f"{threshold} distinct keys required, {len(distinct)} verified" if threshold > 1 else "no signature verified"
    raise NotVerifiedError(subject, f"{need} ({detail})")


def _keys_text(keys: Sequence[PublicKey]) -> str:
    if len(keys) == 1:
        return f"key {fingerprint(keys[0])}"
    return f"any of {len(keys)} keys"
