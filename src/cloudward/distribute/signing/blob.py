"""``sign-blob`` / ``verify-blob``: detached signatures over files, in cosign's format.

cosign's ``sign-blob --key`` prints base64 of the raw signature (ECDSA: ASN.1 DER
over SHA-256 of the file); ``verify-blob --signature`` reads the same. We write
it without a trailing newline, as ``cosign sign-blob --output-signature`` does,
and accept surrounding whitespace on reading.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cloudward.core.errors import InputError
from cloudward.distribute.signing.errors import NotVerifiedError
from cloudward.distribute.signing.keys import PublicKey, fingerprint
from cloudward.distribute.signing.model import Verified
from cloudward.distribute.signing.signers import NO_REVOCATIONS, Revocations, Signer, verify_signature

MAX_SIGNATURE_FILE = 64 * 1024


def sign_blob(data: bytes, signer: Signer) -> bytes:
    """base64 of ``signer``'s signature over ``data``: the bytes of cosign's ``.sig`` file."""
    return base64.b64encode(signer.sign(data))


def decode_signature(text: bytes, source: str) -> bytes:
    if len(text) > MAX_SIGNATURE_FILE:
        raise InputError(f"signature is larger than {MAX_SIGNATURE_FILE} bytes; is this a signature file?",
                         file=source)
    try:
        raw = base64.b64decode(b"".join(text.split()), validate=True)
    except binascii.Error:
        raise InputError("signature is not base64 (cosign sign-blob output is base64)", file=source) from None
    if not raw:
        raise InputError("signature file is empty", file=source)
    return raw


def check_key(subject: str, pub: PublicKey, revoked: Revocations) -> None:
    if revoked.is_revoked(pub):
        raise NotVerifiedError(subject, f"key {fingerprint(pub)} is revoked (listed in signing.revoked_keys)")


def verify_blob(data: bytes, signature: bytes, pub: PublicKey, *, subject: str,
                revoked: Revocations = NO_REVOCATIONS) -> Verified:
    """Check a detached raw ``signature`` over ``data``; raise ``NotVerifiedError`` saying why not."""
    check_key(subject, pub, revoked)
    if not verify_signature(pub, signature, data):
        raise NotVerifiedError(subject, f"signature does not verify with key {fingerprint(pub)}: the file was "
                               "changed or it was signed by another key")
    return Verified(subject, fingerprint(pub), (("sha256", hashlib.sha256(data).hexdigest()),))
