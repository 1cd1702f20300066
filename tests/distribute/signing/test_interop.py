"""Verdicts on artifacts made by cosign, sigstore-python, sigstore-go and the npm registry.

Each case and its expected verdict come from ../shared/cosign-fixtures/README.md.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cloudward.distribute.signing import NotVerifiedError, read_public_key, verify_bundle
from cloudward.distribute.signing.cosign import (
    LayerRejected,
    check_simple_signing,
    parse_containers_signature,
)
from cloudward.distribute.signing.dsse import Envelope, envelope_verifies, parse_statement
from cloudward.distribute.signing.keys import fingerprint
from cloudward.distribute.signing.simplesigning import build_payload, parse_payload
from tests.distribute.signing.conftest import fixtures_dir
from tests.distribute.signing.helpers import run_cli

BEACON = ("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
          "extremely-dangerous-oidc-beacon.yml@refs/heads/main")
ACTIONS = "https://token.actions.githubusercontent.com"
GITHUB_OAUTH = "https://github.com/login/oauth"


def ci() -> Path:
    return fixtures_dir() / "3-image-signatures/containers-image"


def prod_root() -> Path:
    return fixtures_dir() / "trusted-roots/sigstore-python/production/trusted_root.json"


def staging_root() -> Path:
    return fixtures_dir() / "trusted-roots/sigstore-python/staging/trusted_root.json"


def layer(rel: str):
    return parse_containers_signature((ci() / rel).read_bytes())


def manifest_digest(rel: str) -> str:
    return "sha256:" + hashlib.sha256((ci() / rel).read_bytes()).hexdigest()


# -- 3. image signatures -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", ["dir-img-cosign-valid/signature-1", "dir-img-cosign-valid-2/signature-2"])
def test_cosign_image_signatures_verify(sig: str) -> None:
    v = check_simple_signing(layer(sig), [read_public_key(ci() / "cosign.pub")],
                             digest=manifest_digest("dir-img-cosign-valid/manifest.json"),
                             identity="192.168.64.2:5000/cosign-signed-single-sample")
    assert v.key == fingerprint(read_public_key(ci() / "cosign.pub"))
    assert dict(v.claims)["docker-reference"] == "192.168.64.2:5000/cosign-signed-single-sample"


@pytest.mark.parametrize("pub", ["cosign.pub", "cosign2.pub"])
def test_signature_by_an_unknown_key_is_rejected(pub: str) -> None:
    with pytest.raises(LayerRejected, match="does not verify"):
        check_simple_signing(layer("unknown-cosign-key.signature"), [read_public_key(ci() / pub)],
                             digest=manifest_digest("dir-img-cosign-valid/manifest.json"))


def test_valid_signature_over_another_manifest_is_rejected_for_the_digest() -> None:
    with pytest.raises(LayerRejected, match="not this image"):
        check_simple_signing(layer("dir-img-cosign-valid/signature-1"), [read_public_key(ci() / "cosign.pub")],
                             digest=manifest_digest("dir-img-cosign-modified-manifest/manifest.json"))


def test_identity_claim_is_checked() -> None:
    with pytest.raises(LayerRejected, match="signature names"):
        check_simple_signing(layer("dir-img-cosign-valid/signature-1"), [read_public_key(ci() / "cosign.pub")],
                             digest=manifest_digest("dir-img-cosign-valid/manifest.json"),
                             identity="192.168.64.2:5000/some-other-repo")


def test_key_signature_with_rekor_bundle_verifies_with_its_key_and_log() -> None:
    rekor = read_public_key(ci() / "rekor.pub")
    logs = {fingerprint(rekor).removeprefix("sha256:"): rekor}
    rel = "dir-img-cosign-key-rekor-valid"
    v = check_simple_signing(layer(f"{rel}/signature-1"), [read_public_key(ci() / "cosign2.pub")],
                             digest=manifest_digest(f"{rel}/manifest.json"), rekor_keys=logs)
    assert dict(v.claims)["tlog"].startswith("log index 11608800")
    with pytest.raises(LayerRejected, match="does not verify"):
        check_simple_signing(layer(f"{rel}/signature-1"), [read_public_key(ci() / "cosign.pub")],
                             digest=manifest_digest(f"{rel}/manifest.json"))


def test_keyless_image_signature_is_not_accepted_by_a_key() -> None:
    rel = "dir-img-cosign-fulcio-rekor-valid"
    with pytest.raises(LayerRejected, match="keyless"):
        check_simple_signing(layer(f"{rel}/signature-1"), [read_public_key(ci() / "cosign.pub")],
                             digest=manifest_digest(f"{rel}/manifest.json"))


def test_our_simple_signing_payload_is_byte_identical_to_cosigns() -> None:
    theirs = layer("dir-img-cosign-valid/signature-1").blob
    parsed = parse_payload(theirs)
    assert build_payload(parsed.docker_reference, parsed.manifest_digest) == theirs


# -- 4. DSSE -----------------------------------------------------------------------------------------------------
def test_rekor_dsse_envelope_verifies_and_a_changed_payload_does_not() -> None:
    d = fixtures_dir() / "4-dsse-key/rekor"
    raw = (d / "intoto_dsse.json").read_bytes()
    env = Envelope.from_json(raw)
    key = read_public_key(d / "intoto_dsse.pem")
    assert envelope_verifies(env, key)
    assert parse_statement(env.payload).predicate_type == "https://slsa.dev/provenance/v0.2"
    tampered = Envelope(env.payload_type, env.payload.replace(b"foobar", b"foobaz"), env.signatures)
    assert tampered.payload != env.payload and not envelope_verifies(tampered, key)


def test_our_envelope_serialisation_matches_cosigns_field_order() -> None:
    raw = (fixtures_dir() / "4-dsse-key/rekor/intoto_dsse.json").read_bytes()
    env = Envelope.from_json(raw)
    assert list(json.loads(env.to_json())) == list(json.loads(raw)) == ["payloadType", "payload", "signatures"]
    assert json.loads(env.to_json()) == json.loads(raw)


def test_envelope_shape_matches_the_unofficial_dsse_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = fixtures_dir().parent / "schemas/in-toto-dsse/unofficial/Envelope.schema.json"
    if not schema_path.is_file():
        pytest.skip(f"{schema_path} is absent")
    schema = json.loads(schema_path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    from cloudward.distribute.signing import KeySigner, Subject, build_statement, generate_key
    from cloudward.distribute.signing.dsse import sign_envelope

    stmt = build_statement([Subject("img", (("sha256", "ab" * 32),))], "https://example.com/p/v1", {"a": 1})
    doc = json.loads(sign_envelope("application/vnd.in-toto+json", stmt.to_json(),
                                   KeySigner(generate_key())).to_json())
    cls(schema).validate(doc)
    assert not list(cls(schema).iter_errors(doc))
    assert list(cls(schema).iter_errors({"payload": 5}))  # the schema does reject a wrong shape


# -- 2, 4, 5. Sigstore bundles -----------------------------------------------------------------------------------
def test_key_bundles_verify_against_their_roots() -> None:
    d = fixtures_dir() / "2-blob-key-bundle/conformance"
    blob = (d / "a.txt").read_bytes()
    v = verify_bundle(blob, d / "managed-key-happy-path/bundle.sigstore.json",
                      key=read_public_key(d / "managed-key-happy-path/key.pub"), trusted_root=prod_root())
    assert dict(v.claims)["tlog"] == "log index 771488337 at 1766077479"
    v = verify_bundle(blob, d / "managed-key-and-trusted-root/bundle.sigstore.json",
                      key=read_public_key(d / "managed-key-and-trusted-root/key.pub"),
                      trusted_root=d / "managed-key-and-trusted-root/trusted_root.json")
    assert dict(v.claims)["tlog"].startswith("log index 51753644")


def test_key_bundle_fails_on_a_changed_artifact_and_on_the_wrong_log() -> None:
    d = fixtures_dir() / "2-blob-key-bundle/conformance"
    key = read_public_key(d / "managed-key-happy-path/key.pub")
    with pytest.raises(NotVerifiedError, match="digest"):
        verify_bundle(b"other", d / "managed-key-happy-path/bundle.sigstore.json", key=key, trusted_root=prod_root())
    with pytest.raises(NotVerifiedError, match="trusted root does not list"):
        verify_bundle((d / "a.txt").read_bytes(), d / "managed-key-happy-path/bundle.sigstore.json", key=key,
                      trusted_root=d / "managed-key-and-trusted-root/trusted_root.json")


def test_npm_dsse_bundle_verifies_with_publish_key() -> None:
    d = fixtures_dir() / "4-dsse-key/sigstore-go"
    v = verify_bundle(None, d / "bundle-publish.json", key=read_public_key(d / "publish_key.pub"),
                      trusted_root=prod_root())
    assert dict(v.claims)["predicateType"] == "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
    with pytest.raises(NotVerifiedError):
        verify_bundle(None, d / "bundle-publish.json", trusted_root=prod_root(),
                      key=read_public_key(fixtures_dir() / "4-dsse-key/rekor/intoto_dsse.pem"))


KEYLESS = [
    ("conformance/happy-path-v0.1/bundle.sigstore.json", "a.txt", "prod", BEACON, ACTIONS),
    ("conformance/happy-path-v0.2/bundle.sigstore.json", "a.txt", "prod", BEACON, ACTIONS),
    ("conformance/happy-path-v0.3/bundle.sigstore.json", "a.txt", "prod", BEACON, ACTIONS),
    ("conformance/happy-path-intoto-in-dsse-v3/bundle.sigstore.json", "a.txt", "prod", BEACON, ACTIONS),
    ("cosign/oci-attestation.sigstore.json", None, "pgi", "cody@soyland.com", GITHUB_OAUTH),
    ("cosign/oci-attestation.sigstore.json", None, "prod", "cody@soyland.com", GITHUB_OAUTH),
    ("sigstore-python/bundle.txt.sigstore", "sigstore-python/bundle.txt", "staging", "a@tny.town", GITHUB_OAUTH),
    ("sigstore-python/bundle_v3.txt.sigstore", "sigstore-python/bundle_v3.txt", "staging", "william@yossarian.net",
     GITHUB_OAUTH),
    ("sigstore-python/bundle_v3_github.whl.sigstore", "sigstore-python/bundle_v3_github.whl", "prod",
     "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2", ACTIONS),
]


def _root(name: str) -> Path:
    return {"prod": prod_root(), "staging": staging_root(),
            "pgi": fixtures_dir() / "5-keyless/cosign/trusted_root_pgi.json"}[name]


def _artifact(rel: str | None) -> bytes | None:
    if rel is None:
        return None
    if rel == "a.txt":
        return (fixtures_dir() / "2-blob-key-bundle/conformance/a.txt").read_bytes()
    return (fixtures_dir() / "5-keyless" / rel).read_bytes()


@pytest.mark.parametrize(("bundle", "artifact", "root", "identity", "issuer"), KEYLESS)
def test_keyless_bundles_verify(bundle: str, artifact: str | None, root: str, identity: str, issuer: str) -> None:
    pytest.importorskip("sigstore")
    v = verify_bundle(_artifact(artifact), fixtures_dir() / "5-keyless" / bundle, trusted_root=_root(root),
                      identity=identity, issuer=issuer)
    assert v.key == identity


@pytest.mark.parametrize(("bundle", "artifact", "root", "identity", "reason"), [
    ("conformance/signature-mismatch_fail/bundle.sigstore.json", "a.txt", "prod", BEACON, "invalid for input"),
    ("conformance/happy-path-v0.3/bundle.sigstore.json", "a.txt", "prod", "someone@example.com", "SANs do not match"),
    ("sigstore-python/bundle_v3.txt.sigstore", "sigstore-python/bundle_v3.txt", "prod", "william@yossarian.net",
     "chain"),
])
def test_keyless_bundles_that_must_fail(bundle: str, artifact: str, root: str, identity: str, reason: str) -> None:
    pytest.importorskip("sigstore")
    issuer = GITHUB_OAUTH if "yossarian" in identity else ACTIONS
    with pytest.raises(NotVerifiedError, match=reason):
        verify_bundle(_artifact(artifact), fixtures_dir() / "5-keyless" / bundle, trusted_root=_root(root),
                      identity=identity, issuer=issuer)


def test_intoto_bundle_subject_must_match_the_artifact() -> None:
    pytest.importorskip("sigstore")
    with pytest.raises(NotVerifiedError, match="subject digests"):
        verify_bundle(b"not a.txt", fixtures_dir() / "5-keyless/conformance/happy-path-intoto-in-dsse-v3/"
                      "bundle.sigstore.json", trusted_root=prod_root(), identity=BEACON, issuer=ACTIONS)


def test_cli_verify_bundle_exit_codes() -> None:
    pytest.importorskip("sigstore")
    d = fixtures_dir()
    a = str(d / "2-blob-key-bundle/conformance/a.txt")
    ok = run_cli(["verify-bundle", a, "--bundle", str(d / "5-keyless/conformance/happy-path-v0.3/bundle.sigstore.json"),
                  "--trusted-root", str(prod_root()), "--certificate-identity", BEACON,
                  "--certificate-oidc-issuer", ACTIONS, "--output", "json"])
    assert ok.code == 0 and json.loads(ok.out)["verified"] is True
    bad = run_cli(["verify-bundle", a, "--bundle",
                   str(d / "5-keyless/conformance/signature-mismatch_fail/bundle.sigstore.json"),
                   "--trusted-root", str(prod_root()), "--certificate-identity", BEACON,
                   "--certificate-oidc-issuer", ACTIONS])
    assert bad.code == 1 and "NOT VERIFIED" in bad.err
    usage = run_cli(["verify-bundle", a, "--bundle",
                     str(d / "5-keyless/conformance/happy-path-v0.3/bundle.sigstore.json")])
    assert usage.code == 2 and "--trusted-root" in usage.err
    wrong_key = run_cli(["verify-bundle", a, "--bundle",
                         str(d / "2-blob-key-bundle/conformance/managed-key-wrong-key_fail/bundle.sigstore.json"),
                         "--key", str(d / "2-blob-key-bundle/conformance/managed-key-wrong-key_fail/key.pub")])
    assert wrong_key.code == 2 and "does not parse" in wrong_key.err
