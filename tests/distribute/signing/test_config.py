"""``signing.revoked_keys`` in .cloudward.yaml: parsed with file:line errors, honoured by every verify command."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudward.core.config import load_config, parse_config
from cloudward.core.errors import ConfigError
from cloudward.distribute.signing import KeySigner, fingerprint, generate_key, sign_blob, sign_image
from cloudward.distribute.signing.keys import public_key_pem
from cloudward.distribute.signing.signers import Revocations, revocations_from_config
from tests.distribute.signing.helpers import run_cli


def revoked_config(fp: str, reason: str = "laptop stolen 2026-11-01") -> str:
    return f"rules:\n  disable: []\nsigning:\n  revoked_keys:\n    - fingerprint: {fp}\n      reason: {reason}\n"


def test_revoked_keys_are_parsed_and_normalised() -> None:
    key = KeySigner(generate_key()).public_key()
    fp = fingerprint(key)
    config = parse_config(revoked_config(fp.upper().replace("SHA256:", "")), "c.yaml")
    rev = revocations_from_config(config)
    assert rev.is_revoked(key)
    assert rev.reason(fp) == "laptop stolen 2026-11-01"
    merged = rev.merged(Revocations.of(["sha256:" + "a" * 64]))
    assert merged.fingerprints == {fp, "sha256:" + "a" * 64} and merged.reason(fp) == "laptop stolen 2026-11-01"
    assert revocations_from_config(parse_config("signing:\n", "c.yaml")).fingerprints == frozenset()


@pytest.mark.parametrize(("text", "line", "needle"), [
    (revoked_config("sha256:abc"), 5, "signing.revoked_keys[0].fingerprint: 'sha256:abc' is not a key fingerprint"),
    ("signing:\n  revoked_keys:\n    - fingerprint: sha256:" + "b" * 64 + "\n", 3, "needs a 'reason'"),
    ("signing:\n  revoked_keys:\n    - reason: x\n", 3, "needs 'fingerprint'"),
    ("signing:\n  revoke: []\n", 2, "unknown key 'revoke' in signing"),
    ("signing:\n  revoked_keys: sha256:x\n", 2, "must be a list"),
])
def test_bad_entries_name_file_line_and_field(text: str, line: int, needle: str) -> None:
    with pytest.raises(ConfigError) as e:
        revocations_from_config(parse_config(text, "c.yaml"))
    assert e.value.file == "c.yaml" and e.value.line == line
    assert needle in e.value.message


@pytest.fixture
def blob(tmp_path: Path) -> tuple[Path, Path, Path, str]:
    signer = KeySigner(generate_key())
    data = tmp_path / "artifact.bin"
    data.write_bytes(b"release 1.0")
    sig = tmp_path / "artifact.sig"
    sig.write_bytes(sign_blob(data.read_bytes(), signer))
    pub = tmp_path / "release.pub"
    pub.write_bytes(public_key_pem(signer.public_key()))
    return data, sig, pub, fingerprint(signer.public_key())


def test_verify_blob_fails_for_a_key_revoked_in_the_nearest_config(tmp_path: Path, blob: tuple[Path, Path, Path, str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data, sig, pub, fp = blob
    work = tmp_path / "project" / "sub"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    ok = run_cli(["verify-blob", str(data), "--signature", str(sig), "--key", str(pub)])
    assert ok.code == 0, ok.err
    (tmp_path / "project" / ".cloudward.yaml").write_text(revoked_config(fp))  # found upward from the cwd
    bad = run_cli(["verify-blob", str(data), "--signature", str(sig), "--key", str(pub)])
    assert bad.code == 1
    assert f"NOT VERIFIED: {data}: key {fp} is revoked" in bad.err
    assert "laptop stolen 2026-11-01" in bad.err


def test_explicit_config_and_bad_config_exit_2(tmp_path: Path, blob: tuple[Path, Path, Path, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    data, sig, pub, fp = blob
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "elsewhere.yaml"
    cfg.write_text(revoked_config(fp, "rotated"))
    r = run_cli(["verify-blob", str(data), "--signature", str(sig), "--key", str(pub), "--config", str(cfg),
                 "--output", "json"])
    assert r.code == 1 and '"verified": false' in r.out and "rotated" in r.out
    cfg.write_text(revoked_config("sha256:nothex"))
    r = run_cli(["verify-blob", str(data), "--signature", str(sig), "--key", str(pub), "--config", str(cfg)])
    assert r.code == 2
    assert f"{cfg}:5:" in r.err and "is not a key fingerprint" in r.err and "Traceback" not in r.err
    assert load_config(cfg).section("signing") is not None


def test_verify_image_fails_for_a_key_revoked_in_config(registry, image, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ref, _digest = image
    signer = KeySigner(generate_key())
    sign_image(registry.client(), ref, signer)
    pub = tmp_path / "k.pub"
    pub.write_bytes(public_key_pem(signer.public_key()))
    monkeypatch.chdir(tmp_path)
    argv = ["verify", str(ref), "--key", str(pub), "--allow-insecure-registry"]
    assert run_cli(argv).code == 0
    (tmp_path / ".cloudward.yaml").write_text(revoked_config(fingerprint(signer.public_key()), "key leaked"))
    r = run_cli(argv)
    assert r.code == 1
    assert f"signed by revoked key {fingerprint(signer.public_key())}" in r.err and "key leaked" in r.err
    # --revoked-key still works and adds to the config's list
    (tmp_path / ".cloudward.yaml").unlink()
    r = run_cli([*argv, "--revoked-key", fingerprint(signer.public_key())])
    assert r.code == 1 and "revoked" in r.err
