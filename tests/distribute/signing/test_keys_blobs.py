"""Keys in cosign's encrypted format, and sign-blob/verify-blob — checked against real cosign artifacts."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cloudward.distribute.signing import (
    KeyFileError,
    KeySigner,
    KeyType,
    NotVerifiedError,
    Revocations,
    fingerprint,
    generate_key,
    read_private_key,
    read_public_key,
    sign_blob,
    verify_blob,
    write_key_pair,
)
from cloudward.distribute.signing.blob import decode_signature
from cloudward.distribute.signing.keys import encrypt_private_key, load_private_key
from cloudward.distribute.signing.signers import InMemoryKms, KmsSigner
from tests.distribute.signing.conftest import fixtures_dir
from tests.distribute.signing.helpers import run_cli


# -- cosign's key files (fixtures 1-keys) -------------------------------------------------------------------------
@pytest.mark.parametrize(("case", "password"), [("tektoncd-chains", b"p"), ("zarf", b"test")])
def test_cosign_encrypted_keys_decrypt_to_their_public_key(case: str, password: bytes) -> None:
    d = fixtures_dir() / "1-keys" / case
    key = read_private_key(d / "cosign.key", password)
    assert fingerprint(key.public_key()) == fingerprint(read_public_key(d / "cosign.pub"))


@pytest.mark.parametrize(("case", "wrong"), [("tektoncd-chains", b""), ("zarf", b"wrongpassword")])
def test_cosign_encrypted_keys_refuse_a_wrong_password(case: str, wrong: bytes) -> None:
    path = fixtures_dir() / "1-keys" / case / "cosign.key"
    with pytest.raises(KeyFileError, match="decryption failed") as e:
        read_private_key(path, wrong)
    assert e.value.exit_code == 2
    assert str(path) in str(e.value)


def test_cosign_key_with_empty_password_matches_the_documented_public_key() -> None:
    key = read_private_key(fixtures_dir() / "1-keys/sigstore-rs/cosign_generated_encrypted_empty_private.key", b"")
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert base64.b64encode(der).decode() == ("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGmsWpZNuu+SUX70n3lVK4JLsaoV7T+rhea2r"
                                              "QUu29EQiatoLB06QdsmSd+GsQGlQzfcDtsKPzb+B2zLggrWZjg==")
    with pytest.raises(KeyFileError):
        read_private_key(fixtures_dir() / "1-keys/sigstore-rs/cosign_generated_encrypted_empty_private.key", b"x")


def test_our_encrypted_key_has_cosigns_structure() -> None:
    """Same PEM label, JSON field layout and KDF/cipher as the zarf key cosign wrote."""
    theirs = (fixtures_dir() / "1-keys/zarf/cosign.key").read_bytes()
    ours = encrypt_private_key(generate_key(), b"pw")

    def body(pem: bytes) -> dict:
        import json
        lines = pem.decode().strip().splitlines()
        assert all(len(line) <= 64 for line in lines[1:-1])
        return json.loads(base64.b64decode("".join(lines[1:-1])))

    a, b = body(theirs), body(ours)
    assert ours.splitlines()[0] == theirs.splitlines()[0] == b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"
    assert list(a) == list(b) and list(a["kdf"]) == list(b["kdf"]) and list(a["cipher"]) == list(b["cipher"])
    assert a["kdf"]["params"] == b["kdf"]["params"] == {"N": 65536, "r": 8, "p": 1}
    assert (a["kdf"]["name"], a["cipher"]["name"]) == (b["kdf"]["name"], b["cipher"]["name"])
    assert len(base64.b64decode(b["kdf"]["salt"])) == 32 and len(base64.b64decode(b["cipher"]["nonce"])) == 24


@pytest.mark.parametrize("kind", list(KeyType))
def test_generated_key_pair_round_trips_and_is_private(tmp_path: Path, kind: KeyType) -> None:
    key = generate_key(kind)
    priv, pub = write_key_pair(tmp_path / "release", key, b"s3cret")
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert b"s3cret" not in priv.read_bytes() and b"PRIVATE KEY-----\n" in priv.read_bytes()
    loaded = read_private_key(priv, b"s3cret")
    assert fingerprint(loaded.public_key()) == fingerprint(read_public_key(pub))
    with pytest.raises(KeyFileError, match="wrong password"):
        read_private_key(priv, b"nope")
    with pytest.raises(KeyFileError, match="already exists"):
        write_key_pair(tmp_path / "release", key, b"x")


@pytest.mark.parametrize(("content", "message"), [
    (b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnsibmFtZSI6", "no complete BEGIN/END"),
    (b"hello", "not a PEM private key"),
])
def test_truncated_or_garbage_private_key_is_a_clear_input_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    with pytest.raises(KeyFileError, match=message):
        read_private_key(path, b"x")


def test_wrong_key_type_is_refused_for_signing() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    pem = p384.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    with pytest.raises(KeyFileError, match="secp384r1"):
        load_private_key(pem, None, "p384.key")


def test_truncated_public_key_fails_like_the_conformance_wrong_key_case() -> None:
    with pytest.raises(KeyFileError, match="does not parse"):
        read_public_key(fixtures_dir() / "2-blob-key-bundle/conformance/managed-key-wrong-key_fail/key.pub")


# -- blobs -------------------------------------------------------------------------------------------------------
def test_conformance_signature_verifies_as_a_cosign_sign_blob_signature() -> None:
    """The messageSignature.signature of the bundle is exactly what `cosign sign-blob --key` prints."""
    import json

    d = fixtures_dir() / "2-blob-key-bundle/conformance"
    bundle = json.loads((d / "managed-key-happy-path/bundle.sigstore.json").read_text())
    sig = decode_signature(bundle["messageSignature"]["signature"].encode(), "bundle")
    key = read_public_key(d / "managed-key-happy-path/key.pub")
    blob = (d / "a.txt").read_bytes()
    verified = verify_blob(blob, sig, key, subject="a.txt")
    assert dict(verified.claims)["sha256"] == hashlib.sha256(blob).hexdigest()
    with pytest.raises(NotVerifiedError, match="does not verify"):
        verify_blob(blob + b"x", sig, key, subject="a.txt")


@pytest.mark.parametrize("kind", list(KeyType))
def test_sign_blob_then_verify_blob(kind: KeyType) -> None:
    signer = KeySigner(generate_key(kind))
    sig = sign_blob(b"evidence", signer)
    assert b"\n" not in sig  # cosign's --output-signature has no newline
    verify_blob(b"evidence", base64.b64decode(sig), signer.public_key(), subject="f")
    with pytest.raises(NotVerifiedError, match="signed by another key"):
        verify_blob(b"evidence", base64.b64decode(sig), KeySigner(generate_key(kind)).public_key(), subject="f")


def test_revoked_key_fails_and_says_so() -> None:
    signer = KeySigner(generate_key())
    sig = base64.b64decode(sign_blob(b"x", signer))
    revoked = Revocations.of([fingerprint(signer.public_key()).upper()])
    with pytest.raises(NotVerifiedError, match="revoked"):
        verify_blob(b"x", sig, signer.public_key(), subject="f", revoked=revoked)


def test_kms_style_signer_produces_signatures_the_public_key_verifies() -> None:
    kms = InMemoryKms()
    signer = KmsSigner(kms)
    sig = base64.b64decode(sign_blob(b"sbom", signer))
    verify_blob(b"sbom", sig, signer.public_key(), subject="sbom")
    assert kms.calls == 1


# -- the CLI -----------------------------------------------------------------------------------------------------
def test_cli_generate_sign_verify_blob_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDWARD_PASSWORD", "hunter2")
    monkeypatch.chdir(tmp_path)
    assert run_cli(["keys", "generate"]).code == 0
    assert (tmp_path / "cosign.key").exists() and (tmp_path / "cosign.pub").exists()
    (tmp_path / "f.txt").write_bytes(b"policy v1\n")
    out = run_cli(["sign-blob", "f.txt", "--key", "cosign.key", "--output-signature", "f.sig"])
    assert out.code == 0 and "hunter2" not in out.err
    ok = run_cli(["verify-blob", "f.txt", "--signature", "f.sig", "--key", "cosign.pub"])
    assert ok.code == 0 and "Verified OK" in ok.out
    (tmp_path / "f.txt").write_bytes(b"policy v2\n")
    bad = run_cli(["verify-blob", "f.txt", "--signature", "f.sig", "--key", "cosign.pub"])
    assert bad.code == 1 and "NOT VERIFIED" in bad.err and "does not verify" in bad.err
    missing = run_cli(["verify-blob", "f.txt", "--signature", "nope.sig", "--key", "cosign.pub"])
    assert missing.code == 2 and "nope.sig" in missing.err
    monkeypatch.setenv("CLOUDWARD_PASSWORD", "Tr0ub4dor")
    wrong = run_cli(["sign-blob", "f.txt", "--key", "cosign.key"])
    assert wrong.code == 2 and "wrong password" in wrong.err and "Tr0ub4dor" not in wrong.out + wrong.err


def test_cli_refuses_to_prompt_without_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDWARD_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    out = run_cli(["keys", "generate", "--output-prefix", "k"], stdin_tty=False)
    assert out.code == 2 and "CLOUDWARD_PASSWORD" in out.err
    assert not os.path.exists(tmp_path / "k.key")


def test_keys_from_the_environment_like_cosign(tmp_path, monkeypatch) -> None:
    """--key env://NAME reads the PEM from an environment variable, for CI secret stores."""
    from cloudward.distribute.signing.keys import encrypt_private_key, generate_key, public_key_pem
    from tests.distribute.signing.helpers import run_cli

    key = generate_key()
    monkeypatch.setenv("RELEASE_KEY", encrypt_private_key(key, b"pw", scrypt_n=2**10).decode())
    monkeypatch.setenv("RELEASE_PUB", public_key_pem(key).decode())
    monkeypatch.setenv("CLOUDWARD_PASSWORD", "pw")
    blob = tmp_path / "sbom.json"
    blob.write_text('{"bomFormat": "CycloneDX"}')
    signed = run_cli(["sign-blob", str(blob), "--key", "env://RELEASE_KEY"])
    assert signed.code == 0, signed.err
    (tmp_path / "sbom.sig").write_text(signed.out.strip())
    ok = run_cli(["verify-blob", str(blob), "--signature", str(tmp_path / "sbom.sig"), "--key", "env://RELEASE_PUB"])
    assert ok.code == 0, ok.err
    missing = run_cli(["verify-blob", str(blob), "--signature", str(tmp_path / "sbom.sig"), "--key", "env://NOPE"])
    assert missing.code == 2 and "'NOPE' is not set" in missing.err
