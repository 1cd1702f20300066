"""Keyless (Fulcio certificate) signatures: the trust root, the identity policy and the certificate checks.

cosign's keyless ``sign`` stores, next to the signature, the short-lived Fulcio
certificate (``dev.sigstore.cosign/certificate``), its chain
(``dev.sigstore.cosign/chain``) and the Rekor entry (``dev.sigstore.cosign/bundle``).
The certificate is valid for ten minutes, so "valid now" is meaningless; the one
trusted time is Rekor's integrated time, itself trusted only because the log
signed it (the SET). So a verifier checks, as cosign does: the signature with
the certificate's key, the SET with a trusted Rekor key, that the Rekor entry
records this signature, payload hash and certificate, that the certificate
chains to a trusted Fulcio root *at the integrated time* (code-signing usage),
its embedded SCTs when CT log keys are known, and that a SAN and the OIDC
issuer extension match what the user expects (exact or regular expression,
cosign's ``--certificate-identity[-regexp]`` / ``--certificate-oidc-issuer[-regexp]``).

The trust comes from files the user obtained out of band — a Fulcio root PEM
plus a Rekor public key (what containers/image and ``SIGSTORE_ROOT_FILE`` use),
or a Sigstore ``trusted_root.json`` — and nothing is fetched. All X.509 work is
``cryptography``'s (its RFC 5280 path builder, SCT parsing and precertificate
TBS); the sigstore library is not needed here.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

from cloudward.core import jsonsafe
from cloudward.core.errors import InputError
from cloudward.distribute.signing.errors import LayerRejected
from cloudward.distribute.signing.keys import PublicKey, load_public_key, read_public_key
from cloudward.distribute.signing.signers import verify_signature

FULCIO_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")  # raw string
FULCIO_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")  # DER UTF8String
FULCIO_OTHERNAME_SAN = ObjectIdentifier("1.3.6.1.4.1.57264.1.7")
_MAX_TRUST_FILE = 4 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class CertificateIdentity:
    """Who must have signed: a SAN (exact or regexp) and an OIDC issuer (exact or regexp).

    Regular expressions are searched, not anchored — Go's ``MatchString``, which is
    what cosign uses — so write ``^…$`` to pin the whole value.
    """

    identity: str | None = None
    issuer: str | None = None
    identity_regexp: str | None = None
    issuer_regexp: str | None = None

    def __post_init__(self) -> None:
        if (self.identity is None) == (self.identity_regexp is None):
            raise InputError("give exactly one of --certificate-identity and --certificate-identity-regexp")
        if (self.issuer is None) == (self.issuer_regexp is None):
            raise InputError("give exactly one of --certificate-oidc-issuer and --certificate-oidc-issuer-regexp")
        for flag, pattern in (("--certificate-identity-regexp", self.identity_regexp),
                              ("--certificate-oidc-issuer-regexp", self.issuer_regexp)):
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as e:
                    raise InputError(f"{flag} {pattern!r} is not a valid regular expression: {e}") from None

    def matches(self, sans: Sequence[str], issuer: str | None) -> str | None:
        """The SAN that satisfies this identity (and the issuer matches), else ``None``."""
        if issuer is None:
            return None
        if self.issuer is not None and issuer != self.issuer:
            return None
        if self.issuer_regexp is not None and not re.search(self.issuer_regexp, issuer):
            return None
        for san in sans:
            if san == self.identity or (self.identity_regexp is not None and re.search(self.identity_regexp, san)):
                return san
        return None

    def describe(self) -> str:
        who = self.identity if self.identity is not None else f"/{self.identity_regexp}/"
        iss = self.issuer if self.issuer is not None else f"/{self.issuer_regexp}/"
        return f"{who} from {iss}"


@dataclasses.dataclass(frozen=True, slots=True)
class CertificateAuthority:
    """One Fulcio CA: its chain (intermediates, then the self-signed root) and when it may issue."""

    chain: tuple[x509.Certificate, ...]
    valid_from: datetime.datetime | None = None
    valid_until: datetime.datetime | None = None

    def active_at(self, when: datetime.datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= when) and (
            self.valid_until is None or when <= self.valid_until)


@dataclasses.dataclass(frozen=True, slots=True)
class KeylessTrust:
    """Fulcio CAs, Rekor log keys (by hex log id) and CT log keys (by raw log id) the user trusts."""

    authorities: tuple[CertificateAuthority, ...]
    rekor_keys: Mapping[str, PublicKey]
    ct_keys: Mapping[bytes, PublicKey] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_files(cls, fulcio_roots: Path, rekor_keys: Sequence[Path], ct_keys: Sequence[Path] = ()) -> KeylessTrust:
        """A Fulcio PEM bundle (roots and intermediates) plus Rekor (and optionally CT log) public keys."""
        try:
            data = fulcio_roots.read_bytes()[:_MAX_TRUST_FILE]
        except OSError as e:
            raise InputError(f"cannot read Fulcio root certificates: {e.strerror}", file=str(fulcio_roots)) from None
        try:
            certs = tuple(x509.load_pem_x509_certificates(data))
        except ValueError:
            raise InputError("not PEM certificates (expected the Fulcio root CA, e.g. fulcio_v1.crt.pem)",
                             file=str(fulcio_roots)) from None
        rekor = {hashlib.sha256(_spki(k)).hexdigest(): k for k in map(read_public_key, rekor_keys)}
        ct = {hashlib.sha256(_spki(k)).digest(): k for k in map(read_public_key, ct_keys)}
        return cls((CertificateAuthority(certs),), rekor, ct)

    @classmethod
    def from_trusted_root(cls, path: Path) -> KeylessTrust:
        """A Sigstore ``trusted_root.json``: ``certificateAuthorities``, ``tlogs`` and ``ctlogs``."""
        try:
            doc = jsonsafe.loads(path.read_bytes()[:_MAX_TRUST_FILE])
        except OSError as e:
            raise InputError(f"cannot read trusted root: {e.strerror}", file=str(path)) from None
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"trusted root is not JSON: {e}", file=str(path)) from None
        if not isinstance(doc, dict):
            raise InputError("trusted root is not a JSON object", file=str(path))
        cas = []
        for i, ca in enumerate(doc.get("certificateAuthorities") or []):
            try:
                chain = tuple(x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
                              for c in ca["certChain"]["certificates"])
                valid = ca.get("validFor") or {}
                cas.append(CertificateAuthority(chain, _time(valid.get("start")), _time(valid.get("end"))))
            except (KeyError, TypeError, ValueError, binascii.Error):
                raise InputError(f"certificateAuthorities[{i}] does not parse (certChain.certificates[].rawBytes)",
                                 file=str(path)) from None
        if not cas:
            raise InputError("trusted root has no certificateAuthorities (Fulcio)", file=str(path))
        rekor = {k.hex(): v for k, v in _log_keys(doc.get("tlogs"), str(path)).items()}
        return cls(tuple(cas), rekor, _log_keys(doc.get("ctlogs"), str(path)))


@dataclasses.dataclass(frozen=True, slots=True)
class KeylessPolicy:
    """Verify keyless signatures with ``trust``; any one of ``identities`` must match the certificate."""

    trust: KeylessTrust
    identities: tuple[CertificateIdentity, ...]

    def __post_init__(self) -> None:
        if not self.identities:
            raise InputError("keyless verification needs --certificate-identity (or -regexp) and "
                             "--certificate-oidc-issuer (or -regexp); refusing to accept any signer")


def parse_certificates(cert_pem: str, chain_pem: str | None) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The leaf and the (untrusted) chain from the layer annotations."""
    try:
        leaf = x509.load_pem_x509_certificate(cert_pem.encode())
    except ValueError:
        raise LayerRejected("certificate annotation is not a PEM certificate") from None
    try:
        chain = x509.load_pem_x509_certificates(chain_pem.encode()) if chain_pem else []
    except ValueError:
        raise LayerRejected("certificate chain annotation is not PEM certificates") from None
    return leaf, chain


def certificate_key(leaf: x509.Certificate) -> PublicKey:
    pem = leaf.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        return load_public_key(pem, "certificate")
    except InputError as e:
        raise LayerRejected(f"certificate key is unusable: {e}") from None


def check_certificate(leaf: x509.Certificate, chain: Sequence[x509.Certificate], policy: KeylessPolicy,
                      at: datetime.datetime) -> list[tuple[str, str]]:
    """Chain, usage, SCT and identity of ``leaf`` at the log's time ``at``; claims, or ``LayerRejected``."""
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if not start <= at <= end:
        raise LayerRejected(f"certificate was valid {_iso(start)} to {_iso(end)}, but the log recorded the "
                            f"signature at {_iso(at)}")
    issuer_cert, root = _verify_chain(leaf, chain, policy.trust, at)
    _check_usage(leaf)
    claims = [("certificate", f"chains to {root.subject.rfc4514_string()} at {_iso(at)}")]
    claims.append(("sct", _check_sct(leaf, issuer_cert, policy.trust.ct_keys)))
    sans, issuer = subject_alternative_names(leaf), oidc_issuer(leaf)
    for wanted in policy.identities:
        san = wanted.matches(sans, issuer)
        if san is not None:
            return [("identity", san), ("issuer", issuer or ""), *claims]
    expected = " or ".join(w.describe() for w in policy.identities)
    raise LayerRejected(f"certificate identity {', '.join(sans) or '(none)'} from {issuer or '(no issuer)'} does "
                        f"not match the expected {expected}")


def subject_alternative_names(cert: x509.Certificate) -> list[str]:
    """The SANs cosign compares: DNS, e-mail, IP, URI and Fulcio's username otherName."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out = [*ext.get_values_for_type(x509.DNSName), *ext.get_values_for_type(x509.RFC822Name)]
    out += [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]
    out += ext.get_values_for_type(x509.UniformResourceIdentifier)
    for other in ext.get_values_for_type(x509.OtherName):
        if other.type_id == FULCIO_OTHERNAME_SAN:
            value = _der_utf8(other.value)
            if value is not None:
                out.append(value)
    return out


def oidc_issuer(cert: x509.Certificate) -> str | None:
    """Fulcio's OIDC issuer extension: v2 (DER UTF8String) when present, else v1 (raw bytes)."""
    for oid, der in ((FULCIO_ISSUER_V2, True), (FULCIO_ISSUER_V1, False)):
        try:
            raw = cert.extensions.get_extension_for_oid(oid).value
        except x509.ExtensionNotFound:
            continue
        value = raw.value if isinstance(raw, x509.UnrecognizedExtension) else b""
        return _der_utf8(value) if der else value.decode("utf-8", "replace")
    return None


def _verify_chain(leaf: x509.Certificate, chain: Sequence[x509.Certificate], trust: KeylessTrust,
                  at: datetime.datetime) -> tuple[x509.Certificate, x509.Certificate]:
    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(x509.ExtendedKeyUsage, Criticality.NON_CRITICAL,
                                                                    None)
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(x509.ExtendedKeyUsage, Criticality.NON_CRITICAL,
                                                                    None)
    last = "no Fulcio CA in the trust root was active at that time"
    for ca in trust.authorities:
        if not ca.active_at(at):
            continue
        roots = [c for c in ca.chain if c.issuer == c.subject]
        if not roots:
            continue
        verifier = (PolicyBuilder().store(Store(roots)).time(at)
                    .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy).build_client_verifier())
        try:
            built = verifier.verify(leaf, [*chain, *(c for c in ca.chain if c.issuer != c.subject)]).chain
        except (VerificationError, ValueError) as e:
            last = str(e).split("\n")[0]
            continue
        return built[1], built[-1]
    raise LayerRejected(f"certificate does not chain to a trusted Fulcio root at {_iso(at)} ({last})")


def _check_usage(leaf: x509.Certificate) -> None:
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        raise LayerRejected("certificate lacks key usage or extended key usage") from None
    if not usage.digital_signature or ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        raise LayerRejected("certificate is not for code signing (key usage / extended key usage)")


def _check_sct(leaf: x509.Certificate, issuer: x509.Certificate, ct_keys: Mapping[bytes, PublicKey]) -> str:
    """Verify an embedded SCT over the precertificate (RFC 6962 3.2) with a trusted CT log key."""
    if not ct_keys:
        return "not checked (no CT log key in the trust root)"
    try:
        scts = leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
    except x509.ExtensionNotFound:
        raise LayerRejected("certificate has no embedded SCT, but CT log keys were given") from None
    issuer_key_hash = hashlib.sha256(_spki(issuer.public_key())).digest()
    tbs = leaf.tbs_precertificate_bytes
    for sct in scts:
        key = ct_keys.get(sct.log_id)
        if key is None:
            continue
        stamp = sct.timestamp.replace(tzinfo=datetime.UTC)
        ms = (stamp - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)) // datetime.timedelta(milliseconds=1)
        signed = (bytes([0, 0]) + ms.to_bytes(8, "big") + (1).to_bytes(2, "big") + issuer_key_hash +
                  len(tbs).to_bytes(3, "big") + tbs + len(sct.extension_bytes).to_bytes(2, "big") +
                  sct.extension_bytes)
        if verify_signature(key, sct.signature, signed):
            return f"verified (CT log {sct.log_id.hex()[:16]}…)"
        raise LayerRejected(f"SCT from CT log {sct.log_id.hex()[:16]}… does not verify")
    raise LayerRejected("no SCT in the certificate is from a trusted CT log")


def _log_keys(entries: Any, source: str) -> dict[bytes, PublicKey]:
    out: dict[bytes, PublicKey] = {}
    for entry in entries or []:
        try:
            raw = base64.b64decode(entry["publicKey"]["rawBytes"])
            log_id = base64.b64decode(entry["logId"]["keyId"])
        except (KeyError, TypeError, binascii.Error):
            continue
        pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(raw) + b"-----END PUBLIC KEY-----\n"
        try:
            out[log_id] = load_public_key(pem, source)
        except InputError:
            continue  # a key type we cannot use (e.g. a future algorithm) is skipped, not trusted
    return out


def _spki(key: Any) -> bytes:
    der: bytes = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def _der_utf8(value: bytes) -> str | None:
    """Decode a short DER UTF8String (tag 0x0c); Fulcio's values are well under 128 bytes or use long form."""
    if len(value) < 2 or value[0] != 0x0C:
        return None
    n, off = value[1], 2
    if n & 0x80:
        width = n & 0x7F
        n, off = int.from_bytes(value[2:2 + width], "big"), 2 + width
    return value[off:off + n].decode("utf-8", "replace")


def _time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
