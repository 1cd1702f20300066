"""Key pairs: generate, save and load ECDSA P-256 and Ed25519 keys, in cosign's file formats.

cosign's private key file is PEM (``ENCRYPTED SIGSTORE PRIVATE KEY``; cosign < 2.0
wrote ``ENCRYPTED COSIGN PRIVATE KEY``) whose body is JSON
``{"kdf":{"name":"scrypt","params":{"N","r","p"},"salt"},"cipher":{"name":"nacl/secretbox","nonce"},"ciphertext"}``;
the secretbox key is scrypt(password, salt, N, r, p, 32) and the plaintext is the
PKCS#8 DER private key. We read and write exactly that, so a key made by
``cloudward keys generate`` works with ``cosign sign --key`` and the other way
round. PKCS#8 carries Ed25519 as well, so Ed25519 keys use the same container.
Plain PKCS#8 PEM (``PRIVATE KEY``/``ENCRYPTED PRIVATE KEY``) is read too; an
unencrypted private key is only ever written when the caller asks for it by name.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
import logging
import re
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from cloudward.core import jsonsafe
from cloudward.core.files import atomic_write, read_user_file
from cloudward.distribute.signing.errors import KeyFileError

log = logging.getLogger(__name__)

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey

SIGSTORE_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY"
LEGACY_COSIGN_PEM = "ENCRYPTED COSIGN PRIVATE KEY"
SCRYPT_N = 65536  # what cosign >= 2.0 writes; legacy files use 32768
SCRYPT_R, SCRYPT_P = 8, 1
_MAX_SCRYPT_N = 1 << 20  # refuse absurd work factors from hostile files
_MAX_KEY_FILE = 64 * 1024
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)


class KeyType(enum.StrEnum):
    """Key algorithms cloudward can generate and sign with."""

    ECDSA_P256 = "ecdsa-p256"
    ED25519 = "ed25519"


def generate_key(kind: KeyType = KeyType.ECDSA_P256) -> PrivateKey:
    if kind is KeyType.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def key_type(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return KeyType.ED25519.value
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return f"ecdsa-{key.curve.name}"
    return f"rsa-{key.key_size}"


# -- public keys -------------------------------------------------------------------------------------------------
def public_key_pem(key: PrivateKey | PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)) else key
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_der(pub: PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(pub: PublicKey) -> str:
    """``sha256:<hex>`` of the SubjectPublicKeyInfo DER: the id used in revocation lists and reports."""
    return "sha256:" + hashlib.sha256(spki_der(pub)).hexdigest()


def load_public_key(data: bytes, source: str) -> PublicKey:
    """A PEM public key (SPKI) or the PEM certificate's key; refuses curves and types we cannot verify."""
    if b"-----BEGIN CERTIFICATE-----" in data:
        from cryptography import x509

        try:
            cert_key: Any = x509.load_pem_x509_certificate(data).public_key()
        except ValueError as e:
            raise KeyFileError(f"certificate does not parse: {_clean(e)}", file=source) from None
        return _check_public(cert_key, source)
    if b"-----BEGIN" not in data:
        raise KeyFileError("not a PEM public key (no '-----BEGIN PUBLIC KEY-----' line)", file=source)
    try:
        key: Any = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError("public key does not parse as PEM SubjectPublicKeyInfo; is the file truncated or "
                           "corrupted?", file=source) from None
    return _check_public(key, source)


def _check_public(key: Any, source: str) -> PublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ("secp256r1", "secp384r1"):
            raise KeyFileError(f"unsupported EC curve {key.curve.name}; use P-256", file=source)
        return key
    if isinstance(key, (ed25519.Ed25519PublicKey, rsa.RSAPublicKey)):
        return key
    raise KeyFileError(f"unsupported public key type {type(key).__name__}; use ECDSA P-256, Ed25519 or RSA",
                       file=source)


def read_public_key(path: Path) -> PublicKey:
    return load_public_key(_read(path), str(path))


# -- private keys ------------------------------------------------------------------------------------------------
def encrypt_private_key(key: PrivateKey, password: bytes, *, scrypt_n: int = SCRYPT_N) -> bytes:
    """cosign's encrypted private key PEM (``ENCRYPTED SIGSTORE PRIVATE KEY``)."""
    from nacl.secret import SecretBox

    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    salt, nonce = secrets.token_bytes(32), secrets.token_bytes(SecretBox.NONCE_SIZE)
    box = SecretBox(_scrypt(password, salt, scrypt_n, SCRYPT_R, SCRYPT_P))
    ciphertext = box.encrypt(der, nonce).ciphertext
    doc = {"kdf": {"name": "scrypt", "params": {"N": scrypt_n, "r": SCRYPT_R, "p": SCRYPT_P},
                   "salt": base64.b64encode(salt).decode()},
           "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
           "ciphertext": base64.b64encode(ciphertext).decode()}
    return _pem(SIGSTORE_PEM, json.dumps(doc, separators=(",", ":")).encode())


def unsafe_plaintext_private_key(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM. Named Unsafe because anyone who reads the file can sign as you."""
    log.warning("writing an UNENCRYPTED private key; anyone who can read the file can sign as you")
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_key(data: bytes, password: bytes | None, source: str) -> PrivateKey:
    """Decrypt a cosign/sigstore encrypted key, or read PKCS#8 / SEC1 PEM. Wrong password → ``KeyFileError``."""
    m = _PEM.search(data)
    if not m:
        raise KeyFileError("not a PEM private key (no complete BEGIN/END block); is the file truncated?", file=source)
    label = m.group(1).decode()
    if label in (SIGSTORE_PEM, LEGACY_COSIGN_PEM):
        try:
            body = base64.b64decode(b"".join(m.group(2).split()), validate=True)
        except binascii.Error:
            raise KeyFileError(f"{label} body is not base64; the file is corrupted", file=source) from None
        return _check_private(_decrypt_sigstore(body, password or b"", source), source)
    if label == "ENCRYPTED PRIVATE KEY" and not password:
        raise KeyFileError("the private key is encrypted; give its password (prompt or CLOUDWARD_PASSWORD)",
                           file=source)
    pw = password if label == "ENCRYPTED PRIVATE KEY" else None
    try:
        key: Any = serialization.load_pem_private_key(m.group(0), pw)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        msg = "wrong password or corrupted key" if pw else f"private key does not parse ({_clean(e)})"
        raise KeyFileError(msg, file=source) from None
    return _check_private(key, source)


def is_encrypted(data: bytes) -> bool:
    """Whether the PEM private key needs a password (so the CLI prompts only when it must)."""
    m = _PEM.search(data)
    return m is not None and b"ENCRYPTED" in m.group(1)


def read_private_key(path: Path, password: bytes | None) -> PrivateKey:
    return load_private_key(_read(path), password, str(path))


def _decrypt_sigstore(body: bytes, password: bytes, source: str) -> Any:
    from nacl.exceptions import CryptoError
    from nacl.secret import SecretBox

    try:
        doc = jsonsafe.loads(body)
        kdf, cipher = doc["kdf"], doc["cipher"]
        params = kdf["params"]
        n, r, p = int(params["N"]), int(params["r"]), int(params["p"])
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(cipher["nonce"], validate=True)
        ciphertext = base64.b64decode(doc["ciphertext"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise KeyFileError("encrypted key JSON is malformed (kdf/cipher/ciphertext)", file=source) from None
    if kdf.get("name") != "scrypt" or cipher.get("name") != "nacl/secretbox":
        raise KeyFileError(f"unsupported key encryption {kdf.get('name')}/{cipher.get('name')}; expected "
                           "scrypt/nacl/secretbox", file=source)
    if not (2 <= n <= _MAX_SCRYPT_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise KeyFileError(f"refusing scrypt parameters N={n} r={r} p={p}", file=source)
    if len(nonce) != SecretBox.NONCE_SIZE:
        raise KeyFileError("encrypted key nonce has the wrong length", file=source)
    try:
        der = SecretBox(_scrypt(password, salt, n, r, p)).decrypt(ciphertext, nonce)
    except CryptoError:
        raise KeyFileError("decryption failed: wrong password or corrupted key", file=source) from None
    try:
        return serialization.load_der_private_key(der, None)
    except (ValueError, UnsupportedAlgorithm) as e:
        raise KeyFileError(f"decrypted key is not PKCS#8 ({_clean(e)})", file=source) from None


def _check_private(key: Any, source: str) -> PrivateKey:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    what = f"EC curve {key.curve.name}" if isinstance(key, ec.EllipticCurvePrivateKey) else type(key).__name__
    raise KeyFileError(f"cannot sign with {what}; cloudward signs with ECDSA P-256 or Ed25519", file=source)


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024)


# -- files -------------------------------------------------------------------------------------------------------
def write_key_pair(prefix: Path, key: PrivateKey, password: bytes | None, *, force: bool = False,
                   unsafe_unencrypted: bool = False) -> tuple[Path, Path]:
    """Write PREFIX.key (mode 0600) and PREFIX.pub atomically; refuse to overwrite unless ``force``."""
    priv_path, pub_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    for path in (priv_path, pub_path):
        if path.exists() and not force:
            raise KeyFileError("already exists; remove it or pass --force to overwrite", file=str(path))
    if unsafe_unencrypted:
        priv = unsafe_plaintext_private_key(key)
    elif password is None:
        raise KeyFileError("a password is required to encrypt the private key (empty is allowed, like cosign)",
                           file=str(priv_path))
    else:
        priv = encrypt_private_key(key, password)
    atomic_write(priv_path, priv, mode=0o600)
    atomic_write(pub_path, public_key_pem(key), mode=0o644)
    return priv_path, pub_path


def _read(path: Path) -> bytes:
    return read_user_file(path, "key file", max_size=_MAX_KEY_FILE, hint="check the --key path",
                          error=KeyFileError)


def _pem(label: str, body: bytes) -> bytes:
    b64 = base64.b64encode(body).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()


def _clean(e: Exception) -> str:
    """The library's message without anything that could echo key bytes."""
    text = str(e).split("\n")[0]
    return text[:120]
