"""Offline checks of Rekor (v1) transparency log evidence: SET, inclusion proof, signed checkpoint.

A Rekor entry carries up to three pieces of evidence. The *signed entry
timestamp* (SET) is the log's signature over the entry's canonical JSON — a
promise to include it. The *inclusion proof* is an RFC 6962 Merkle audit path
from the entry's leaf hash to a tree root, and the *checkpoint* is the log's
signed statement (a "signed note") of that tree's size and root hash. With all
three, a verifier knows the entry is in the tree the log signed, not only that
the log promised to add it. Each function here returns a reason string on
failure (``None`` when the check passes) so that the callers, which report
per-layer or per-bundle reasons, can word their own errors.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json

from cloudward.distribute.signing.keys import PublicKey
from cloudward.distribute.signing.signers import verify_signature

_MAX_PROOF = 64  # a tree of 2**64 leaves needs at most 64 hashes; more is hostile input
_NOTE_SIG_PREFIX = "\u2014 "  # "— ", the em dash that starts every signature line of a signed note


def set_verifies(log_key: PublicKey, set_sig: bytes, body_b64: str, integrated: int, index: int,
                 log_id_hex: str) -> bool:
    """Check a Rekor signed entry timestamp: the log's signature over its canonical entry JSON."""
    # The SET signs RFC 8785 canonical JSON; with these four ASCII fields sorted compact JSON is canonical.
    promise = json.dumps({"body": body_b64, "integratedTime": integrated, "logID": log_id_hex, "logIndex": index},
                         sort_keys=True, separators=(",", ":")).encode()
    return verify_signature(log_key, set_sig, promise)


def leaf_hash(entry_body: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || leaf). Rekor's leaf is the canonicalized entry body."""
    return hashlib.sha256(b"\x00" + entry_body).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_root(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """The root hash the audit ``path`` implies for ``leaf`` at ``index`` of ``size`` (RFC 9162 2.1.3.2).

    ``None`` when the path has the wrong length for this index and size.
    """
    if not 0 <= index < size or len(path) > _MAX_PROOF:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


@dataclasses.dataclass(frozen=True, slots=True)
class Checkpoint:
    """The body of a Rekor checkpoint: which log, how many leaves, which root."""

    origin: str
    size: int
    root_hash: bytes


def verify_checkpoint(note: str, log_key: PublicKey) -> Checkpoint | str:
    """Parse a signed note and check one of its signatures with ``log_key``; a reason string if it fails.

    The note is ``text + "\\n" + signature lines``; the text is origin, tree size
    and base64 root hash, one per line (further lines are extensions), and each
    signature line is ``— NAME base64(4-byte key hint || signature)`` over the
    text including its final newline.
    """
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        return "checkpoint is not a signed note (no blank line before the signatures)"
    signed = (text + "\n").encode()
    lines = text.split("\n")
    if len(lines) < 3:
        return "checkpoint text needs origin, tree size and root hash lines"
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        return "checkpoint tree size or root hash does not parse"
    verified = False
    for line in sigs.splitlines():
        if not line.startswith(_NOTE_SIG_PREFIX):
            continue
        _, _, b64 = line[len(_NOTE_SIG_PREFIX):].rpartition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            continue
        if len(raw) > 4 and verify_signature(log_key, raw[4:], signed):
            verified = True
            break
    if not verified:
        return "checkpoint signature does not verify with the log's key"
    return Checkpoint(lines[0], size, root)


def check_inclusion(proof: object, body: bytes, log_key: PublicKey) -> str | None:
    """Check a bundle's ``inclusionProof`` (audit path + checkpoint) for the entry ``body``; reason or ``None``."""
    if not isinstance(proof, dict):
        return "inclusion proof is not an object"
    try:
        index, size = int(proof["logIndex"]), int(proof["treeSize"])
        root = base64.b64decode(proof["rootHash"], validate=True)
        path = [base64.b64decode(h, validate=True) for h in proof.get("hashes") or []]
        envelope = proof["checkpoint"]["envelope"]
    except (KeyError, TypeError, ValueError, binascii.Error):
        return "inclusion proof lacks logIndex, treeSize, rootHash, hashes or checkpoint"
    if any(len(h) != 32 for h in path) or len(root) != 32:
        return "inclusion proof hashes are not SHA-256 values"
    computed = inclusion_root(index, size, leaf_hash(body), path)
    if computed is None:
        return f"inclusion proof has the wrong number of hashes for index {index} in a tree of {size}"
    if computed != root:
        return "inclusion proof does not lead from the entry to the proof's root hash"
    checkpoint = verify_checkpoint(str(envelope), log_key)
    if isinstance(checkpoint, str):
        return checkpoint
    if (checkpoint.size, checkpoint.root_hash) != (size, root):
        return (f"checkpoint (tree size {checkpoint.size}) does not sign the proof's root hash and tree size "
                f"{size}")
    return None
