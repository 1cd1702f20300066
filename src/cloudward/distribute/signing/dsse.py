"""DSSE envelopes (secure-systems-lab/dsse v1.0) and in-toto Statements (in-toto/attestation v1).

Signatures are over PAE: ``"DSSEv1" SP len(type) SP type SP len(payload) SP payload``.
The envelope JSON is written with cosign's field order and an empty ``keyid`` so
it matches what ``cosign attest`` stores. Statements are checked against the
spec text (there is no official JSON schema): ``_type``, a non-empty ``subject``
list whose entries each have a non-empty ``digest`` map of lower-case hex, and a
``predicateType`` URI; ``predicate`` is optional but must be an object.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cloudward.core import jsonsafe
from cloudward.distribute.signing.keys import PublicKey
from cloudward.distribute.signing.signers import Signer, verify_signature

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
DSSE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
MAX_ENVELOPE = 16 * 1024 * 1024
_HEX = re.compile(r"^[0-9a-f]+$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
# in-toto digest_set.md: these algorithms are hex-encoded; others (e.g. gitCommit) are too in practice.
_HEX_ALGOS = {"sha256", "sha224", "sha384", "sha512", "sha512_224", "sha512_256", "sha3_224", "sha3_256",
              "sha3_384", "sha3_512", "shake128", "shake256", "blake2b", "blake2s", "ripemd160", "sm3", "gost",
              "sha1", "md5", "gitCommit", "gitTree", "gitBlob", "gitTag"}


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding of ``payload``."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[tuple[str, bytes], ...]  # (keyid, raw signature)

    def to_json(self) -> bytes:
        sigs = [{"keyid": kid, "sig": base64.b64encode(sig).decode()} for kid, sig in self.signatures]
        doc = {"payloadType": self.payload_type, "payload": base64.b64encode(self.payload).decode(),
               "signatures": sigs}
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Envelope:
        """Parse an envelope; raise ``ValueError`` naming the wrong field."""
        if len(data) > MAX_ENVELOPE:
            raise ValueError(f"envelope is {len(data)} bytes, above the {MAX_ENVELOPE} byte limit")
        try:
            doc = jsonsafe.loads(data)
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"envelope is not JSON: {e}") from None
        if not isinstance(doc, dict):
            raise ValueError("envelope is not a JSON object")
        return cls.from_dict(doc)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Envelope:
        ptype, payload, sigs = doc.get("payloadType"), doc.get("payload"), doc.get("signatures")
        if not isinstance(ptype, str) or not ptype:
            raise ValueError("envelope.payloadType is missing")
        if not isinstance(payload, str):
            raise ValueError("envelope.payload is missing")
        if not isinstance(sigs, list) or not sigs:
            raise ValueError("envelope.signatures is missing or empty")
        out = []
        for i, s in enumerate(sigs):
            if not isinstance(s, dict) or not isinstance(s.get("sig"), str):
                raise ValueError(f"envelope.signatures[{i}].sig is missing")
            out.append((str(s.get("keyid") or ""), _b64(s["sig"], f"envelope.signatures[{i}].sig")))
        return cls(ptype, _b64(payload, "envelope.payload"), tuple(out))


def sign_envelope(payload_type: str, payload: bytes, signer: Signer, keyid: str = "") -> Envelope:
    return Envelope(payload_type, payload, ((keyid, signer.sign(pae(payload_type, payload))),))


def envelope_verifies(envelope: Envelope, pub: PublicKey) -> bool:
    """True when at least one of the envelope's signatures is ``pub``'s over the PAE."""
    message = pae(envelope.payload_type, envelope.payload)
    return any(verify_signature(pub, sig, message) for _, sig in envelope.signatures)


# -- in-toto Statement ---------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class Subject:
    name: str
    digest: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "digest": dict(self.digest)}


@dataclasses.dataclass(frozen=True, slots=True)
class Statement:
    type: str
    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any] | None

    def to_json(self) -> bytes:
        doc: dict[str, Any] = {"_type": self.type, "subject": [s.to_dict() for s in self.subjects],
                               "predicateType": self.predicate_type}
        if self.predicate is not None:
            doc["predicate"] = self.predicate
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()

    def digests(self, algorithm: str = "sha256") -> set[str]:
        return {v for s in self.subjects for a, v in s.digest if a == algorithm}


def build_statement(subjects: Sequence[Subject], predicate_type: str, predicate: Mapping[str, Any] | None) -> Statement:
    stmt = Statement(STATEMENT_V1, tuple(subjects), predicate_type, predicate)
    parse_statement(stmt.to_json())  # our own output must pass our own checks
    return stmt


def parse_statement(raw: bytes, *, allow_v01: bool = True) -> Statement:
    """Parse and check a Statement against the in-toto v1 spec text; ``ValueError`` names the field."""
    try:
        doc = jsonsafe.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"statement is not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ValueError("statement is not a JSON object")
    stype = doc.get("_type")
    if stype != STATEMENT_V1 and not (allow_v01 and stype == STATEMENT_V01):
        raise ValueError(f"statement._type is {stype!r}, expected {STATEMENT_V1!r}")
    subjects = doc.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise ValueError("statement.subject must be a non-empty list")
    out = []
    for i, s in enumerate(subjects):
        where = f"statement.subject[{i}]"
        if not isinstance(s, dict):
            raise ValueError(f"{where} is not an object")
        digest = s.get("digest")
        if not isinstance(digest, dict) or not digest:
            raise ValueError(f"{where}.digest must be a non-empty map of algorithm to hex value")
        for algo, value in digest.items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"{where}.digest.{algo} is not a string")
            if algo in _HEX_ALGOS and stype == STATEMENT_V1 and not _HEX.match(value):
                raise ValueError(f"{where}.digest.{algo} is not lower-case hex")
        name = s.get("name", "")
        if not isinstance(name, str):
            raise ValueError(f"{where}.name is not a string")
        out.append(Subject(name, tuple(sorted((str(k), str(v)) for k, v in digest.items()))))
    ptype = doc.get("predicateType")
    if not isinstance(ptype, str) or not _URI.match(ptype):
        raise ValueError(f"statement.predicateType {ptype!r} is not a URI")
    predicate = doc.get("predicate")
    if predicate is not None and not isinstance(predicate, dict):
        raise ValueError("statement.predicate is not a JSON object")
    return Statement(stype, tuple(out), ptype, predicate)


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        try:  # DSSE allows URL-safe base64 too
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise ValueError(f"{where} is not base64") from None
