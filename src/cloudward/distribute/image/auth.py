"""Registry credentials from the standard files, and the auth challenge parser.

The file is ``$REGISTRY_AUTH_FILE`` (containers-auth.json) when set, else
``~/.docker/config.json``; both use ``{"auths": {HOST: {"auth": base64(user:pass)}}}``.
The CLI picks the file (``default_auth_file``) so library code never reads the
environment. Credential helpers (``credsStore``/``credHelpers``) are not run.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import re
from collections.abc import Mapping
from pathlib import Path

from cloudward.core import jsonsafe
from cloudward.core.errors import ConfigError

log = logging.getLogger(__name__)

_DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
_PARAM = re.compile(r'([a-zA-Z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclasses.dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print a password
        return f"Credentials(username={self.username!r}, password=<redacted>)"


def default_auth_file(environ: Mapping[str, str], home: Path) -> Path | None:
    """``$REGISTRY_AUTH_FILE`` if set, else ``~/.docker/config.json`` (``$DOCKER_CONFIG/config.json``) if present."""
    if environ.get("REGISTRY_AUTH_FILE"):
        return Path(environ["REGISTRY_AUTH_FILE"])
    docker_dir = Path(environ["DOCKER_CONFIG"]) if environ.get("DOCKER_CONFIG") else home / ".docker"
    candidate = docker_dir / "config.json"
    return candidate if candidate.is_file() else None


def load_credentials(path: Path | None, registry: str) -> Credentials | None:
    """The credentials for ``registry`` in the auth file, or ``None``; a malformed file is a ConfigError."""
    if path is None:
        return None
    try:
        doc = jsonsafe.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("registry auth file not found; check REGISTRY_AUTH_FILE", file=str(path)) from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"registry auth file is not readable JSON: {e}", file=str(path)) from None
    auths = doc.get("auths") if isinstance(doc, dict) else None
    if not isinstance(auths, dict):
        return None
    keys = [registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/", f"https://{registry}/v2/"]
    if registry in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        keys += list(_DOCKER_HUB_KEYS)
    for key in keys:
        entry = auths.get(key)
        if isinstance(entry, dict):
            return _decode(entry, path, key)
    if (isinstance(doc.get("credHelpers"), dict) and registry in doc["credHelpers"]) or doc.get("credsStore"):
        log.warning("credential helpers in %s are not supported; put the credentials in 'auths' instead", path)
    return None


def _decode(entry: dict[str, object], path: Path, key: str) -> Credentials | None:
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ConfigError(f"auths.{key}.auth is not base64 of 'user:password'", file=str(path)) from None
        if not sep:
            raise ConfigError(f"auths.{key}.auth decodes to no 'user:password' pair", file=str(path))
        return Credentials(user, password)
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str):
        return Credentials(name, secret)
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "basic" or "bearer", lower-case
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """Parse ``WWW-Authenticate: Bearer realm="…",service="…",scope="…"`` (RFC 7235)."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params: dict[str, str] = {}
    for m in _PARAM.finditer(rest):
        params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return Challenge(scheme.lower(), params)
