"""Rekor inclusion proofs and signed checkpoints in key-based Sigstore bundles (RFC 6962 / signed notes).

The valid bundles are the sigstore-conformance ``managed-key-*`` cases in
../shared/cosign-fixtures (README section 2); the tampered ones are copies this
test writes. The Merkle arithmetic is also checked against RFC 6962's recursive
definitions of MTH and PATH, written out here independently of the code.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from cloudward.distribute.signing import NotVerifiedError, read_public_key, verify_bundle
from cloudward.distribute.signing.tlog import inclusion_root, leaf_hash
from tests.distribute.signing.conftest import fixtures_dir


def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 2.1: Merkle Tree Hash, by its recursive definition."""
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _h(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 2.1.1: PATH(m, D[n]), by its recursive definition."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def test_inclusion_root_agrees_with_rfc6962_definitions_for_every_small_tree() -> None:
    for n in range(1, 40):
        leaves = [f"leaf-{i}".encode() for i in range(n)]
        root = _mth(leaves)
        for m in range(n):
            path = _path(m, leaves)
            assert inclusion_root(m, n, leaf_hash(leaves[m]), path) == root, (m, n)
            if path:
                assert inclusion_root(m, n, leaf_hash(leaves[m]), path[:-1]) != root
                assert inclusion_root(m, n, leaf_hash(b"other"), path) != root
    assert inclusion_root(5, 5, leaf_hash(b"x"), []) is None  # index outside the tree


CONF = "2-blob-key-bundle/conformance"
PROD_ROOT = "trusted-roots/sigstore-python/production/trusted_root.json"


def _bundle() -> dict[str, Any]:
    return json.loads((fixtures_dir() / CONF / "managed-key-happy-path/bundle.sigstore.json").read_text())


def _verify(doc: dict[str, Any], tmp_path: Path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc))
    d = fixtures_dir() / CONF
    return verify_bundle((d / "a.txt").read_bytes(), path, key=read_public_key(d / "managed-key-happy-path/key.pub"),
                         trusted_root=fixtures_dir() / PROD_ROOT)


def test_happy_path_inclusion_proof_and_checkpoint_verify(tmp_path: Path) -> None:
    claims = dict(_verify(_bundle(), tmp_path).claims)
    assert claims["inclusionProof"] == "verified to a checkpoint of tree size 649584076"
    d = fixtures_dir() / CONF / "managed-key-and-trusted-root"
    v = verify_bundle((fixtures_dir() / CONF / "a.txt").read_bytes(), d / "bundle.sigstore.json",
                      key=read_public_key(d / "key.pub"), trusted_root=d / "trusted_root.json")
    assert dict(v.claims)["inclusionProof"].startswith("verified to a checkpoint of tree size")


def _proof(doc: dict[str, Any]) -> dict[str, Any]:
    proof: dict[str, Any] = doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    return proof


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(("tamper", "reason"), [
    (lambda p: p["hashes"].__setitem__(3, _flip(p["hashes"][3])), "does not lead from the entry"),
    (lambda p: p["hashes"].pop(), "wrong number of hashes"),
    (lambda p: p.__setitem__("logIndex", str(int(p["logIndex"]) - 1)), "does not lead from the entry"),
    (lambda p: p.__setitem__("rootHash", _flip(p["rootHash"])), "does not lead from the entry"),
    (lambda p: p["checkpoint"].__setitem__("envelope", p["checkpoint"]["envelope"].replace("649584076", "649584077",
                                                                                          1)),
     "checkpoint signature does not verify"),
    (lambda p: p["checkpoint"].__setitem__("envelope", p["checkpoint"]["envelope"].replace("\n\n", "\n")),
     "not a signed note"),
    (lambda p: p.__delitem__("checkpoint"), "lacks"),
])
def test_tampered_inclusion_proofs_fail_with_the_reason(tmp_path: Path, tamper, reason: str) -> None:
    doc = copy.deepcopy(_bundle())
    tamper(_proof(doc))
    assert doc != _bundle()
    with pytest.raises(NotVerifiedError, match=reason):
        _verify(doc, tmp_path)


def test_a_proof_to_another_tree_than_the_checkpoint_fails(tmp_path: Path) -> None:
    """A correct audit path and a correctly signed checkpoint, but for different trees."""
    doc = _bundle()
    other = json.loads((fixtures_dir() / CONF / "managed-key-and-trusted-root/bundle.sigstore.json").read_text())
    # same log key is needed for the checkpoint to verify; the staging checkpoint does not, so this must fail
    _proof(doc)["checkpoint"] = _proof(other)["checkpoint"]
    with pytest.raises(NotVerifiedError, match="checkpoint"):
        _verify(doc, tmp_path)
