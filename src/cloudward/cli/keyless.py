"""Flags for verifying keyless (Fulcio certificate) signatures, as cosign names them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cloudward.core.errors import InputError

if TYPE_CHECKING:
    from cloudward.distribute.signing import KeylessPolicy


def add_keyless_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("keyless signatures (Fulcio certificate + Rekor entry, verified offline)")
    g.add_argument("--certificate-identity", metavar="SAN", help="expected certificate identity (e-mail, URI)")
    g.add_argument("--certificate-identity-regexp", metavar="RE", help="or a regular expression it must contain")
    g.add_argument("--certificate-oidc-issuer", metavar="URL", help="expected OIDC issuer of the certificate")
    g.add_argument("--certificate-oidc-issuer-regexp", metavar="RE", help="or a regular expression for it")
    g.add_argument("--trusted-root", metavar="JSON", help="Sigstore trusted_root.json (Fulcio, Rekor, CT keys)")
    g.add_argument("--fulcio-root", metavar="PEM", help="Fulcio root certificate(s), instead of --trusted-root")
    g.add_argument("--ctlog-key", metavar="PUB", action="append", default=[],
                   help="CT log public key for the certificate's SCT (repeatable; with --fulcio-root)")


def keyless_policy(args: argparse.Namespace, rekor_key: str | None) -> KeylessPolicy | None:
    """The keyless policy the flags describe, or ``None`` when no certificate identity was given."""
    wanted = (args.certificate_identity, args.certificate_identity_regexp, args.certificate_oidc_issuer,
              args.certificate_oidc_issuer_regexp)
    if not any(wanted):
        return None
    from cloudward.distribute.signing import CertificateIdentity, KeylessPolicy, KeylessTrust

    if args.trusted_root:
        trust = KeylessTrust.from_trusted_root(Path(args.trusted_root))
    elif args.fulcio_root and rekor_key:
        trust = KeylessTrust.from_files(Path(args.fulcio_root), [Path(rekor_key)], [Path(p) for p in args.ctlog_key])
    else:
        raise InputError("keyless verification needs a trust root: --trusted-root JSON, or --fulcio-root PEM "
                         "with --rekor-key PUB")
    identity = CertificateIdentity(identity=args.certificate_identity, issuer=args.certificate_oidc_issuer,
                                   identity_regexp=args.certificate_identity_regexp,
                                   issuer_regexp=args.certificate_oidc_issuer_regexp)
    return KeylessPolicy(trust, (identity,))
