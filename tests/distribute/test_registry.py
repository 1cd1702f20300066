"""Push test-built images to a real docker-registry and read them back through docker://."""

from __future__ import annotations

import base64
import contextlib
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


# -- keep-alive ---------------------------------------------------------------------------------------------------
class _CountingProxy:
    """A TCP forwarder in front of the real registry that counts the connections the client opens."""

    def __init__(self, upstream: str) -> None:
        import socket
        import threading

        host, port = upstream.rsplit(":", 1)
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.addr = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.accepted = 0
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                self.accepted += 1
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        import socket

        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def drop_connections(self) -> None:
        """Close every open connection, as a registry does with idle keep-alive connections."""
        import socket

        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self._listener.close()
        self.drop_connections()


def test_one_connection_serves_many_requests_and_a_dropped_one_is_replaced(anon_registry) -> None:
    addr, amd, _, _ = anon_registry
    proxy = _CountingProxy(addr)
    client = RegistryClient(proxy.addr, insecure=True, timeout=10)
    try:
        for _ in range(10):
            m = client.get_manifest("team/app", "amd")
            assert m.digest == amd.manifest_digest
            assert client.get_blob("team/app", m.config) == amd.blobs[m.config.digest]
            assert client.blob_exists("team/app", m.config.digest)
        assert proxy.accepted == 1  # 30 requests, one TCP connection
        proxy.drop_connections()
        assert client.get_manifest("team/app", "amd").digest == amd.manifest_digest  # retried on a new connection
        assert proxy.accepted == 2
    finally:
        client.close()
        proxy.close()


def test_redirect_to_another_host_drops_credentials_and_keeps_alive(tmp_path: Path) -> None:
    """A registry that redirects blob reads to storage on another host (as S3-backed registries do)."""
    import hashlib
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    blob = b"blob bytes on storage"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    seen: dict[str, list[str | None]] = {"registry": [], "storage": []}
    connections: dict[str, set[int]] = {"registry": set(), "storage": set()}

    def handler(role: str, respond):
        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                seen[role].append(self.headers.get("Authorization"))
                connections[role].add(self.client_address[1])
                respond(self)

            def log_message(self, *args) -> None:
                pass
        return H

    storage = ThreadingHTTPServer(("127.0.0.1", 0), handler("storage", lambda h: (
        h.send_response(200), h.send_header("Content-Length", str(len(blob))), h.end_headers(),
        h.wfile.write(blob))))
    storage_host = f"localhost:{storage.server_address[1]}"  # another host name than the registry's

    def registry_respond(h) -> None:
        if h.headers.get("Authorization") != "Basic " + base64.b64encode(b"carol:pw").decode():
            h.send_response(401)
            h.send_header("WWW-Authenticate", 'Basic realm="test"')
            h.send_header("Content-Length", "0")
        else:
            h.send_response(307)
            h.send_header("Location", f"http://{storage_host}/bucket/{digest}?sig=abc")
            h.send_header("Content-Length", "0")
        h.end_headers()

    registry = ThreadingHTTPServer(("127.0.0.1", 0), handler("registry", registry_respond))
    for server in (storage, registry):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    client = RegistryClient(f"127.0.0.1:{registry.server_address[1]}", insecure=True, timeout=10,
                            credentials=Credentials("carol", "pw"))
    try:
        for _ in range(3):
            assert client.get_blob("r/app", Descriptor("application/octet-stream", digest, len(blob))) == blob
        assert seen["storage"] == [None, None, None]  # the credentials never left the registry host
        assert seen["registry"][0] is None and all(a and a.startswith("Basic ") for a in seen["registry"][1:])
        assert len(connections["registry"]) == 1 and len(connections["storage"]) == 1  # both kept alive
    finally:
        client.close()
        for server in (storage, registry):
            server.shutdown()
            server.server_close()


def test_tls_is_verified_and_the_connection_is_reused(tmp_path: Path) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cloudward test registry")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "tls.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    tls = f"  tls:\n    certificate: {tmp_path / 'tls.pem'}\n    key: {tmp_path / 'tls.key'}\n"
    with run_registry(tmp_path / "reg", tls) as addr:  # the block continues the http: section of the config
        proxy = _CountingProxy(addr)
        client = RegistryClient(proxy.addr, timeout=10, ca_file=str(tmp_path / "tls.pem"))
        try:
            built = _image("amd64")
            push(client, "tls/app", built, "v1")
            for _ in range(5):
                assert client.get_manifest("tls/app", "v1").digest == built.manifest_digest
            assert proxy.accepted == 1  # one TLS handshake for the pushes and the reads
        finally:
            client.close()
            proxy.close()
        untrusted = RegistryClient(addr, timeout=10)  # system CAs only: the self-signed registry is refused
        with pytest.raises(RegistryError, match=r"TLS to .* failed: .*CERTIFICATE_VERIFY_FAILED"):
            untrusted.list_tags("tls/app")


def test_a_body_closed_after_its_client_is_gone_closes_its_connection(anon_registry) -> None:
    """The client is a temporary here: its pool is closed before the body is, so the socket must not be parked."""
    import gc

    addr = anon_registry[0]
    body = RegistryClient(addr, insecure=True, timeout=10).request("GET", "/v2/", scope="").body
    body.close()
    gc.collect()  # an unclosed socket would surface here as a ResourceWarning, an error under our pytest config
