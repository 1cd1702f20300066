"""``cloudward image``: SBOMs of container images and scans for secrets, malware and weak configuration."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from cloudward.cli.output import use_color, write_output
from cloudward.core.errors import InputError

log = logging.getLogger(__name__)

SBOM_FORMATS = ("cyclonedx-json", "spdx-json", "table")
SCAN_FORMATS = ("table", "json", "sarif", "junit")
IMAGE_HELP = ("oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE, dir:ROOTFS or "
              "docker://REGISTRY/REPO[:TAG|@DIGEST]; a bare path is recognised by its content")


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
    _add_image_flags(s)
    s.set_defaults(handler=run_sbom)
    c = isub.add_parser("scan", help="scan an image for secrets, malware and hardening issues",
                        description="Scan every layer for secrets and known malware, and the configuration and "
                        "filesystem for hardening issues; report like 'cloudward scan'.")
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
    from cloudward.distribute.image import open_image
    from cloudward.distribute.sbom import generate_sbom, render_sbom

    with open_image(args.image, open_options(args)) as image:
        sbom = generate_sbom(image)
    if sbom.distro is None and image.rootfs is None and not sbom.packages:
        print(f"cloudward: warning: image {image.name}: no OS detected and no packages found", file=sys.stderr)
    write_output(render_sbom(sbom, args.format), args.output)
    return 0


def run_scan(args: argparse.Namespace) -> int:
    from cloudward.cli.common import load_project_config
    from cloudward.core.severity import Severity
    from cloudward.distribute.image import open_image
    from cloudward.distribute.imagescan import scan_image
    from cloudward.distribute.malware import MalwareAnalyzer, load_hash_list, load_yara_rules
    from cloudward.report import ReportFormat, render

    try:
        fail_on = Severity.parse(args.fail_on or os.environ.get("CLOUDWARD_FAIL_ON") or "low")
    except ValueError as e:
        raise InputError(f"--fail-on: {e}") from None
    config = load_project_config(args.config, [os.getcwd()])
    malware = MalwareAnalyzer(load_hash_list(args.malware_hashes), load_yara_rules(args.yara_rules))
    with open_image(args.image, open_options(args)) as image:
        result = scan_image(image, config=config, malware=malware)
    report = result.report
    text = render(report, ReportFormat(args.format), color=args.format == "table" and use_color(args.output))
    write_output(text, args.output)
    return report.exit_code(fail_on)
