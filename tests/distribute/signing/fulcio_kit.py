"""A stand-in Fulcio CA and Rekor log for tests: certificates and cosign keyless layers we control.

Real keyless signatures made by cosign are in ../shared/cosign-fixtures and are
what the interop tests check; this kit exists for what those cannot show — a
signature pushed to a real registry, a certificate used outside its window, a
certificate from another CA. Built with ``cryptography`` per the Fulcio
certificate profile (code-signing EKU, critical SAN, OIDC issuer extension)
and Rekor's SET format, never with the code under test.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from cloudward.distribute.signing.cosign import SignatureLayer

ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
UTC = datetime.UTC


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "test.invalid"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
        | None, path_len: int | None) -> x509.Certificate:
    start = datetime.datetime(2020, 1, 1, tzinfo=UTC)
    b = (x509.CertificateBuilder().subject_name(_name(subject))
         .issuer_name(issuer[0].subject if issuer else _name(subject))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
         .add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
         .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()),
                            critical=False)
    return b.sign(issuer[1] if issuer else key, hashes.SHA384())


@dataclasses.dataclass
class FakeSigstore:
    root: x509.Certificate
    intermediate: x509.Certificate
    intermediate_key: ec.EllipticCurvePrivateKey
    rekor_key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls) -> FakeSigstore:
        root_key, int_key = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP384R1())
        root = _ca("test-fulcio-root", root_key, None, 1)
        inter = _ca("test-fulcio-intermediate", int_key, (root, root_key), 0)
        return cls(root, inter, int_key, ec.generate_private_key(ec.SECP256R1()))

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def rekor_pub_pem(self) -> bytes:
        return self.rekor_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo)

    def leaf(self, email: str, issuer: str, start: datetime.datetime) -> tuple[x509.Certificate,
                                                                              ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(self.intermediate.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(start + datetime.timedelta(minutes=10))
                .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                               critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.intermediate_key.public_key()), critical=False)
                .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=True)
                .add_extension(x509.UnrecognizedExtension(ISSUER_V1, issuer.encode()), critical=False)
                .sign(self.intermediate_key, hashes.SHA384()))
        return cert, key

    def layer(self, payload: bytes, *, email: str = "dev@example.com", issuer: str = "https://issuer.example",
              signed_at: datetime.datetime | None = None, logged_at: datetime.datetime | None = None,
              log_index: int = 7) -> SignatureLayer:
        """A cosign keyless signature layer over ``payload``: certificate, chain, signature and Rekor bundle."""
        start = signed_at or datetime.datetime.now(UTC).replace(microsecond=0) - datetime.timedelta(minutes=1)
        cert, key = self.leaf(email, issuer, start)
        sig = key.sign(payload, ec.ECDSA(hashes.SHA256()))
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        body = {"apiVersion": "0.0.1", "kind": "hashedrekord",
                "spec": {"data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}},
                         "signature": {"content": base64.b64encode(sig).decode(),
                                       "publicKey": {"content": base64.b64encode(cert_pem).decode()}}}}
        body_b64 = base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
        integrated = int((logged_at or start + datetime.timedelta(seconds=2)).timestamp())
        log_id = hashlib.sha256(self.rekor_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
        promise = json.dumps({"body": body_b64, "integratedTime": integrated, "logID": log_id, "logIndex": log_index},
                             sort_keys=True, separators=(",", ":")).encode()
        set_sig = self.rekor_key.sign(promise, ec.ECDSA(hashes.SHA256()))
        bundle = {"SignedEntryTimestamp": base64.b64encode(set_sig).decode(),
                  "Payload": {"body": body_b64, "integratedTime": integrated, "logIndex": log_index,
                              "logID": log_id}}
        chain = (self.intermediate.public_bytes(serialization.Encoding.PEM) +
                 self.root.public_bytes(serialization.Encoding.PEM))
        return SignatureLayer("application/vnd.dev.cosign.simplesigning.v1+json", payload, {
            "dev.cosignproject.cosign/signature": base64.b64encode(sig).decode(),
            "dev.sigstore.cosign/certificate": cert_pem.decode(),
            "dev.sigstore.cosign/chain": chain.decode(),
            "dev.sigstore.cosign/bundle": json.dumps(bundle, separators=(",", ":"))})
