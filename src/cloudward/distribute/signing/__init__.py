"""Sign and verify images, blobs and attestations, interoperable with cosign and Sigstore.

Keys (``keys``), signers (``signers``), cosign's blob and image signature formats
(``blob``, ``simplesigning``, ``cosign``, ``images``), DSSE/in-toto attestations
(``dsse``, ``predicates``), keyless Fulcio/Rekor signatures (``keyless``), transparency
log proofs (``tlog``), Sigstore bundles (``bundle``) and verification
policies (``policy``). See docs/signing.md.
"""

from cloudward.distribute.signing.blob import sign_blob, verify_blob
from cloudward.distribute.signing.bundle import verify_bundle
from cloudward.distribute.signing.dsse import Envelope, Statement, Subject, build_statement, pae, parse_statement
from cloudward.distribute.signing.errors import KeyFileError, NotVerifiedError
from cloudward.distribute.signing.images import (
    ImageVerification,
    Pushed,
    attest_image,
    sign_image,
    verify_image,
    verify_image_attestations,
)
from cloudward.distribute.signing.keyless import CertificateIdentity, KeylessPolicy, KeylessTrust
from cloudward.distribute.signing.keys import (
    KeyType,
    PrivateKey,
    PublicKey,
    fingerprint,
    generate_key,
    read_private_key,
    read_public_key,
    write_key_pair,
)
from cloudward.distribute.signing.model import Verified
from cloudward.distribute.signing.policy import (
    AllOf,
    AnyOf,
    Attested,
    ImageUnderCheck,
    PolicySet,
    SignedBy,
    UnsafeAllowUnsigned,
    load_policy,
)
from cloudward.distribute.signing.predicates import predicate_type_uri, slsa_provenance
from cloudward.distribute.signing.signers import InMemoryKms, KeySigner, KmsBackend, KmsSigner, Revocations, Signer

__all__ = [
    "AllOf",
    "AnyOf",
    "Attested",
    "CertificateIdentity",
    "Envelope",
    "ImageUnderCheck",
    "ImageVerification",
    "InMemoryKms",
    "KeyFileError",
    "KeySigner",
    "KeyType",
    "KeylessPolicy",
    "KeylessTrust",
    "KmsBackend",
    "KmsSigner",
    "NotVerifiedError",
    "PolicySet",
    "PrivateKey",
    "PublicKey",
    "Pushed",
    "Revocations",
    "SignedBy",
    "Signer",
    "Statement",
    "Subject",
    "UnsafeAllowUnsigned",
    "Verified",
    "attest_image",
    "build_statement",
    "fingerprint",
    "generate_key",
    "load_policy",
    "pae",
    "parse_statement",
    "predicate_type_uri",
    "read_private_key",
    "read_public_key",
    "sign_blob",
    "sign_image",
    "slsa_provenance",
    "verify_blob",
    "verify_bundle",
    "verify_image",
    "verify_image_attestations",
    "write_key_pair",
]
