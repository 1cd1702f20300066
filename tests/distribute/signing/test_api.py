"""The signing package's public surface is pinned, and library errors never escape untranslated."""

from __future__ import annotations

import cloudward.distribute.signing as signing
from cloudward.core.errors import CloudwardError, InputError
from cloudward.distribute.signing import KeyFileError, NotVerifiedError


def test_public_api_is_pinned() -> None:
    assert set(signing.__all__) == {
        "AllOf", "AnyOf", "Attested", "CertificateIdentity", "Envelope", "KeylessPolicy", "KeylessTrust",
        "ImageUnderCheck", "ImageVerification", "InMemoryKms",
        "KeyFileError", "KeySigner", "KeyType", "KmsBackend", "KmsSigner", "NotVerifiedError", "PolicySet",
        "PrivateKey", "PublicKey", "Pushed", "Revocations", "SignedBy", "Signer", "Statement", "Subject",
        "UnsafeAllowUnsigned", "Verified", "attest_image", "build_statement", "fingerprint", "generate_key",
        "load_policy", "pae", "parse_statement", "predicate_type_uri", "read_private_key", "read_public_key",
        "sign_blob", "sign_image", "slsa_provenance", "verify_blob", "verify_bundle", "verify_image",
        "verify_image_attestations", "write_key_pair"}


def test_error_kinds_map_to_the_documented_exit_codes() -> None:
    assert issubclass(KeyFileError, InputError) and KeyFileError("x").exit_code == 2
    e = NotVerifiedError("img", "no signatures found")
    assert isinstance(e, CloudwardError) and e.exit_code == 1
    assert str(e) == "img: not verified: no signatures found"


def test_pae_matches_the_dsse_spec_example() -> None:
    # DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world")
    assert signing.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world")
