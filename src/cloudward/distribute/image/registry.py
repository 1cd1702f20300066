"""An OCI Distribution API client: resolve, pull and push manifests and blobs, list tags.

Public API for other stages (signing builds on it): ``RegistryClient`` with
``resolve``, ``get_manifest``, ``open_blob``/``get_blob``, ``blob_exists``,
``push_blob``, ``push_manifest`` and ``list_tags``. Every manifest and blob read is
verified against its digest. TLS is on unless ``insecure=True`` (the CLI's
``--allow-insecure-registry``), which switches to plain HTTP. Auth: anonymous,
then whatever the registry challenges for — Basic, or a Bearer token fetched from
its realm with the credentials from the auth file. Credentials are never sent
across a redirect to another host (blob storage redirects). Connections are kept
alive and reused per host (``Pool``): a verification that makes three requests
pays for one TCP/TLS handshake per client, not three.
"""

from __future__ import annotations

import base64
import http.client
import io
import logging
import socket
import ssl
import urllib.parse
import weakref
from pathlib import Path
from typing import IO, Any, cast

from cloudward.core import jsonsafe
from cloudward.distribute.image.auth import Credentials, load_credentials, parse_challenge
from cloudward.distribute.image.blobs import VerifyingReader, check_blob_digest, resolve_image
from cloudward.distribute.image.connections import Body, Pool, Response
from cloudward.distribute.image.errors import (
    DigestMismatchError,
    ImageError,
    NotFoundError,
    RegistryAuthError,
    RegistryError,
)
from cloudward.distribute.image.model import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    MAX_JSON_SIZE,
    Descriptor,
    Image,
    Manifest,
    parse_artifact_manifest,
    parse_manifest,
    sha256_digest,
    verify_digest,
)
from cloudward.distribute.image.reference import RegistryRef

log = logging.getLogger(__name__)

ACCEPT = ", ".join(sorted(INDEX_TYPES | MANIFEST_TYPES))
ARTIFACT_ACCEPT = ", ".join(sorted(MANIFEST_TYPES))


_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5
_USER_AGENT = "cloudward"


class RegistryClient:
    """A client for one registry host (``host[:port]``)."""

    def __init__(self, registry: str, *, insecure: bool = False, timeout: float = 30.0,
                 credentials: Credentials | None = None, ca_file: str | None = None, name: str | None = None) -> None:
        self.registry = registry
        self.name = name or registry
        self.base = f"{'http' if insecure else 'https'}://{registry}"
        self.timeout = timeout
        self.credentials = credentials
        # TLS verification stays on for every HTTPS connection, including redirects to other hosts.
        self._pool = Pool(ssl.create_default_context(cafile=ca_file), timeout)
        weakref.finalize(self, self._pool.close)  # a dropped client closes its idle sockets
        self._tokens: dict[str, str] = {}  # scope → bearer token
        self._basic = False

    @classmethod
    def for_ref(cls, ref: RegistryRef, *, insecure: bool = False, timeout: float = 30.0,
                auth_file: Path | None = None, ca_file: str | None = None) -> RegistryClient:
        return cls(ref.registry, insecure=insecure, timeout=timeout, credentials=load_credentials(auth_file,
                   ref.registry), ca_file=ca_file, name=str(ref))

    # -- transport -------------------------------------------------------------------------------------------
    def _auth_header(self, scope: str) -> str | None:
        if scope in self._tokens:
            return f"Bearer {self._tokens[scope]}"
        if self._basic and self.credentials:
            raw = f"{self.credentials.username}:{self.credentials.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        return None

    def close(self) -> None:
        """Close idle connections (they are also closed when the client is garbage-collected)."""
        self._pool.close()

    def _send(self, method: str, url: str, headers: dict[str, str], data: bytes | None) -> Response:
        """One request over a pooled keep-alive connection, following redirects.

        Authorization is dropped when a redirect leaves the host (blob storage on
        another host must never see registry credentials), and an HTTPS request
        is never redirected to plain HTTP.
        """
        hdrs = dict(headers)
        for _ in range(_MAX_REDIRECTS + 1):
            resp = self._roundtrip(method, url, hdrs, data)
            location = resp.headers.get("Location")
            if resp.status not in _REDIRECTS or not location:
                return resp
            resp.body.close()
            new = urllib.parse.urljoin(url, location)
            old_parts, new_parts = urllib.parse.urlsplit(url), urllib.parse.urlsplit(new)
            if old_parts.scheme == "https" and new_parts.scheme != "https":
                raise RegistryError(self.name, f"registry {self.registry} redirected to {new_parts.scheme}://"
                                    f"{new_parts.netloc}; refusing to leave HTTPS")
            if new_parts.netloc != old_parts.netloc:
                hdrs = {k: v for k, v in hdrs.items() if k.lower() != "authorization"}
            if resp.status in (301, 302, 303) and method not in ("GET", "HEAD"):
                method, data = "GET", None
                hdrs = {k: v for k, v in hdrs.items() if k.lower() not in ("content-type", "content-length")}
            url = new
        raise RegistryError(self.name, f"registry {self.registry} redirected more than {_MAX_REDIRECTS} times")

    def _roundtrip(self, method: str, url: str, headers: dict[str, str], data: bytes | None) -> Response:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(self.name, f"registry {self.registry} sent a non-HTTP URL {url!r}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        hdrs = {"User-Agent": _USER_AGENT, **headers}
        for attempt in range(2):
            conn, reused = self._pool.get(parts.scheme, parts.netloc)
            try:
                conn.request(method, target, body=data, headers=hdrs)
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.BadStatusLine) as e:
                conn.close()
                if reused and attempt == 0:  # the server closed an idle keep-alive connection; use a new one
                    continue
                raise RegistryError(self.name, f"connection to registry {self.registry} failed: {e}") from None
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise self._transport_error(e) from None
            body = cast(IO[bytes], Body(resp, conn, self._pool, (parts.scheme, parts.netloc)))
            return Response(resp.status, resp.headers, body)
        raise AssertionError("unreachable")  # pragma: no cover

    def _transport_error(self, e: OSError | http.client.HTTPException) -> RegistryError:
        if isinstance(e, (TimeoutError, socket.timeout)):
            return RegistryError(self.name, f"registry {self.registry} timed out after {self.timeout:g}s")
        if isinstance(e, ssl.SSLError):
            hint = ("; if the registry serves plain HTTP, pass --allow-insecure-registry"
                    if "WRONG_VERSION_NUMBER" in str(e) or "record layer" in str(e) else "")
            return RegistryError(self.name, f"TLS to {self.registry} failed: {e}{hint}")
        if isinstance(e, (ConnectionRefusedError, socket.gaierror)):
            return RegistryError(self.name, f"cannot reach registry {self.registry}: {e}")
        return RegistryError(self.name, f"connection to registry {self.registry} failed: {e}")

    def request(self, method: str, path: str, *, scope: str, headers: dict[str, str] | None = None,
                data: bytes | None = None, ok: tuple[int, ...] = (200,)) -> Response:
        """One API call with the auth dance: anonymous first, then answer the challenge once."""
        url = path if path.startswith(("http://", "https://")) else self.base + path
        hdrs = dict(headers or {})
        for attempt in range(2):
            auth = self._auth_header(scope)
            if auth:
                hdrs["Authorization"] = auth
            resp = self._send(method, url, hdrs, data)
            if resp.status == 401 and attempt == 0:
                resp.body.close()
                self._authenticate(resp.headers.get("WWW-Authenticate", ""), scope)
                continue
            break
        if resp.status in ok:
            return resp
        detail = _error_detail(resp)
        resp.body.close()
        if resp.status in (401, 403):
            who = f"as {self.credentials.username!r}" if self.credentials else "anonymously"
            raise RegistryAuthError(self.name, f"registry {self.registry} refused access {who} ({resp.status}"
                                    f"{detail}); check the credentials in the auth file")
        if resp.status == 404:
            raise NotFoundError(self.name, f"not found on {self.registry} ({method} {urllib.parse.urlsplit(url).path}"
                                f"{detail})")
        raise RegistryError(self.name, f"registry {self.registry} answered {resp.status} to {method} "
                            f"{urllib.parse.urlsplit(url).path}{detail}")

    def _authenticate(self, header: str, scope: str) -> None:
        challenge = parse_challenge(header)
        if challenge is None:
            raise RegistryAuthError(self.name, f"registry {self.registry} answered 401 without a challenge")
        if challenge.scheme == "basic":
            if not self.credentials:
                raise RegistryAuthError(self.name, f"registry {self.registry} requires a login; add credentials "
                                        "for it to ~/.docker/config.json or $REGISTRY_AUTH_FILE")
            self._basic = True
            return
        if challenge.scheme != "bearer" or "realm" not in challenge.params:
            raise RegistryAuthError(self.name, f"unsupported auth challenge {challenge.scheme!r} from {self.registry}")
        query = {"service": challenge.params.get("service", ""), "scope": challenge.params.get("scope", scope)}
        realm = challenge.params["realm"]
        if urllib.parse.urlsplit(realm).scheme not in ("https", "http"):
            raise RegistryAuthError(self.name, f"token realm {realm!r} is not an http(s) URL")
        if urllib.parse.urlsplit(realm).scheme == "http" and self.base.startswith("https"):
            raise RegistryAuthError(self.name, f"token realm {realm!r} is plain HTTP; refusing to send credentials")
        headers = {}
        if self.credentials:
            raw = f"{self.credentials.username}:{self.credentials.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        resp = self._send("GET", realm + "?" + urllib.parse.urlencode(query), headers, None)
        body = resp.body.read(MAX_JSON_SIZE)
        resp.body.close()
        if resp.status != 200:
            raise RegistryAuthError(self.name, f"token server {urllib.parse.urlsplit(realm).netloc} refused "
                                    f"({resp.status}); check the credentials in the auth file")
        try:
            doc = jsonsafe.loads(body)
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryAuthError(self.name, "token server answered without a token")
        self._tokens[scope] = token

    # -- pulling ---------------------------------------------------------------------------------------------
    def get_manifest(self, repository: str, reference: str) -> Manifest:
        """Fetch an image manifest or index by tag or digest; its bytes are verified against the digest."""
        data, digest, media = self._fetch_manifest(repository, reference, ACCEPT)
        return parse_manifest(self.name, data, digest, media)

    def get_artifact_manifest(self, repository: str, reference: str) -> Manifest:
        """Fetch a manifest whose layers are not image tars (cosign signatures and attestations).

        The same digest checks as ``get_manifest``; only the layer media types are
        left to the caller, which reads those layers as blobs.
        """
        data, digest, media = self._fetch_manifest(repository, reference, ARTIFACT_ACCEPT)
        return parse_artifact_manifest(self.name, data, digest, media)

    def _fetch_manifest(self, repository: str, reference: str, accept: str) -> tuple[bytes, str, str]:
        resp = self.request("GET", f"/v2/{repository}/manifests/{reference}", scope=_scope(repository),
                            headers={"Accept": accept})
        data = resp.body.read(MAX_JSON_SIZE + 1)
        resp.body.close()
        if len(data) > MAX_JSON_SIZE:
            raise ImageError(self.name, f"manifest {reference} is above the {MAX_JSON_SIZE} byte limit")
        media = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
        if ":" in reference:
            verify_digest(self.name, f"manifest {reference}", data, reference)
            digest = reference
        else:
            digest = sha256_digest(data)
            header = resp.headers.get("Docker-Content-Digest")
            if header and header.startswith("sha256:") and header != digest:
                raise DigestMismatchError(self.name, f"manifest for tag {reference} hashes to {digest} but the "
                                          f"registry says {header}")
        return data, digest, media

    def resolve(self, repository: str, reference: str) -> Descriptor:
        """Tag (or digest) → descriptor of the manifest it names, verified by fetching it."""
        m = self.get_manifest(repository, reference)
        return Descriptor(m.media_type, m.digest, len(m.raw))

    def open_blob(self, repository: str, desc: Descriptor) -> IO[bytes]:
        """A stream of the blob that raises ``DigestMismatchError`` at EOF unless digest and size match."""
        check_blob_digest(self.name, desc.digest)
        resp = self.request("GET", f"/v2/{repository}/blobs/{desc.digest}", scope=_scope(repository))
        raw = VerifyingReader(resp.body, self.name, f"blob {desc.digest}", desc.digest, desc.size)
        return io.BufferedReader(raw, 1024 * 1024)

    def get_blob(self, repository: str, desc: Descriptor) -> bytes:
        with self.open_blob(repository, desc) as fh:
            return fh.read()

    def blob_exists(self, repository: str, digest: str) -> bool:
        try:
            self.request("HEAD", f"/v2/{repository}/blobs/{check_blob_digest(self.name, digest)}",
                         scope=_scope(repository)).body.close()
        except NotFoundError:
            return False
        return True

    def list_tags(self, repository: str) -> list[str]:
        tags: list[str] = []
        path: str | None = f"/v2/{repository}/tags/list?n=1000"
        while path:
            resp = self.request("GET", path, scope=_scope(repository))
            doc = jsonsafe.loads(resp.body.read(MAX_JSON_SIZE) or b"{}")
            resp.body.close()
            tags += [str(t) for t in doc.get("tags") or []]
            path = _next_link(resp.headers.get("Link"))
        return tags

    # -- pushing ---------------------------------------------------------------------------------------------
    def push_blob(self, repository: str, data: bytes, digest: str | None = None) -> str:
        """Upload ``data`` monolithically (POST then PUT ?digest=); skip if the registry has it."""
        digest = digest or sha256_digest(data)
        verify_digest(self.name, "blob to push", data, digest)
        if self.blob_exists(repository, digest):
            return digest
        scope = _scope(repository, push=True)
        resp = self.request("POST", f"/v2/{repository}/blobs/uploads/", scope=scope, ok=(202,))
        resp.body.close()
        location = resp.headers.get("Location") or ""
        url = urllib.parse.urljoin(self.base + "/", location)
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"digest": digest})
        self.request("PUT", url, scope=scope, data=data, ok=(201,),
                     headers={"Content-Type": "application/octet-stream"}).body.close()
        return digest

    def push_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str:
        digest = sha256_digest(data)
        resp = self.request("PUT", f"/v2/{repository}/manifests/{reference}", scope=_scope(repository, push=True),
                            data=data, ok=(201,), headers={"Content-Type": media_type})
        resp.body.close()
        return digest


class _RepoStore:
    """Adapts one repository of a ``RegistryClient`` to the ``BlobStore`` protocol."""

    def __init__(self, client: RegistryClient, repository: str) -> None:
        self.client = client
        self.repository = repository
        self.name = client.name

    def open_blob(self, desc: Descriptor) -> IO[bytes]:
        check_blob_digest(self.name, desc.digest)
        return self.client.request("GET", f"/v2/{self.repository}/blobs/{desc.digest}",
                                   scope=_scope(self.repository)).body


def open_registry_image(ref: RegistryRef, options: Any) -> Image:
    """Open ``docker://`` images: resolve the tag, pick the platform, verify every digest."""
    auth_file = Path(options.auth_file) if options.auth_file else None
    client = RegistryClient.for_ref(ref, insecure=options.allow_insecure_registry, timeout=options.timeout,
                                    auth_file=auth_file, ca_file=options.ca_file)
    root = client.get_manifest(ref.repository, ref.reference)
    store = _RepoStore(client, ref.repository)

    def fetch(desc: Descriptor) -> Manifest:
        m = client.get_manifest(ref.repository, desc.digest)
        if len(m.raw) != desc.size:
            raise DigestMismatchError(client.name, f"manifest {desc.digest} is {len(m.raw)} bytes, index says "
                                      f"{desc.size}")
        return m

    image = resolve_image(store, root, options.platform, fetch_manifest=fetch)
    return image


def _scope(repository: str, push: bool = False) -> str:
    return f"repository:{repository}:{'pull,push' if push else 'pull'}"


def _error_detail(resp: Response) -> str:
    try:
        doc = jsonsafe.loads(resp.body.read(65536) or b"{}")
        errors = doc.get("errors") if isinstance(doc, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return f": {errors[0].get('code', '')} {errors[0].get('message', '')}".rstrip()
    except (ValueError, OSError):
        pass
    return ""


def _next_link(header: str | None) -> str | None:
    if not header or 'rel="next"' not in header:
        return None
    start, end = header.find("<"), header.find(">")
    return header[start + 1:end] if 0 <= start < end else None

