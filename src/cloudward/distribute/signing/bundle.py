"""Offline verification of Sigstore bundles (v0.1–v0.3) against a trusted root the user supplies.

Keyless bundles (a Fulcio certificate) are verified by the maintained ``sigstore``
library (extra ``cloudward[sigstore]``, imported lazily): certificate chain to the
root's Fulcio CA at the log's integrated time, SCT, Rekor entry, identity and
issuer. sigstore-python cannot load bundles that carry a *public key hint*
instead of a certificate (what ``cosign sign-blob --key --bundle`` writes), so
those we check ourselves: the signature with the user's key, the message digest
against the artifact, the key hint, and each Rekor entry's signed entry
timestamp (SET) with the log key of the trusted root, the RFC 6962 inclusion
proof and its signed checkpoint when the entry carries them (``tlog``), plus
that a hashedrekord body records the same signature and digest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path
from typing import Any

from cloudward.core import jsonsafe
from cloudward.core.errors import InputError
from cloudward.distribute.signing.blob import check_key
from cloudward.distribute.signing.dsse import Envelope, envelope_verifies, parse_statement
from cloudward.distribute.signing.errors import NotVerifiedError
from cloudward.distribute.signing.keys import PublicKey, fingerprint, load_public_key, spki_der
from cloudward.distribute.signing.model import Verified
from cloudward.distribute.signing.signers import NO_REVOCATIONS, Revocations, verify_digest_signature, verify_signature
from cloudward.distribute.signing.tlog import check_inclusion, set_verifies

MAX_BUNDLE = 16 * 1024 * 1024
SIGSTORE_EXTRA_HINT = "keyless bundles need the sigstore library: pip install 'cloudward[sigstore]'"


def _load_json(path: Path, what: str) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_BUNDLE:
            raise InputError(f"{what} is larger than {MAX_BUNDLE} bytes", file=str(path))
        doc = jsonsafe.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=str(path)) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{what} is not JSON: {e}", file=str(path)) from None
    if not isinstance(doc, dict):
        raise InputError(f"{what} is not a JSON object", file=str(path))
    return doc


def verify_bundle(artifact: bytes | None, bundle_path: Path, *, key: PublicKey | None = None,
                  trusted_root: Path | None = None, identity: str | None = None, issuer: str | None = None,
                  revoked: Revocations = NO_REVOCATIONS, subject: str = "artifact") -> Verified:
    """Verify ``bundle_path`` over ``artifact`` (``None`` for a DSSE bundle checked on its own)."""
    doc = _load_json(bundle_path, "bundle")
    material = doc.get("verificationMaterial")
    if not isinstance(material, dict):
        raise InputError("bundle has no verificationMaterial; is this a Sigstore bundle?", file=str(bundle_path))
    if "publicKey" in material:
        if key is None:
            raise InputError("this bundle was signed with a key; pass --key PUB", file=str(bundle_path))
        return _verify_key_bundle(doc, material, artifact, key, trusted_root, revoked, subject)
    if "certificate" in material or "x509CertificateChain" in material:
        if trusted_root is None or not identity or not issuer:
            raise InputError("keyless bundles need --trusted-root, --certificate-identity and "
                             "--certificate-oidc-issuer", file=str(bundle_path))
        return _verify_keyless(bundle_path, artifact, trusted_root, identity, issuer, subject)
    raise InputError("bundle verificationMaterial has neither publicKey nor a certificate", file=str(bundle_path))


def _verify_keyless(bundle_path: Path, artifact: bytes | None, root: Path, identity: str, issuer: str,
                    subject: str) -> Verified:
    try:
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import Bundle, TrustedRoot
        from sigstore.verify import Verifier
        from sigstore.verify.policy import Identity
    except ImportError:
        raise InputError(SIGSTORE_EXTRA_HINT) from None
    try:
        verifier = Verifier(trusted_root=TrustedRoot.from_file(str(root)))
    except (SigstoreError, ValueError, OSError) as e:
        raise InputError(f"trusted root does not load: {e}", file=str(root)) from None
    try:
        bundle = Bundle.from_json(bundle_path.read_bytes())
    except (SigstoreError, ValueError) as e:
        raise InputError(f"bundle does not load: {e}", file=str(bundle_path)) from None
    policy = Identity(identity=identity, issuer=issuer)
    claims = [("identity", identity), ("issuer", issuer)]
    try:
        if bundle._dsse_envelope is not None:  # sigstore has no public accessor for the content kind
            ptype, payload = verifier.verify_dsse(bundle, policy)
            claims += _dsse_claims(ptype, payload, artifact, subject)
        else:
            if artifact is None:
                raise InputError("this bundle signs an artifact; give the artifact file")
            verifier.verify_artifact(artifact, bundle, policy)
            claims.append(("sha256", hashlib.sha256(artifact).hexdigest()))
    except SigstoreError as e:
        raise NotVerifiedError(subject, str(e).split("\n")[0]) from None
    return Verified(subject, identity, tuple(claims))


def _dsse_claims(ptype: str, payload: bytes, artifact: bytes | None, subject: str) -> list[tuple[str, str]]:
    try:
        stmt = parse_statement(payload)
    except ValueError as e:
        raise NotVerifiedError(subject, f"DSSE payload ({ptype}) is not an in-toto statement: {e}") from None
    if artifact is not None and hashlib.sha256(artifact).hexdigest() not in stmt.digests():
        raise NotVerifiedError(subject, "the attestation's subject digests do not include the artifact's sha256")
    return [("predicateType", stmt.predicate_type)]


def _verify_key_bundle(doc: dict[str, Any], material: dict[str, Any], artifact: bytes | None, key: PublicKey,
                       root: Path | None, revoked: Revocations, subject: str) -> Verified:
    check_key(subject, key, revoked)
    hint = (material.get("publicKey") or {}).get("hint")
    expected_hint = base64.b64encode(hashlib.sha256(spki_der(key)).digest()).decode()
    claims: list[tuple[str, str]] = []
    if hint == expected_hint:  # the hint is advisory (spec); the signature check below is what counts
        claims.append(("keyHint", "matches the key"))
    signature: bytes
    digest_hex = ""
    if isinstance(doc.get("messageSignature"), dict):
        ms = doc["messageSignature"]
        signature = _b64(ms.get("signature"), "messageSignature.signature")
        if artifact is None:
            raise InputError("this bundle signs an artifact; give the artifact file")
        digest = hashlib.sha256(artifact).digest()
        digest_hex = digest.hex()
        recorded = (ms.get("messageDigest") or {}).get("digest")
        if recorded is not None and _b64(recorded, "messageSignature.messageDigest.digest") != digest:
            raise NotVerifiedError(subject, "bundle message digest does not match the artifact's sha256")
        if not verify_digest_signature(key, signature, digest) and not verify_signature(key, signature, artifact):
            raise NotVerifiedError(subject, f"signature does not verify with key {fingerprint(key)}")
        claims.append(("sha256", digest_hex))
    elif isinstance(doc.get("dsseEnvelope"), dict):
        try:
            env = Envelope.from_dict(doc["dsseEnvelope"])
        except ValueError as e:
            raise InputError(f"bundle dsseEnvelope: {e}") from None
        if not envelope_verifies(env, key):
            raise NotVerifiedError(subject, f"DSSE signature does not verify with key {fingerprint(key)}")
        signature = env.signatures[0][1]
        if env.payload_type == "application/vnd.in-toto+json":
            claims += _dsse_claims(env.payload_type, env.payload, artifact, subject)
    else:
        raise InputError("bundle has neither messageSignature nor dsseEnvelope")
    entries = material.get("tlogEntries") or []
    if root is None:
        claims.append(("tlog", "not checked (no --trusted-root)"))
    elif not entries:
        raise NotVerifiedError(subject, "bundle has no transparency log entry to check against the trusted root")
    else:
        logs = rekor_keys(root)
        for entry in entries:
            extra: list[tuple[str, str]] = []
            claims.append(("tlog", _check_entry(entry, logs, signature, digest_hex, subject, extra)))
            claims += extra
    return Verified(subject, fingerprint(key), tuple(claims))


def rekor_keys(root: Path) -> dict[str, PublicKey]:
    """Transparency log keys of a trusted root, by hex log id (sha256 of the key's SPKI)."""
    doc = _load_json(root, "trusted root")
    out: dict[str, PublicKey] = {}
    for tlog in doc.get("tlogs") or []:
        try:
            raw = base64.b64decode(tlog["publicKey"]["rawBytes"])
            log_id = base64.b64decode(tlog["logId"]["keyId"]).hex()
        except (KeyError, TypeError, binascii.Error):
            continue
        pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(raw) + b"-----END PUBLIC KEY-----\n"
        try:
            out[log_id] = load_public_key(pem, str(root))
        except InputError:
            continue
    if not out:
        raise InputError("trusted root has no usable transparency log key (tlogs[].publicKey)", file=str(root))
    return out


def _check_entry(entry: Any, logs: dict[str, PublicKey], signature: bytes, digest_hex: str, subject: str,
                 claims: list[tuple[str, str]]) -> str:
    """Check one tlog entry: SET, inclusion proof and checkpoint when present, and the body's consistency."""
    try:
        log_id = base64.b64decode(entry["logId"]["keyId"]).hex()
        body_b64 = entry["canonicalizedBody"]
        set_sig = base64.b64decode(entry["inclusionPromise"]["signedEntryTimestamp"])
        integrated, index = int(entry["integratedTime"]), int(entry["logIndex"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise NotVerifiedError(subject, "tlog entry lacks logId, body or signed entry timestamp") from None
    log_key = logs.get(log_id)
    if log_key is None:
        raise NotVerifiedError(subject, f"tlog entry is from log {log_id[:16]}…, which the trusted root does not list")
    if not set_verifies(log_key, set_sig, body_b64, integrated, index, log_id):
        raise NotVerifiedError(subject, f"signed entry timestamp of log index {index} does not verify")
    raw_body = base64.b64decode(body_b64)
    proof = entry.get("inclusionProof")
    if proof is not None:
        reason = check_inclusion(proof, raw_body, log_key)
        if reason is not None:
            raise NotVerifiedError(subject, f"log index {index}: {reason}")
        claims.append(("inclusionProof", f"verified to a checkpoint of tree size {int(proof['treeSize'])}"))
    body = jsonsafe.loads(raw_body)
    if body.get("kind") == "hashedrekord":
        spec = body.get("spec") or {}
        if _b64(spec.get("signature", {}).get("content"), "tlog signature") != signature:
            raise NotVerifiedError(subject, "tlog entry records a different signature")
        if digest_hex and spec.get("data", {}).get("hash", {}).get("value") != digest_hex:
            raise NotVerifiedError(subject, "tlog entry records a different artifact digest")
    return f"log index {index} at {integrated}"


def rekor_set_verifies(log_key: PublicKey, set_sig: bytes, body_b64: str, integrated: int, index: int,
                       log_id_hex: str) -> bool:
    """Check a Rekor signed entry timestamp (kept here for callers of the earlier API; see ``tlog``)."""
    return set_verifies(log_key, set_sig, body_b64, integrated, index, log_id_hex)


def _b64(value: Any, where: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except binascii.Error:
        raise InputError(f"bundle {where} is not base64") from None
