"""``cloudward keys|sign|verify|attest|verify-attestation|sign-blob|verify-blob|verify-bundle``.

Exit codes: 0 verified/signed, 1 not verified (the artifact is not trusted),
2 bad input (a key file, a password, a flag), 3 the registry failed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cloudward.cli.keyless import add_keyless_flags, keyless_policy
from cloudward.cli.output import write_output
from cloudward.core import jsonsafe
from cloudward.core.errors import InputError

IMAGE_HELP = "REGISTRY/REPO[:TAG|@DIGEST] (docker:// optional); tags are resolved to the digest that is signed"
PASSWORD_ENV = "CLOUDWARD_PASSWORD"  # noqa: S105 - the variable's name, not a password
Handler = Callable[[argparse.Namespace], int]


def add_parser(sub: Any) -> None:
    k = sub.add_parser("keys", help="generate signing key pairs (cosign-compatible)")
    ksub = k.add_subparsers(dest="keys_command", metavar="SUBCOMMAND", parser_class=type(k))
    g = ksub.add_parser("generate", help="write NAME.key (encrypted) and NAME.pub")
    g.add_argument("--output-prefix", metavar="NAME", default="cosign", help="file name prefix (default: cosign)")
    g.add_argument("--type", choices=("ecdsa-p256", "ed25519"), default="ecdsa-p256", help="key algorithm")
    g.add_argument("--force", action="store_true", help="overwrite existing files")
    g.add_argument("--unsafe-unencrypted", action="store_true", help="write the private key WITHOUT encryption")
    g.set_defaults(handler=run_generate)
    f = ksub.add_parser("fingerprint", help="print a public key's fingerprint (for signing.revoked_keys)")
    f.add_argument("key", metavar="PUB")
    f.set_defaults(handler=lambda a: _print(_fingerprint(a.key)))
    k.set_defaults(handler=lambda _a: _usage(k))

    s = sub.add_parser("sign", help="sign an image in its registry, as cosign does")
    s.add_argument("image", metavar="IMAGE", help=IMAGE_HELP)
    _key_flag(s, private=True)
    _annotation_flag(s)
    _registry_flags(s)
    s.set_defaults(handler=run_sign)

    v = sub.add_parser("verify", help="verify an image's signatures with keys or a policy")
    v.add_argument("image", metavar="IMAGE", help=IMAGE_HELP)
    v.add_argument("--key", metavar="PUB", action="append", default=[], help="public key (repeat for several)")
    v.add_argument("--policy", metavar="FILE", help="verification policy YAML instead of --key (docs/signing.md)")
    v.add_argument("--threshold", type=int, default=1, metavar="K", help="distinct keys that must have signed")
    v.add_argument("--signed-reference", metavar="REGISTRY/REPO", help="expected docker-reference in the payload "
                   "(default: the image's own repository; use for mirrors)")
    v.add_argument("--rekor-key", metavar="PUB", help="also require a Rekor entry signed by this log key")
    _annotation_flag(v)
    add_keyless_flags(v)
    _verify_flags(v)
    v.set_defaults(handler=_verdict(run_verify))

    a = sub.add_parser("attest", help="attach a signed in-toto attestation to an image (.att)")
    a.add_argument("image", metavar="IMAGE", help=IMAGE_HELP)
    src = a.add_mutually_exclusive_group(required=True)
    src.add_argument("--predicate", metavar="FILE", help="predicate JSON (SBOM, provenance, scan result)")
    src.add_argument("--generate-provenance", action="store_true", help="SLSA provenance v1 from CI variables")
    a.add_argument("--type", required=True, help="slsaprovenance, cyclonedx, spdx, vuln, custom or a URI")
    _key_flag(a, private=True)
    _registry_flags(a)
    a.set_defaults(handler=run_attest)

    va = sub.add_parser("verify-attestation", help="verify an image's attestations of a predicate type")
    va.add_argument("image", metavar="IMAGE", help=IMAGE_HELP)
    va.add_argument("--type", required=True, help="predicate type that must be attested")
    va.add_argument("--key", metavar="PUB", action="append", required=True, help="public key (repeatable)")
    va.add_argument("--threshold", type=int, default=1, metavar="K", help="distinct keys that must have signed")
    _verify_flags(va)
    va.set_defaults(handler=_verdict(run_verify_attestation))

    sb = sub.add_parser("sign-blob", help="sign a file; prints base64 like cosign sign-blob")
    sb.add_argument("file", metavar="FILE")
    _key_flag(sb, private=True)
    sb.add_argument("--output-signature", metavar="SIG", help="write the signature here instead of stdout")
    sb.set_defaults(handler=run_sign_blob)

    vb = sub.add_parser("verify-blob", help="verify a file's detached signature (cosign format)")
    vb.add_argument("file", metavar="FILE")
    vb.add_argument("--signature", metavar="SIG", required=True, help="base64 signature file")
    vb.add_argument("--key", metavar="PUB", required=True)
    _verify_flags(vb)
    vb.set_defaults(handler=_verdict(run_verify_blob))

    bd = sub.add_parser("verify-bundle", help="verify a Sigstore bundle offline against a trusted root")
    bd.add_argument("file", metavar="FILE", nargs="?", help="the signed artifact (omit for a DSSE bundle)")
    bd.add_argument("--bundle", metavar="BUNDLE", required=True, help="the .sigstore.json bundle")
    bd.add_argument("--key", metavar="PUB", help="public key, for bundles signed with a key")
    bd.add_argument("--trusted-root", metavar="JSON", help="Sigstore trusted_root.json (no network is used)")
    bd.add_argument("--certificate-identity", metavar="SAN", help="expected signer (keyless)")
    bd.add_argument("--certificate-oidc-issuer", metavar="URL", help="expected OIDC issuer (keyless)")
    _verify_flags(bd)
    bd.set_defaults(handler=_verdict(run_verify_bundle))


# -- handlers ------------------------------------------------------------------------------------------------------
def run_generate(args: argparse.Namespace) -> int:
    from cloudward.distribute.signing import KeyType, generate_key, write_key_pair

    password = None if args.unsafe_unencrypted else _password(confirm=True)
    priv, pub = write_key_pair(Path(args.output_prefix), generate_key(KeyType(args.type)), password,
                               force=args.force, unsafe_unencrypted=args.unsafe_unencrypted)
    print(f"Private key written to {priv}\nPublic key written to {pub}", file=sys.stderr)
    return 0


def run_sign(args: argparse.Namespace) -> int:
    from cloudward.distribute.signing import sign_image

    ref, client = _client(args)
    pushed = sign_image(client, ref, _signer(args.key), _annotations(args.annotation))
    print(f"signed {ref.registry}/{ref.repository}@{pushed.digest}; pushed {pushed.tag} ({pushed.layers} "
          "signature(s))", file=sys.stderr)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from cloudward.distribute.signing import ImageUnderCheck, fingerprint, load_policy, verify_image

    keyless = keyless_policy(args, args.rekor_key)
    if bool(args.key or keyless) == bool(args.policy):
        raise InputError("give --key PUB (repeatable), a keyless identity (--certificate-identity ...), "
                         "or --policy FILE")
    ref, client = _client(args)
    revoked = _revoked(args)
    if args.policy:
        result = load_policy(Path(args.policy)).evaluate(ImageUnderCheck(ref, client, revoked))
        return _report(args, {"image": result.image, "policies": list(result.policies),
                              "verified": [v.to_dict() for v in result.verified]})
    logs = None
    if args.rekor_key and not keyless:  # a Rekor log id is the sha256 of its key's SPKI, i.e. our fingerprint
        key = _public(args.rekor_key)
        logs = {fingerprint(key).removeprefix("sha256:"): key}
    out = verify_image(client, ref, [_public(k) for k in args.key], annotations=_annotations(args.annotation),
                       identity=args.signed_reference, revoked=revoked, threshold=args.threshold, rekor_keys=logs,
                       keyless=keyless)
    return _report(args, out.to_dict())


def run_attest(args: argparse.Namespace) -> int:
    from cloudward.distribute.signing import attest_image, predicate_type_uri, slsa_provenance

    ptype = predicate_type_uri(args.type)
    if args.generate_provenance:
        predicate: Any = slsa_provenance(os.environ)
    else:
        predicate = _json_file(args.predicate, "predicate")
    ref, client = _client(args)
    pushed = attest_image(client, ref, _signer(args.key), ptype, predicate)
    print(f"attested {ptype} for {ref.registry}/{ref.repository}@{pushed.digest}; pushed {pushed.tag}",
          file=sys.stderr)
    return 0


def run_verify_attestation(args: argparse.Namespace) -> int:
    from cloudward.distribute.signing import verify_image_attestations
    from cloudward.distribute.signing.predicates import accepted_types

    types = accepted_types(args.type)
    ref, client = _client(args)
    out = verify_image_attestations(client, ref, [_public(k) for k in args.key], predicate_types=types,
                                    revoked=_revoked(args), threshold=args.threshold)
    doc = out.to_dict() | {"statements": [jsonsafe.loads(s.to_json()) for s in out.statements]}
    return _report(args, doc)


def run_sign_blob(args: argparse.Namespace) -> int:
    from cloudward.core.files import atomic_write
    from cloudward.distribute.signing import sign_blob

    sig = sign_blob(_read(args.file, "file"), _signer(args.key))
    if args.output_signature:
        atomic_write(Path(args.output_signature), sig)
    else:
        print(sig.decode())
    return 0


def run_verify_blob(args: argparse.Namespace) -> int:
    from cloudward.distribute.signing import verify_blob
    from cloudward.distribute.signing.blob import decode_signature

    sig = decode_signature(_read(args.signature, "signature"), args.signature)
    out = verify_blob(_read(args.file, "file"), sig, _public(args.key), subject=args.file, revoked=_revoked(args))
    return _report(args, out.to_dict())


def run_verify_bundle(args: argparse.Namespace) -> int:
    from cloudward.distribute.signing import verify_bundle

    data = _read(args.file, "file") if args.file else None
    out = verify_bundle(data, Path(args.bundle), key=_public(args.key) if args.key else None,
                        trusted_root=Path(args.trusted_root) if args.trusted_root else None,
                        identity=args.certificate_identity, issuer=args.certificate_oidc_issuer,
                        revoked=_revoked(args), subject=args.file or args.bundle)
    return _report(args, out.to_dict())


# -- helpers -------------------------------------------------------------------------------------------------------
def _key_flag(p: argparse.ArgumentParser, private: bool) -> None:
    p.add_argument("--key", metavar="KEY", required=True, help="private key file (cosign or PKCS#8 PEM); its "
                   f"password comes from ${PASSWORD_ENV} or a prompt" if private else "public key PEM")


def _annotation_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--annotation", metavar="KEY=VALUE", action="append", default=[],
                   help="annotation signed into (sign) or required in (verify) the payload; repeatable")


def _registry_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-insecure-registry", action="store_true", help="plain HTTP to the registry")
    p.add_argument("--registry-timeout", metavar="SECONDS", type=float, default=30.0, help="network timeout")


def _verify_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--revoked-key", metavar="FINGERPRINT", action="append", default=[],
                   help="sha256:<hex> of a revoked public key (repeatable); see 'cloudward keys fingerprint'. "
                   "Added to signing.revoked_keys of the config file")
    p.add_argument("--config", metavar="FILE", help="config file with signing.revoked_keys (default: the nearest "
                   ".cloudward.yaml upward from the current directory)")
    p.add_argument("--output", choices=("text", "json"), default="text", help="result format on stdout")
    if not any(a.dest == "allow_insecure_registry" for a in p._actions):
        _registry_flags(p)


def _client(args: argparse.Namespace) -> tuple[Any, Any]:
    from cloudward.distribute.image import RegistryClient, Transport, default_auth_file, parse_reference

    parsed = parse_reference(args.image)
    if parsed.transport is not Transport.DOCKER or parsed.registry is None:
        raise InputError(f"{args.image!r} is not a registry image; signatures live in a registry (REGISTRY/REPO:TAG)")
    auth = default_auth_file(os.environ, Path.home())
    client = RegistryClient.for_ref(parsed.registry, insecure=args.allow_insecure_registry,
                                    timeout=args.registry_timeout, auth_file=auth)
    return parsed.registry, client


def _password(confirm: bool = False) -> bytes:
    if PASSWORD_ENV in os.environ:
        return os.environ[PASSWORD_ENV].encode()
    if not sys.stdin.isatty():
        raise InputError(f"no password: set {PASSWORD_ENV} (empty is allowed) or run in a terminal to be prompted")
    first = getpass.getpass("Enter password for private key: ")
    if confirm and getpass.getpass("Enter again: ") != first:
        raise InputError("the passwords do not match")
    return first.encode()


def _signer(path: str) -> Any:
    from cloudward.distribute.signing import KeySigner
    from cloudward.distribute.signing.keys import is_encrypted, load_private_key

    data = _read(path, "key")
    return KeySigner(load_private_key(data, _password() if is_encrypted(data) else None, path))


def _public(path: str) -> Any:
    from cloudward.distribute.signing.keys import load_public_key

    return load_public_key(_read(path, "public key"), path)


def _fingerprint(path: str) -> str:
    from cloudward.distribute.signing import fingerprint

    return fingerprint(_public(path))


def _revoked(args: argparse.Namespace) -> Any:
    """``--revoked-key`` flags merged with ``signing.revoked_keys`` of the project's config file."""
    from cloudward.cli.common import load_project_config
    from cloudward.distribute.signing import Revocations
    from cloudward.distribute.signing.signers import revocations_from_config

    try:
        flags = Revocations.of(args.revoked_key)
    except ValueError as e:
        raise InputError(f"--revoked-key: {e}") from None
    revoked = revocations_from_config(load_project_config(args.config, [])).merged(flags)
    args.revocations = revoked  # for the reason shown when verification fails
    return revoked


def _annotations(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"-a {item!r}: write KEY=VALUE")
        out[key] = value
    return out


def _read(path: str, what: str) -> bytes:
    """A file's bytes, or with ``env://NAME`` (as cosign) the value of an environment variable."""
    if path.startswith("env://"):
        name = path.removeprefix("env://")
        value = os.environ.get(name)
        if not value:
            raise InputError(f"environment variable {name!r} is not set or empty; export the {what} PEM in it")
        return value.encode()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} file not found", file=path) from None
    except OSError as e:
        raise InputError(f"cannot read {what} file: {e.strerror}", file=path) from None


def _json_file(path: str, what: str) -> Any:
    try:
        doc = jsonsafe.loads(_read(path, what))
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{what} is not JSON: {e}", file=path) from None
    if not isinstance(doc, dict):
        raise InputError(f"{what} must be a JSON object", file=path)
    return doc


def _report(args: argparse.Namespace, doc: dict[str, Any]) -> int:
    """Print what verified: ``doc`` is an image result (``image`` + ``verified``) or one ``Verified``."""
    if args.output == "json":
        write_output(json.dumps({"verified": True} | doc, indent=2, sort_keys=True), None)
        return 0
    items = doc["verified"] if "image" in doc else [doc]
    lines = [f"Verified OK: {doc.get('image') or doc.get('subject')}"]
    lines += [f"  {v['key']}: " + ", ".join(f"{k}={val}" for k, val in v["claims"].items()) for v in items]
    write_output("\n".join(lines), None)
    return 0


def _verdict(handler: Handler) -> Handler:
    """Turn "not verified" into its documented result: a one-line reason on stderr and exit 1."""
    def run(args: argparse.Namespace) -> int:
        from cloudward.distribute.signing import NotVerifiedError
        from cloudward.distribute.signing.signers import NO_REVOCATIONS

        try:
            return handler(args)
        except NotVerifiedError as e:
            reason = e.reason
            for fp, why in getattr(args, "revocations", NO_REVOCATIONS).reasons:
                if fp in reason:
                    reason += f" [{fp} revoked: {why}]"
            if args.output == "json":
                write_output(json.dumps({"verified": False, "subject": e.subject, "reason": reason}), None)
            print(f"cloudward: NOT VERIFIED: {e.subject}: {reason}", file=sys.stderr)
            return 1
    return run


def _print(text: str) -> int:
    print(text)
    return 0


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2

