"""Keyless (Fulcio certificate + Rekor bundle) image signatures, verified offline as cosign verifies them.

The valid case and its expected identity, issuer, log index and time window come
from ../shared/cosign-fixtures/README.md (section 3, made by cosign); every
tampered variant is made here from that file, or with the stand-in CA of
``fulcio_kit`` where a fixture cannot show the case.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from pathlib import Path

import pytest

from cloudward.core.errors import InputError
from cloudward.distribute.signing import NotVerifiedError, read_public_key, verify_image
from cloudward.distribute.signing.cosign import (
    LayerRejected,
    SignatureLayer,
    check_simple_signing,
    parse_containers_signature,
)
from cloudward.distribute.signing.images import _append_layer, repository_name, tag_for
from cloudward.distribute.signing.keyless import CertificateIdentity, KeylessPolicy, KeylessTrust
from cloudward.distribute.signing.signers import Revocations
from cloudward.distribute.signing.simplesigning import SIMPLESIGNING_MEDIA_TYPE, build_payload
from tests.distribute.signing.conftest import fixtures_dir
from tests.distribute.signing.fulcio_kit import FakeSigstore

GITHUB_OAUTH = "https://github.com/login/oauth"
REL = "3-image-signatures/containers-image"


def ci() -> Path:
    return fixtures_dir() / REL


def fixture_layer() -> SignatureLayer:
    return parse_containers_signature((ci() / "dir-img-cosign-fulcio-rekor-valid/signature-1").read_bytes())


def fixture_digest() -> str:
    data = (ci() / "dir-img-cosign-fulcio-rekor-valid/manifest.json").read_bytes()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def pem_trust() -> KeylessTrust:
    return KeylessTrust.from_files(ci() / "fulcio_v1.crt.pem", [ci() / "rekor.pub"])


def policy(trust: KeylessTrust | None = None, **identity: str) -> KeylessPolicy:
    ident = identity or {"identity": "mitr@redhat.com", "issuer": GITHUB_OAUTH}
    return KeylessPolicy(trust or pem_trust(), (CertificateIdentity(**ident),))


def check(layer: SignatureLayer, pol: KeylessPolicy, digest: str | None = None, **kw):
    return check_simple_signing(layer, [], digest=digest or fixture_digest(), keyless=pol, **kw)


def with_annotation(layer: SignatureLayer, key: str, value: str) -> SignatureLayer:
    return dataclasses.replace(layer, annotations={**layer.annotations, key: value})


# -- the cosign-made signature: valid --------------------------------------------------------------------------
def test_cosign_keyless_signature_verifies_with_fulcio_root_and_rekor_key() -> None:
    v = check(fixture_layer(), policy(), identity="192.168.64.2:5000/cosign-signed/fulcio-rekor-1")
    claims = dict(v.claims)
    assert v.key == "mitr@redhat.com"
    assert claims["issuer"] == GITHUB_OAUTH
    assert claims["tlog"] == "log index 11605770 at 1674247893"  # README: 2023-01-20T20:51:33Z
    assert claims["certificate"] == "chains to CN=sigstore,O=sigstore.dev at 2023-01-20T20:51:33Z"
    assert claims["sct"].startswith("not checked")  # a bare Fulcio PEM carries no CT log key
    assert claims["digest"] == fixture_digest()


def test_with_the_production_trusted_root_the_sct_is_verified_too() -> None:
    trust = KeylessTrust.from_trusted_root(fixtures_dir() / "trusted-roots/sigstore-python/production/"
                                           "trusted_root.json")
    v = check(fixture_layer(), policy(trust))
    assert dict(v.claims)["sct"].startswith("verified (CT log dd3d306ac6c71132")


@pytest.mark.parametrize("identity", [
    {"identity_regexp": r"^[a-z]+@redhat\.com$", "issuer": GITHUB_OAUTH},
    {"identity": "mitr@redhat.com", "issuer_regexp": r"^https://github\.com/"},
    {"identity_regexp": "redhat", "issuer_regexp": "github"},  # searched, not anchored, as Go's MatchString
])
def test_regexp_identities_match(identity: dict[str, str]) -> None:
    assert check(fixture_layer(), policy(**identity)).key == "mitr@redhat.com"


@pytest.mark.parametrize(("identity", "shown"), [
    ({"identity": "someone@redhat.com", "issuer": GITHUB_OAUTH}, "someone@redhat.com from"),
    ({"identity": "mitr@redhat.com", "issuer": "https://token.actions.githubusercontent.com"}, "mitr@redhat.com"),
    ({"identity_regexp": r"^mitr@example\.com$", "issuer": GITHUB_OAUTH}, r"/^mitr@example\.com$/"),
    ({"identity": "mitr@redhat.com", "issuer_regexp": "^https://gitlab"}, "/^https://gitlab/"),
])
def test_identity_or_issuer_mismatch_fails_naming_both(identity: dict[str, str], shown: str) -> None:
    with pytest.raises(LayerRejected, match="does not match the expected") as e:
        check(fixture_layer(), policy(**identity))
    assert "mitr@redhat.com from https://github.com/login/oauth" in str(e.value) and shown in str(e.value)


# -- tampered copies of the cosign-made signature -----------------------------------------------------------------
def test_changed_payload_fails_on_the_signature() -> None:
    layer = fixture_layer()
    tampered = dataclasses.replace(layer, blob=layer.blob.replace(b"fulcio-rekor-1", b"fulcio-rekor-2"))
    assert tampered.blob != layer.blob
    with pytest.raises(LayerRejected, match="does not verify with the certificate's key"):
        check(tampered, policy())


def test_signature_checked_against_another_image_fails_on_the_digest() -> None:
    with pytest.raises(LayerRejected, match="not this image"):
        check(fixture_layer(), policy(), digest="sha256:" + "ab" * 32)


def test_changed_integrated_time_breaks_the_signed_entry_timestamp() -> None:
    layer = fixture_layer()
    bundle = json.loads(layer.annotations["dev.sigstore.cosign/bundle"])
    bundle["Payload"]["integratedTime"] += 3600  # an hour later: outside the certificate's window
    with pytest.raises(LayerRejected, match=r"signed entry timestamp .* does not verify"):
        check(with_annotation(layer, "dev.sigstore.cosign/bundle", json.dumps(bundle)), policy())


def test_missing_rekor_bundle_fails_because_no_time_can_be_trusted() -> None:
    layer = fixture_layer()
    stripped = dataclasses.replace(layer, annotations={k: v for k, v in layer.annotations.items()
                                                       if k != "dev.sigstore.cosign/bundle"})
    with pytest.raises(LayerRejected, match="no Rekor bundle"):
        check(stripped, policy())


def test_rekor_key_that_is_not_the_log_fails() -> None:
    trust = KeylessTrust.from_files(ci() / "fulcio_v1.crt.pem", [ci() / "cosign.pub"])
    with pytest.raises(LayerRejected, match="not a trusted log"):
        check(fixture_layer(), policy(trust))


def test_another_fulcio_root_fails_the_chain(tmp_path: Path) -> None:
    other = tmp_path / "root.pem"
    other.write_bytes(FakeSigstore.create().root_pem())
    trust = KeylessTrust.from_files(other, [ci() / "rekor.pub"])
    with pytest.raises(LayerRejected, match="does not chain to a trusted Fulcio root at 2023-01-20T20:51:33Z"):
        check(fixture_layer(), policy(trust))


def test_certificate_swapped_for_another_fails() -> None:
    """A certificate for the right e-mail from another CA, with its own signature: the log recorded another."""
    fake = FakeSigstore.create()
    forged = fake.layer(fixture_layer().blob, email="mitr@redhat.com", issuer=GITHUB_OAUTH)
    layer = fixture_layer()
    mixed = dataclasses.replace(layer, annotations={
        **layer.annotations, **{k: v for k, v in forged.annotations.items() if k != "dev.sigstore.cosign/bundle"}})
    with pytest.raises(LayerRejected, match="Rekor entry records a different signature"):
        check(mixed, policy())


def test_revoked_certificate_key_fails() -> None:
    from cloudward.distribute.signing.keyless import certificate_key, parse_certificates
    from cloudward.distribute.signing.keys import fingerprint

    leaf, _ = parse_certificates(fixture_layer().annotations["dev.sigstore.cosign/certificate"], None)
    revoked = Revocations.of([fingerprint(certificate_key(leaf))])
    with pytest.raises(LayerRejected, match="revoked"):
        check(fixture_layer(), policy(), revoked=revoked)


def test_keyless_and_key_signatures_do_not_stand_in_for_each_other() -> None:
    with pytest.raises(LayerRejected, match="keyless signature"):
        check_simple_signing(fixture_layer(), [read_public_key(ci() / "cosign.pub")], digest=fixture_digest())
    key_layer = parse_containers_signature((ci() / "dir-img-cosign-valid/signature-1").read_bytes())
    with pytest.raises(LayerRejected, match="signed with a key"):
        check_simple_signing(key_layer, [], digest=fixture_digest(), keyless=policy())


def test_policy_refuses_missing_or_bad_identity_input() -> None:
    with pytest.raises(InputError, match="refusing to accept any signer"):
        KeylessPolicy(pem_trust(), ())
    with pytest.raises(InputError, match="exactly one of --certificate-oidc-issuer"):
        CertificateIdentity(identity="a@b")
    with pytest.raises(InputError, match="not a valid regular expression"):
        CertificateIdentity(identity_regexp="(", issuer="x")
    with pytest.raises(InputError, match="not PEM certificates"):
        KeylessTrust.from_files(ci() / "rekor.pub", [ci() / "rekor.pub"])


# -- cases the fixture cannot show: a stand-in CA and log --------------------------------------------------------
def _kit_policy(fake: FakeSigstore, tmp_path: Path, email: str = "dev@example.com") -> KeylessPolicy:
    (tmp_path / "root.pem").write_bytes(fake.root_pem())
    (tmp_path / "rekor.pub").write_bytes(fake.rekor_pub_pem())
    trust = KeylessTrust.from_files(tmp_path / "root.pem", [tmp_path / "rekor.pub"])
    return KeylessPolicy(trust, (CertificateIdentity(identity=email, issuer="https://issuer.example"),))


def test_certificate_must_be_valid_at_the_log_time_not_now(tmp_path: Path) -> None:
    fake = FakeSigstore.create()
    pol = _kit_policy(fake, tmp_path)
    payload = build_payload("r.example/app", "sha256:" + "cd" * 32)
    start = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    ok = fake.layer(payload, signed_at=start, logged_at=start + datetime.timedelta(minutes=9))
    assert check_simple_signing(ok, [], digest="sha256:" + "cd" * 32, keyless=pol).key == "dev@example.com"
    late = fake.layer(payload, signed_at=start, logged_at=start + datetime.timedelta(minutes=11))
    with pytest.raises(LayerRejected, match=r"valid 2024-05-01T12:00:00Z to 2024-05-01T12:10:00Z, but the log "
                                            r"recorded the signature at 2024-05-01T12:11:00Z"):
        check_simple_signing(late, [], digest="sha256:" + "cd" * 32, keyless=pol)


def test_keyless_image_signature_through_the_registry(registry, image, tmp_path: Path) -> None:
    ref, digest = image
    client = registry.client()
    fake = FakeSigstore.create()
    layer = fake.layer(build_payload(repository_name(ref), digest))
    _append_layer(client, ref.repository, tag_for(digest, "sig"), layer.blob, SIMPLESIGNING_MEDIA_TYPE,
                  layer.annotations)
    out = verify_image(client, ref, [], keyless=_kit_policy(fake, tmp_path))
    assert [v.key for v in out.verified] == ["dev@example.com"] and out.digest == digest
    with pytest.raises(NotVerifiedError, match=r"does not match the expected someone@example\.com"):
        verify_image(client, ref, [], keyless=_kit_policy(fake, tmp_path, "someone@example.com"))
    with pytest.raises(NotVerifiedError, match="keyless signature"):  # a key alone never accepts a certificate
        verify_image(client, ref, [read_public_key(ci() / "cosign.pub")])
    with pytest.raises(InputError, match="at least one --key"):
        verify_image(client, ref, [])


def test_cli_verifies_keyless_signatures_with_identity_and_trust_root(registry, image, tmp_path: Path) -> None:
    from tests.distribute.signing.helpers import run_cli

    ref, digest = image
    client = registry.client()
    fake = FakeSigstore.create()
    layer = fake.layer(build_payload(repository_name(ref), digest))
    _append_layer(client, ref.repository, tag_for(digest, "sig"), layer.blob, SIMPLESIGNING_MEDIA_TYPE,
                  layer.annotations)
    (tmp_path / "root.pem").write_bytes(fake.root_pem())
    (tmp_path / "rekor.pub").write_bytes(fake.rekor_pub_pem())
    img = f"{registry.host}/{ref.repository}:v1"
    trust = ["--fulcio-root", str(tmp_path / "root.pem"), "--rekor-key", str(tmp_path / "rekor.pub"),
             "--certificate-oidc-issuer", "https://issuer.example", "--allow-insecure-registry"]
    ok = run_cli(["verify", img, "--certificate-identity", "dev@example.com", *trust])
    assert ok.code == 0, ok.err
    wrong = run_cli(["verify", img, "--certificate-identity-regexp", "^ops@", *trust])
    assert wrong.code == 1 and "ops@" in wrong.err
    no_root = run_cli(["verify", img, "--certificate-identity", "dev@example.com",
                       "--certificate-oidc-issuer", "https://issuer.example", "--allow-insecure-registry"])
    assert no_root.code == 2 and "trust root" in no_root.err
