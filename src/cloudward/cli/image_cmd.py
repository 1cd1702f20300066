"""``cloudward image``: SBOMs of container images and scans for vulnerabilities, secrets, malware and weak
configuration; ``--attest`` publishes either result as a signed in-toto attestation."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from cloudward.cli.common import severity_set
from cloudward.cli.db_cmd import add_db_flag, add_freshness_flags, check_freshness, db_path
from cloudward.cli.output import use_color, write_output
from cloudward.core.errors import InputError

log = logging.getLogger(__name__)

SBOM_FORMATS = ("cyclonedx-json", "spdx-json", "table")
SCAN_FORMATS = ("table", "json", "sarif", "junit")
IMAGE_HELP = ("oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF|:@N], dir:ROOTFS or "
              "docker://REGISTRY/REPO[:TAG|@DIGEST]; a bare path is recognised by its content")
NO_DB_HINT = ("build it with 'cloudward db update' (or 'cloudward db import FILE...'), or pass --db FILE; "
              "--skip-vulnerabilities scans without them")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("image", help="SBOMs and security scans of container images",
                       description="Read container images without running or extracting them.")
    isub = p.add_subparsers(dest="image_command", metavar="SUBCOMMAND", parser_class=type(p))
    s = isub.add_parser("sbom", help="list the packages in an image as CycloneDX, SPDX or a table",
                        description="Catalog OS packages (dpkg, apk, rpm) and language packages (Python, npm, Go, "
                        "Java, Rust) in an image and write a software bill of materials.")
    s.add_argument("image", metavar="IMAGE", help=IMAGE_HELP)
    s.add_argument("-f", "--format", choices=SBOM_FORMATS, default="table", help="output format (default: table)")
    s.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    _add_attest_flags(s, "the SBOM (CycloneDX; SPDX with --format spdx-json)")
    _add_image_flags(s)
    s.set_defaults(handler=run_sbom)
    c = isub.add_parser("scan", help="scan an image for vulnerabilities, secrets, malware and hardening issues",
                        description="Match the image's packages against the vulnerability database, scan every "
                        "layer for secrets and known malware, and the configuration and filesystem for hardening "
                        "issues; report like 'cloudward scan'.")
    c.add_argument("image", metavar="IMAGE", help=IMAGE_HELP)
    c.add_argument("-f", "--format", choices=SCAN_FORMATS, default="table", help="report format (default: table)")
    c.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    c.add_argument("--fail-on", metavar="SEVERITY", default=None,
                   help="exit 1 when a finding has this severity or higher (default: low)")
    c.add_argument("--config", metavar="FILE", help="policy file with the secrets allow-list (default: the "
                   ".cloudward.yaml in the current directory or above)")
    c.add_argument("--yara-rules", metavar="PATH", action="append", default=[],
                   help="extra YARA rule file or directory (needs: pip install 'cloudward[yara]')")
    c.add_argument("--malware-hashes", metavar="FILE", action="append", default=[],
                   help="extra known-bad SHA-256 list (one hex digest per line, '#' comments)")
    add_db_flag(c)
    c.add_argument("--vex", action="append", metavar="FILE", default=[], help="OpenVEX or CycloneDX VEX document; "
                   "not_affected/fixed statements suppress vulnerabilities (repeatable)")
    c.add_argument("--ignore-unfixed", action="store_true", help="drop vulnerabilities without a fixed version")
    c.add_argument("--severity", metavar="LIST", help="report only vulnerabilities of these severities, e.g. "
                   "high,critical (other findings are not filtered)")
    c.add_argument("--skip-vulnerabilities", action="store_true", help="do not check vulnerabilities (the report "
                   "says so); without it a missing database is an error (exit 2)")
    add_freshness_flags(c)
    _add_attest_flags(c, "the scan result (cosign's vuln predicate)")
    _add_image_flags(c)
    c.set_defaults(handler=run_scan)
    p.set_defaults(handler=lambda _args: _no_subcommand(p))


def _no_subcommand(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def _add_image_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", help="platform to pick from a multi-arch index "
                   "(default: linux/amd64)")
    p.add_argument("--allow-insecure-registry", action="store_true",
                   help="talk plain HTTP to the registry (TLS is on by default)")
    p.add_argument("--registry-timeout", metavar="SECONDS", type=float, default=30.0,
                   help="network timeout for registry requests (default: 30)")


def _add_attest_flags(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--attest", action="store_true", help=f"also push {what} as a signed in-toto attestation "
                   "(.att) to the image's registry; needs --key and a docker:// image")
    p.add_argument("--key", metavar="KEY", help="private key for --attest (cosign or PKCS#8 PEM; password from "
                   "$CLOUDWARD_PASSWORD or a prompt)")


def open_options(args: argparse.Namespace) -> Any:
    from cloudward.distribute.image import OpenOptions, Platform, default_auth_file

    platform = None
    if args.platform:
        try:
            platform = Platform.parse(args.platform)
        except ValueError as e:
            raise InputError(f"--platform: {e}") from None
    auth = default_auth_file(os.environ, Path.home())
    return OpenOptions(platform=platform, allow_insecure_registry=args.allow_insecure_registry,
                       timeout=args.registry_timeout, auth_file=str(auth) if auth else None)


def run_sbom(args: argparse.Namespace) -> int:
    gc.disable()  # a one-shot command whose objects all live until the report is written
    from cloudward.distribute.image import open_image
    from cloudward.distribute.sbom import generate_sbom, render_sbom

    target, signer = _attest_target(args)
    with open_image(args.image, open_options(args)) as image:
        sbom = generate_sbom(image)
    if sbom.distro is None and image.rootfs is None and not sbom.packages:
        print(f"cloudward: warning: image {image.name}: no OS detected and no packages found", file=sys.stderr)
    write_output(render_sbom(sbom, args.format), args.output)
    if target is not None:
        kind = "spdx-json" if args.format == "spdx-json" else "cyclonedx-json"
        predicate = json.loads(render_sbom(sbom, kind))
        _attest(args, target, signer, image.manifest_digest, "spdx" if kind == "spdx-json" else "cyclonedx",
                predicate)
    return 0


def run_scan(args: argparse.Namespace) -> int:
    gc.disable()  # a one-shot command whose objects all live until the report is written
    from cloudward.cli.common import load_project_config
    from cloudward.core.severity import Severity
    from cloudward.distribute.image import open_image
    from cloudward.distribute.imagescan import VulnerabilitiesNotChecked, scan_image, vuln_predicate
    from cloudward.distribute.malware import MalwareAnalyzer, load_hash_list, load_yara_rules
    from cloudward.report import ReportFormat, render_bytes

    try:
        fail_on = Severity.parse(args.fail_on or os.environ.get("CLOUDWARD_FAIL_ON") or "low")
    except ValueError as e:
        raise InputError(f"--fail-on: {e}") from None
    config = load_project_config(args.config, [os.getcwd()])
    malware = MalwareAnalyzer(load_hash_list(args.malware_hashes), load_yara_rules(args.yara_rules))
    target, signer = _attest_target(args)
    with contextlib.ExitStack() as stack:
        vulns, status = _vulnerability_check(args, stack)
        if target is not None and isinstance(vulns, VulnerabilitiesNotChecked):
            raise InputError(f"--attest needs vulnerabilities checked: {vulns.reason}")
        started = dt.datetime.now(dt.UTC)
        with open_image(args.image, open_options(args)) as image:
            result = scan_image(image, config=config, malware=malware, vulnerabilities=vulns)
        finished = dt.datetime.now(dt.UTC)
    report = result.report
    text = render_bytes(report, ReportFormat(args.format), color=args.format == "table" and use_color(args.output))
    write_output(text, args.output)
    if isinstance(vulns, VulnerabilitiesNotChecked) and vulns.error:
        print(f"cloudward: warning: image {image.name}: vulnerabilities were not checked: {vulns.reason} "
              "(exit 2)", file=sys.stderr)
    if target is not None:
        predicate = vuln_predicate(report, started=started, finished=finished, db=status,
                                   parameters=_parameters(args), environ=os.environ)
        _attest(args, target, signer, image.manifest_digest, "vuln", predicate)
    return report.exit_code(fail_on)


def _vulnerability_check(args: argparse.Namespace, stack: contextlib.ExitStack) -> tuple[Any, Any]:
    """The database to match against (opened on ``stack``) or why vulnerabilities are not checked.

    A database named explicitly (``--db``, ``$CLOUDWARD_DB``) must exist; the default
    one missing is reported in the scan's result as an input error (exit 2) after
    the other checks ran, so no pipeline reads "no vulnerabilities" from an
    unchecked image.
    """
    from cloudward.distribute.imagescan import VulnerabilitiesNotChecked, VulnerabilityCheck
    from cloudward.distribute.match import MatchOptions, VexIndex, load_vex
    from cloudward.distribute.vulndb import VulnDB

    if args.skip_vulnerabilities:
        if args.db:
            raise InputError("--db and --skip-vulnerabilities contradict each other; give one")
        return VulnerabilitiesNotChecked("--skip-vulnerabilities was given", error=False), None
    path = db_path(args)
    if not (args.db or os.environ.get("CLOUDWARD_DB")) and not path.exists():
        return VulnerabilitiesNotChecked(f"no vulnerability database at {path}; {NO_DB_HINT}"), None
    db = stack.enter_context(VulnDB(path))
    check_freshness(db.age_info(), args)  # cheap; the full status (counts every row) only for an attestation
    status = db.status() if args.attest else None
    vex = VexIndex()
    for vex_path in args.vex:
        vex = vex.merged(load_vex(vex_path))
    options = MatchOptions(ignore_unfixed=args.ignore_unfixed, severities=severity_set(args.severity))
    return VulnerabilityCheck(db, options, vex), status


def _attest_target(args: argparse.Namespace) -> tuple[Any, Any]:
    """(registry reference, signer) for ``--attest``, else (None, None): checked and the key loaded before the
    scan, so a wrong flag, key or password fails in a second rather than after a long scan."""
    from cloudward.cli.sign_cmd import _signer
    from cloudward.distribute.image import Transport, parse_reference

    if not args.attest:
        if args.key:
            raise InputError("--key is only used with --attest")
        return None, None
    if not args.key:
        raise InputError("--attest needs --key KEY (a private key; see 'cloudward keys generate')")
    parsed = parse_reference(args.image)
    if parsed.transport is not Transport.DOCKER or parsed.registry is None:
        raise InputError(f"--attest: {args.image!r} is not a registry image; attestations are stored in a "
                         "registry (docker://REGISTRY/REPO:TAG)")
    return parsed.registry, _signer(args.key)


def _attest(args: argparse.Namespace, target: Any, signer: Any, digest: str | None, kind: str,
            predicate: Any) -> None:
    """Sign ``predicate`` for exactly the manifest that was read (never a tag re-resolved later) and push it."""
    from cloudward.distribute.image import RegistryClient, default_auth_file
    from cloudward.distribute.signing import attest_image, predicate_type_uri

    if digest is None:
        raise InputError(f"--attest: image {args.image} has no manifest digest to attest")
    client = RegistryClient.for_ref(target, insecure=args.allow_insecure_registry, timeout=args.registry_timeout,
                                    auth_file=default_auth_file(os.environ, Path.home()))
    ptype = predicate_type_uri(kind)
    pushed = attest_image(client, target.with_digest(digest), signer, ptype, predicate)
    print(f"attested {ptype} for {target.registry}/{target.repository}@{pushed.digest}; pushed {pushed.tag}",
          file=sys.stderr)


def _parameters(args: argparse.Namespace) -> list[str]:
    """The scan options recorded in the attestation (what a verifier needs to judge the result)."""
    out = [f"--fail-on={args.fail_on or 'low'}"]
    if args.ignore_unfixed:
        out.append("--ignore-unfixed")
    if args.severity:
        out.append(f"--severity={args.severity}")
    out += [f"--vex={Path(v).name}" for v in args.vex]
    if args.platform:
        out.append(f"--platform={args.platform}")
    return out
