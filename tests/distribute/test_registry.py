"""Push test-built images to a real docker-registry and read them back through docker://."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from cloudward.distribute.image import (
    Credentials,
    DigestMismatchError,
    NotFoundError,
    OpenOptions,
    Platform,
    RegistryAuthError,
    RegistryClient,
    RegistryError,
    open_image,
)
from cloudward.distribute.image.model import Descriptor
from cloudward.distribute.sbom import generate_sbom
from tests.distribute.imagecli import run_cli
from tests.distribute.imagekit import OCI_INDEX, Built, Item, build_image, index_of
from tests.distribute.registry_server import htpasswd_block, run_registry

OS_RELEASE = b"ID=alpine\nVERSION_ID=3.19.1\n"
APK = b"P:musl\nV:1.2.4-r4\nA:x86_64\no:musl\n\nP:zlib\nV:1.3.1-r0\nA:{arch}\no:zlib\nL:Zlib\n\n"


def _image(arch: str) -> Built:
    return build_image([[Item("etc/os-release", OS_RELEASE), Item("lib/apk/db/installed",
                                                                   APK.replace(b"{arch}", arch.encode()))],
                        [Item("arch.txt", arch.encode())]], arch=arch, compression="zstd" if arch == "arm64"
                       else "gzip")


def push(client: RegistryClient, repo: str, built: Built, tag: str) -> None:
    for d, data in built.blobs.items():
        if data is not built.manifest:
            client.push_blob(repo, data, d)
    client.push_manifest(repo, tag, built.manifest, built.manifest_media)


@pytest.fixture(scope="module")
def anon_registry(tmp_path_factory: pytest.TempPathFactory):
    with run_registry(tmp_path_factory.mktemp("anon")) as addr:
        client = RegistryClient(addr, insecure=True, timeout=10)
        amd, arm = _image("amd64"), _image("arm64")
        push(client, "team/app", amd, "amd")
        push(client, "team/app", arm, "arm")
        index, _ = index_of({"amd64": amd, "arm64": arm})
        client.push_manifest("team/app", "multi", index, OCI_INDEX)
        yield addr, amd, arm, index


def test_pull_by_tag_and_digest_through_docker_transport(anon_registry) -> None:
    addr, amd, _, _ = anon_registry
    opts = OpenOptions(allow_insecure_registry=True, timeout=10)
    with open_image(f"docker://{addr}/team/app:amd", opts) as image:
        assert image.manifest_digest == amd.manifest_digest
        sbom = generate_sbom(image)
    assert {(p.name, p.version) for p in sbom.packages} == {("musl", "1.2.4-r4"), ("zlib", "1.3.1-r0")}
    assert {p.layer for p in sbom.packages} == {amd.layer_digests[0]}
    with open_image(f"docker://{addr}/team/app@{amd.manifest_digest}", opts) as image:
        assert image.manifest_digest == amd.manifest_digest
        assert [layer.digest for layer in image.layers] == amd.layer_digests


def test_multi_arch_index_with_platform(anon_registry) -> None:
    addr, amd, arm, _ = anon_registry
    client = RegistryClient(addr, insecure=True)
    assert client.resolve("team/app", "multi").media_type == OCI_INDEX
    assert sorted(client.list_tags("team/app")) == ["amd", "arm", "multi"]
    for plat, built, arch in (("linux/amd64", amd, "amd64"), ("linux/arm64", arm, "arm64")):
        opts = OpenOptions(platform=Platform.parse(plat), allow_insecure_registry=True)
        with open_image(f"docker://{addr}/team/app:multi", opts) as image:
            assert image.manifest_digest == built.manifest_digest
            sbom = generate_sbom(image)
        assert next(p for p in sbom.packages if p.name == "zlib").arch == arch
    r = run_cli("image", "sbom", f"docker://{addr}/team/app:multi", "--platform", "linux/arm64",
                "--allow-insecure-registry", "--format", "cyclonedx-json")
    assert r.returncode == 0, r.stderr
    assert "pkg:apk/alpine/zlib@1.3.1-r0?arch=arm64" in {c["purl"].split("&")[0] for c in
                                                         json.loads(r.stdout)["components"]}


def test_blob_digest_is_verified(anon_registry) -> None:
    addr, amd, _, _ = anon_registry
    client = RegistryClient(addr, insecure=True)
    layer = amd.layer_digests[0]
    good = Descriptor("application/octet-stream", layer, len(amd.blobs[layer]))
    assert client.get_blob("team/app", good) == amd.blobs[layer]
    other = amd.layer_digests[1]
    # ask for one blob but claim the size of another: the stream must fail, not return short data
    with pytest.raises(DigestMismatchError):
        client.get_blob("team/app", Descriptor("application/octet-stream", layer, len(amd.blobs[other])))


def test_registry_errors_are_one_line_with_exit_codes(anon_registry, tmp_path: Path) -> None:
    addr, _, _, _ = anon_registry
    with pytest.raises(NotFoundError, match="not found"):
        open_image(f"docker://{addr}/team/missing:1", OpenOptions(allow_insecure_registry=True))
    r = run_cli("image", "sbom", f"docker://{addr}/team/missing:1", "--allow-insecure-registry")
    assert r.returncode == 2 and "not found" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    # TLS is the default: a plain-HTTP registry fails with a hint, exit 3
    r = run_cli("image", "sbom", f"docker://{addr}/team/app:amd", "--registry-timeout", "5")
    assert r.returncode == 3 and "--allow-insecure-registry" in r.stderr, r.stderr
    # nothing listening: operational error
    from tests.distribute.registry_server import free_port

    with pytest.raises(RegistryError, match="cannot reach registry"):
        open_image(f"docker://127.0.0.1:{free_port()}/x/y:1", OpenOptions(allow_insecure_registry=True, timeout=5))


def test_basic_auth_from_auth_file(tmp_path: Path) -> None:
    block = htpasswd_block(tmp_path, "alice", "s3cret-pass")
    with run_registry(tmp_path / "reg", block) as addr:
        admin = RegistryClient(addr, insecure=True, credentials=Credentials("alice", "s3cret-pass"))
        built = _image("amd64")
        push(admin, "private/app", built, "v1")
        with pytest.raises(RegistryAuthError, match="requires a login"):
            open_image(f"docker://{addr}/private/app:v1", OpenOptions(allow_insecure_registry=True))
        auth = tmp_path / "auth.json"
        auth.write_text(json.dumps({"auths": {addr: {"auth": base64.b64encode(b"alice:s3cret-pass").decode()}}}))
        r = run_cli("image", "sbom", f"docker://{addr}/private/app:v1", "--allow-insecure-registry",
                    env={"REGISTRY_AUTH_FILE": str(auth)})
        assert r.returncode == 0, r.stderr
        assert "musl" in r.stdout
        auth.write_text(json.dumps({"auths": {addr: {"auth": base64.b64encode(b"alice:wrong").decode()}}}))
        r = run_cli("image", "sbom", f"docker://{addr}/private/app:v1", "--allow-insecure-registry",
                    env={"REGISTRY_AUTH_FILE": str(auth)})
        assert r.returncode == 2 and "refused access as 'alice'" in r.stderr and "wrong" not in r.stderr, r.stderr
        docker_home = tmp_path / "home"
        (docker_home / ".docker").mkdir(parents=True)
        (docker_home / ".docker" / "config.json").write_text(json.dumps(
            {"auths": {addr: {"auth": base64.b64encode(b"alice:s3cret-pass").decode()}}}))
        r = run_cli("image", "sbom", f"docker://{addr}/private/app:v1", "--allow-insecure-registry",
                    cwd=docker_home)
        assert r.returncode == 0, r.stderr


def test_bearer_token_auth(tmp_path: Path) -> None:
    from tests.distribute.token_server import TokenIssuer, serve_tokens

    issuer = TokenIssuer(tmp_path, "test-registry", "test-issuer", "bob", "t0ken-pass")
    with serve_tokens(issuer) as realm:
        block = (f"auth:\n  token:\n    realm: {realm}\n    service: test-registry\n    issuer: test-issuer\n"
                 f"    rootcertbundle: {issuer.cert}\n")
        with run_registry(tmp_path / "reg", block) as addr:
            client = RegistryClient(addr, insecure=True, credentials=Credentials("bob", "t0ken-pass"))
            built = _image("amd64")
            push(client, "private/tok", built, "v1")
            scopes = {parse_qs(urlsplit(r).query).get("scope", [""])[0] for r in issuer.requests}
            assert any(s.startswith("repository:private/tok:") and "push" in s for s in scopes), scopes
            auth = tmp_path / "auth.json"
            auth.write_text(json.dumps({"auths": {addr: {"username": "bob", "password": "t0ken-pass"}}}))
            opts = OpenOptions(allow_insecure_registry=True, auth_file=str(auth))
            with open_image(f"docker://{addr}/private/tok:v1", opts) as image:
                assert image.manifest_digest == built.manifest_digest
                assert {p.name for p in generate_sbom(image).packages} == {"musl", "zlib"}
            with pytest.raises(RegistryAuthError, match=r"token server .* refused"):
                RegistryClient(addr, insecure=True, credentials=Credentials("bob", "nope")).list_tags("private/tok")


def test_artifact_manifest_with_non_tar_layers(anon_registry) -> None:
    """cosign's signature manifests: layers that are JSON payloads, with annotations; image reads refuse them."""
    addr = anon_registry[0]
    client = RegistryClient(addr, insecure=True, timeout=10)
    payload = b'{"critical":{"type":"cosign container image signature"}}'
    config = b'{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}'
    layer = {"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": len(payload),
             "digest": client.push_blob("team/app", payload),
             "annotations": {"dev.cosignproject.cosign/signature": "MEUCIQ=="}}
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config),
                                      "digest": client.push_blob("team/app", config)},
                           "layers": [layer]}).encode()
    digest = client.push_manifest("team/app", "sha256-abc.sig", manifest, "application/vnd.oci.image.manifest.v1+json")
    got = client.get_artifact_manifest("team/app", "sha256-abc.sig")
    assert (got.digest, got.raw) == (digest, manifest)
    (desc,) = got.layers
    assert desc.media_type == layer["mediaType"] and dict(desc.annotations) == layer["annotations"]
    assert client.get_blob("team/app", desc) == payload
    assert client.get_artifact_manifest("team/app", digest).digest == digest  # by digest, verified
    with pytest.raises(Exception, match="unknown media type"):
        client.get_manifest("team/app", "sha256-abc.sig")  # an image read refuses non-tar layers
    with pytest.raises(NotFoundError, match="index"):  # asked for manifests only, the registry will not serve one
        client.get_artifact_manifest("team/app", "multi")
    with pytest.raises(NotFoundError):
        client.get_artifact_manifest("team/app", "sha256-missing.sig")
