"""Signers and the one signature check: the seam between "who holds the key" and "what gets signed".

A ``Signer`` signs bytes and tells its public key; where the private key lives is
its business: a key file (``KeySigner``), or a KMS that signs digests
(``KmsSigner`` around a ``KmsBackend`` such as Vault transit). Signatures are
the ones cosign makes: ECDSA P-256 over SHA-256 (ASN.1 DER), Ed25519 over the
message itself, and, for verification only, RSA PKCS#1 v1.5 with SHA-256.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from cloudward.core.config import Config, NodeParser
from cloudward.distribute.signing.keys import PrivateKey, PublicKey, fingerprint


@runtime_checkable
class Signer(Protocol):
    """Anything that can sign: ``sign(data)`` returns the raw signature over ``data``."""

    def public_key(self) -> PublicKey: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclasses.dataclass(frozen=True, slots=True)
class KeySigner:
    """Signs with a private key held in memory (loaded from a file or generated)."""

    private_key: PrivateKey

    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(data)
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    def __repr__(self) -> str:  # never print key material
        return f"KeySigner({fingerprint(self.public_key())})"


class KmsBackend(Protocol):
    """A key service that signs SHA-256 digests with an ECDSA P-256 key it never hands out."""

    def public_key(self) -> PublicKey: ...

    def sign_digest(self, digest: bytes) -> bytes:
        """ASN.1 DER ECDSA signature over the 32-byte SHA-256 ``digest``."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class KmsSigner:
    """Adapts a digest-signing ``KmsBackend`` to ``Signer`` (hashing happens here, the key stays there)."""

    backend: KmsBackend

    def public_key(self) -> PublicKey:
        return self.backend.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.backend.sign_digest(hashlib.sha256(data).digest())


class InMemoryKms:
    """A ``KmsBackend`` whose key lives in this process: the test double for KMS-style signing."""

    def __init__(self, key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self._key = key or ec.generate_private_key(ec.SECP256R1())
        self.calls = 0

    def public_key(self) -> PublicKey:
        return self._key.public_key()

    def sign_digest(self, digest: bytes) -> bytes:
        self.calls += 1
        return self._key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def verify_signature(pub: PublicKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is ``pub``'s signature over ``data`` (cosign's schemes); never raises for bad sigs."""
    try:
        if isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(signature, data)
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            algo = hashes.SHA384() if pub.curve.name == "secp384r1" else hashes.SHA256()
            pub.verify(signature, data, ec.ECDSA(algo))
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:  # pragma: no cover - load_public_key refuses other types
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_digest_signature(pub: PublicKey, signature: bytes, sha256_digest: bytes) -> bool:
    """Like ``verify_signature`` for a message known only by its SHA-256 digest (Sigstore bundles)."""
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(signature, sha256_digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(signature, sha256_digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        else:
            return False  # Ed25519 signs the message, not a digest
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclasses.dataclass(frozen=True, slots=True)
class Revocations:
    """Fingerprints (``sha256:<hex>`` of the SPKI) of keys that must no longer be trusted, with why.

    Built from ``--revoked-key`` flags and the ``signing.revoked_keys`` section of
    ``.cloudward.yaml`` (``revocations_from_config``), merged with ``merged``.
    """

    fingerprints: frozenset[str] = frozenset()
    reasons: tuple[tuple[str, str], ...] = ()  # (fingerprint, reason) for the entries that give one

    @classmethod
    def of(cls, values: Iterable[str]) -> Revocations:
        return cls(frozenset(normalise_fingerprint(v) for v in values))

    def is_revoked(self, pub: PublicKey) -> bool:
        return fingerprint(pub) in self.fingerprints

    def reason(self, fp: str) -> str | None:
        """Why ``fp`` (a fingerprint) was revoked, when the config says."""
        return next((r for f, r in self.reasons if f == fp), None)

    def merged(self, other: Revocations) -> Revocations:
        reasons = self.reasons + tuple(r for r in other.reasons if r not in self.reasons)
        return Revocations(self.fingerprints | other.fingerprints, reasons)


NO_REVOCATIONS = Revocations()


def normalise_fingerprint(value: str) -> str:
    """Accept ``sha256:HEX``, ``SHA256:HEX`` or bare hex; raise ``ValueError`` for anything else."""
    text = value.strip().lower().removeprefix("sha256:")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"{value!r} is not a key fingerprint; expected sha256:<64 hex digits> "
                         "(see 'cloudward keys fingerprint')")
    return "sha256:" + text


_SIGNING_KEYS = frozenset({"revoked_keys"})
_REVOKED_KEYS = frozenset({"fingerprint", "reason"})


def revocations_from_config(config: Config) -> Revocations:
    """The ``signing.revoked_keys`` list of ``.cloudward.yaml``; errors name the file, line and field.

    ::

        signing:
          revoked_keys:
            - fingerprint: sha256:4cb3...   # 'cloudward keys fingerprint PUB'
              reason: laptop stolen 2026-11-01
    """
    node = config.section("signing")
    if node is None:
        return NO_REVOCATIONS
    p = NodeParser.for_config(config)
    items = p.mapping(node, "signing", _SIGNING_KEYS).get("revoked_keys")
    if p.is_null(items):
        return NO_REVOCATIONS
    assert items is not None
    if not isinstance(items, yaml.SequenceNode):
        raise p.fail(items, "signing.revoked_keys must be a list of {fingerprint, reason} entries")
    fps: set[str] = set()
    reasons: list[tuple[str, str]] = []
    for i, item in enumerate(items.value):
        where = f"signing.revoked_keys[{i}]"
        entry = p.mapping(item, where, _REVOKED_KEYS)
        if "fingerprint" not in entry:
            raise p.fail(item, f"{where} needs 'fingerprint' (sha256:<hex>, from 'cloudward keys fingerprint PUB')")
        if "reason" not in entry:
            raise p.fail(item, f"{where} needs a 'reason' saying why the key is revoked")
        try:
            fp = normalise_fingerprint(p.string(entry["fingerprint"], f"{where}.fingerprint", nonempty=True))
        except ValueError as e:
            raise p.fail(entry["fingerprint"], f"{where}.fingerprint: {e}") from None
        fps.add(fp)
        reasons.append((fp, p.string(entry["reason"], f"{where}.reason", nonempty=True)))
    return Revocations(frozenset(fps), tuple(reasons))
