"""Sign and verify images through a real docker-registry on 127.0.0.1, and the attacks that must fail."""

from __future__ import annotations

import base64
import json

import pytest

from cloudward.distribute.image import Descriptor
from cloudward.distribute.signing import (
    KeySigner,
    NotVerifiedError,
    Revocations,
    fingerprint,
    generate_key,
    sign_image,
    verify_image,
)
from cloudward.distribute.signing.cosign import SIGNATURE_ANNOTATION
from cloudward.distribute.signing.images import MAX_LAYER_SIZE, _append_layer, tag_for
from cloudward.distribute.signing.keys import public_key_pem, unsafe_plaintext_private_key
from cloudward.distribute.signing.simplesigning import SIMPLESIGNING_MEDIA_TYPE, parse_payload
from tests.distribute.signing.conftest import push_image
from tests.distribute.signing.helpers import run_cli


def test_sign_resolves_the_tag_and_stores_the_signature_as_cosign_does(registry, image, signer) -> None:
    ref, digest = image
    pushed = sign_image(registry.client(), ref, signer, {"build": "42"})
    assert pushed.digest == digest and pushed.tag == f"sha256-{digest.removeprefix('sha256:')}.sig"
    client = registry.client()
    manifest = client.get_artifact_manifest(ref.repository, pushed.tag)
    assert manifest.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert manifest.config is not None and manifest.config.media_type == "application/vnd.oci.image.config.v1+json"
    (layer,) = manifest.layers
    assert layer.media_type == SIMPLESIGNING_MEDIA_TYPE
    payload = parse_payload(client.get_blob(ref.repository, layer))
    assert payload.manifest_digest == digest
    assert payload.docker_reference == f"{registry.host}/{ref.repository}"
    assert payload.annotation_map == {"build": "42"}
    assert base64.b64decode(layer.annotation(SIGNATURE_ANNOTATION) or "")
    result = verify_image(client, ref, [signer.public_key()], annotations={"build": "42"})
    assert [v.key for v in result.verified] == [fingerprint(signer.public_key())]


def test_signatures_append_and_k_of_n_counts_distinct_keys(registry, image, signer, other_signer) -> None:
    ref, _ = image
    client = registry.client()
    sign_image(client, ref, signer)
    again = sign_image(client, ref, signer)  # ECDSA nonces differ, so this is a new layer
    assert again.layers == 2
    third = sign_image(client, ref, other_signer)
    assert third.layers == 3
    keys = [signer.public_key(), other_signer.public_key()]
    assert len({v.key for v in verify_image(client, ref, keys, threshold=2).verified}) == 2
    with pytest.raises(NotVerifiedError, match="2 distinct keys required, 1 verified"):
        verify_image(client, ref, [signer.public_key(), KeySigner(generate_key()).public_key()], threshold=2)


def test_signature_by_another_key_fails(registry, image, signer, other_signer) -> None:
    ref, _ = image
    sign_image(registry.client(), ref, other_signer)
    with pytest.raises(NotVerifiedError, match="does not verify with key"):
        verify_image(registry.client(), ref, [signer.public_key()])


def test_missing_signature_fails(registry, image, signer) -> None:
    ref, digest = image
    with pytest.raises(NotVerifiedError, match=f"no signatures found.*{digest}"):
        verify_image(registry.client(), ref, [signer.public_key()])


def test_moved_tag_is_not_covered_by_the_old_signature(registry, image, signer) -> None:
    ref, first = image
    sign_image(registry.client(), ref, signer)
    _, second = push_image(registry, ref.repository, ref.tag or "v1")  # the tag now names another image
    assert second != first
    with pytest.raises(NotVerifiedError, match="no signatures found"):
        verify_image(registry.client(), ref, [signer.public_key()])


def test_replayed_signature_on_another_image_fails(registry, image, signer) -> None:
    ref, first = image
    client = registry.client()
    sign_image(client, ref, signer)
    other_ref, second = push_image(registry, ref.repository, "other")
    raw = client.get_artifact_manifest(ref.repository, tag_for(first, "sig")).raw
    client.push_manifest(ref.repository, tag_for(second, "sig"), raw, "application/vnd.oci.image.manifest.v1+json")
    with pytest.raises(NotVerifiedError, match=f"signature is for {first}, not this image {second}"):
        verify_image(client, other_ref, [signer.public_key()])


def test_tampered_payload_fails(registry, image, signer) -> None:
    ref, digest = image
    client = registry.client()
    sign_image(client, ref, signer)
    tag = tag_for(digest, "sig")
    (layer,) = client.get_artifact_manifest(ref.repository, tag).layers
    payload = client.get_blob(ref.repository, layer)
    forged = payload.replace(b'"optional":null', b'"optional":{"approved":"yes"}')
    assert forged != payload
    doc = json.loads(client.get_artifact_manifest(ref.repository, tag).raw)
    doc["layers"][0].update(digest=client.push_blob(ref.repository, forged), size=len(forged))
    client.push_manifest(ref.repository, tag, json.dumps(doc).encode(), doc["mediaType"])
    with pytest.raises(NotVerifiedError, match="payload was changed"):
        verify_image(client, ref, [signer.public_key()])


def test_unsigned_annotation_is_refused(registry, image, signer) -> None:
    ref, _ = image
    sign_image(registry.client(), ref, signer, {"env": "staging"})
    with pytest.raises(NotVerifiedError, match="annotation env=prod is not signed"):
        verify_image(registry.client(), ref, [signer.public_key()], annotations={"env": "prod"})


def test_oversized_signature_layer_is_refused_without_reading_it(registry, image, signer) -> None:
    ref, digest = image
    client = registry.client()
    big = b"{" + b" " * MAX_LAYER_SIZE + b"}"
    _append_layer(client, ref.repository, tag_for(digest, "sig"), big, SIMPLESIGNING_MEDIA_TYPE,
                  {SIGNATURE_ANNOTATION: "AAAA"})
    with pytest.raises(NotVerifiedError, match=r"above the .* byte limit"):
        verify_image(client, ref, [signer.public_key()])


def test_revoked_key_fails_and_says_so(registry, image, signer) -> None:
    ref, _ = image
    sign_image(registry.client(), ref, signer)
    with pytest.raises(NotVerifiedError, match="revoked key"):
        verify_image(registry.client(), ref, [signer.public_key()],
                     revoked=Revocations.of([fingerprint(signer.public_key())]))


def test_identity_claim_must_name_this_repository(registry, image, signer) -> None:
    ref, digest = image
    client = registry.client()
    sign_image(client, ref, signer)
    copy_repo = ref.repository + "-mirror"
    copy_ref, _ = push_image(registry, copy_repo)
    # copy the image manifest and its signature to the mirror repository (as `cosign copy` would)
    manifest = client.get_manifest(ref.repository, digest)
    for desc in (manifest.config, *manifest.layers):
        assert isinstance(desc, Descriptor)
        client.push_blob(copy_repo, client.get_blob(ref.repository, desc))
    client.push_manifest(copy_repo, "v1", manifest.raw, manifest.media_type)
    sig = client.get_artifact_manifest(ref.repository, tag_for(digest, "sig"))
    for desc in (sig.config, *sig.layers):
        assert isinstance(desc, Descriptor)
        client.push_blob(copy_repo, client.get_blob(ref.repository, desc))
    client.push_manifest(copy_repo, tag_for(digest, "sig"), sig.raw, sig.media_type)
    with pytest.raises(NotVerifiedError, match="signature names"):
        verify_image(client, copy_ref, [signer.public_key()])
    ok = verify_image(client, copy_ref, [signer.public_key()], identity=f"{registry.host}/{ref.repository}")
    assert ok.digest == digest


# -- CLI ---------------------------------------------------------------------------------------------------------
def test_cli_sign_and_verify_with_exit_codes(registry, image, tmp_path, monkeypatch) -> None:
    ref, digest = image
    key = generate_key()
    (tmp_path / "k.key").write_bytes(unsafe_plaintext_private_key(key))
    (tmp_path / "k.pub").write_bytes(public_key_pem(key))
    other = generate_key()
    (tmp_path / "o.pub").write_bytes(public_key_pem(other))
    img = f"{registry.host}/{ref.repository}:v1"
    common = ["--allow-insecure-registry"]
    missing = run_cli(["verify", img, "--key", str(tmp_path / "k.pub"), *common])
    assert missing.code == 1 and "no signatures found" in missing.err
    signed = run_cli(["sign", img, "--key", str(tmp_path / "k.key"), "-a", "team=payments", *common])
    assert signed.code == 0, signed.err
    ok = run_cli(["verify", img, "--key", str(tmp_path / "k.pub"), "-a", "team=payments", "--output", "json",
                  *common])
    assert ok.code == 0, ok.err
    doc = json.loads(ok.out)
    assert doc["verified"][0]["claims"]["digest"] == digest
    assert doc["verified"][0]["claims"]["annotation.team"] == "payments"
    wrong = run_cli(["verify", img, "--key", str(tmp_path / "o.pub"), *common])
    assert wrong.code == 1 and "NOT VERIFIED" in wrong.err
    revoked = run_cli(["verify", img, "--key", str(tmp_path / "k.pub"), "--revoked-key",
                       fingerprint(key.public_key()), *common])
    assert revoked.code == 1 and "revoked" in revoked.err
    bad_key = tmp_path / "trunc.pub"
    bad_key.write_bytes(public_key_pem(key)[:40])
    assert run_cli(["verify", img, "--key", str(bad_key), *common]).code == 2


def test_cli_unreachable_registry_is_exit_3(tmp_path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    key = generate_key()
    (tmp_path / "k.pub").write_bytes(public_key_pem(key))
    out = run_cli(["verify", f"127.0.0.1:{port}/app:v1", "--key", str(tmp_path / "k.pub"),
                   "--allow-insecure-registry", "--registry-timeout", "2"])
    assert out.code == 3 and "cannot reach registry" in out.err


def test_registry_serving_another_manifest_for_the_digest_fails_closed(signer) -> None:
    """A hostile registry (a real HTTP server on 127.0.0.1) answers a digest request with other bytes."""
    import http.server
    import threading

    class Lying(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"{}" if self.path == "/v2/" else json.dumps({
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "1" * 64,
                           "size": 2}, "layers": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Lying)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        from cloudward.distribute.image import RegistryClient, RegistryRef

        host = f"127.0.0.1:{server.server_address[1]}"
        ref = RegistryRef(host, "app", digest="sha256:" + "ab" * 32)
        with pytest.raises(NotVerifiedError, match="does not match its digest"):
            verify_image(RegistryClient(host, insecure=True, timeout=5), ref, [signer.public_key()])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
