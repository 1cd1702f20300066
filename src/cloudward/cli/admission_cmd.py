"""``cloudward admission``: review AdmissionReviews offline, serve the webhook, print install manifests."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("admission", help="the admission webhook: review, serve, install",
                       description="Enforce the rules of 'cloudward scan' at the Kubernetes API server.")
    asub = p.add_subparsers(dest="admission_command", metavar="SUBCOMMAND", required=True,
                            parser_class=type(p))

    r = asub.add_parser("review", help="judge AdmissionReview requests from stdin, print the responses",
                        description="Read one AdmissionReview (JSON) or JSON lines of many from stdin and print "
                        "one response AdmissionReview per request, in order: the webhook's own code path, offline. "
                        "Exit 0 when all are allowed, 1 when any is denied, 2 on malformed input, 3 when a request "
                        "could not be evaluated.")
    _policy_flags(r)
    r.set_defaults(handler=run_review)

    s = asub.add_parser("serve", help="run the HTTPS webhook server",
                        description="Serve admission.k8s.io/v1 AdmissionReviews on /validate and /mutate over "
                        "HTTPS (TLS 1.2+), with /healthz, /readyz and Prometheus /metrics.")
    _policy_flags(s)
    s.add_argument("--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")  # noqa: S104
    s.add_argument("--port", type=int, default=8443, help="port to listen on (default: 8443; 0 picks a free one)")
    s.add_argument("--tls-cert", required=True, metavar="FILE", help="PEM certificate (chain); reloaded on change")
    s.add_argument("--tls-key", required=True, metavar="FILE", help="PEM private key; reloaded on change")
    s.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    s.add_argument("--shutdown-grace", type=float, default=20.0, metavar="SECONDS",
                   help="on SIGTERM, how long in-flight reviews may take to finish (default: 20)")
    s.add_argument("--reload-interval", type=float, default=5.0, metavar="SECONDS",
                   help="how often to check the TLS files for rotation (default: 5)")
    s.add_argument("--max-body", type=int, default=8 * 1024 * 1024, metavar="BYTES",
                   help="largest request body accepted (default: 8 MiB)")
    s.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="time a client has to send a whole request once it started (default: 10)")
    s.add_argument("--idle-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="close keep-alive connections idle this long (default: 60)")
    s.set_defaults(handler=run_serve)

    i = asub.add_parser("install", help="print the manifests that run the webhook in a cluster",
                        description="Print the namespace, RBAC, Deployment, Service, webhook configurations and a "
                        "freshly minted CA + serving certificate (or cert-manager resources) as YAML.")
    i.add_argument("--print", dest="print_", action="store_true", required=True,
                   help="print the manifests to stdout (pipe them to 'kubectl apply -f -')")
    i.add_argument("--namespace", default="cloudward", help="namespace to run in (default: cloudward)")
    i.add_argument("--image", default="ghcr.io/cloudward/cloudward:0.1.0",
                   help="webhook image; pin it by digest (image@sha256:...) in production")
    i.add_argument("--replicas", type=int, default=2, help="webhook replicas (default: 2)")
    i.add_argument("--workers", type=int, default=2, help="worker processes per replica (default: 2)")
    i.add_argument("--pss-enforce", default="baseline", metavar="LEVEL",
                   help="PSS level enforced in namespaces without labels (default: baseline)")
    i.add_argument("--failure-mode", choices=("closed", "open"), default="closed",
                   help="on internal error or timeout: deny (closed, failurePolicy Fail) or allow (open)")
    i.add_argument("--cert-manager", action="store_true",
                   help="let cert-manager issue the serving certificate instead of minting one now")
    i.add_argument("--verify-policy", metavar="FILE", help="enable the signature gate with this verification "
                   "policy; it and the key files it names are shipped as a ConfigMap")
    i.add_argument("--registry-secret", metavar="NAME", help="an existing kubernetes.io/dockerconfigjson Secret "
                   "(kubectl create secret docker-registry) the gates use to reach private registries")
    i.add_argument("--scan-cache", metavar="pvc:CLAIM|image:REF", help="enable the vulnerability gate with the "
                   "scan cache on an existing PersistentVolumeClaim (read-only; CI fills it), or in an emptyDir "
                   "filled at start from an image holding the reports in /scans")
    i.add_argument("--vulnerability-severity", default="high", metavar="SEVERITY",
                   help="with --scan-cache: deny images with vulnerabilities at or above this (default: high)")
    i.set_defaults(handler=run_install)

    c = asub.add_parser("cache", help="the scan cache read by the vulnerability gate",
                        description="Manage the directory of scan reports keyed by image digest that "
                        "admission.vulnerabilities reads (docs/admission.md).")
    csub = c.add_subparsers(dest="cache_command", metavar="SUBCOMMAND", required=True, parser_class=type(p))
    ca = csub.add_parser("add", help="validate a 'cloudward sbom scan --format json' report and store it",
                         description="Store REPORT in the cache under the image's manifest digest, atomically.")
    ca.add_argument("report", metavar="REPORT", help="JSON report of 'cloudward sbom scan --format json'")
    ca.add_argument("--cache", metavar="DIR", required=True, help="the cache directory (admission.vulnerabilities"
                    ".cache)")
    which = ca.add_mutually_exclusive_group(required=True)
    which.add_argument("--digest", metavar="sha256:HEX", help="the image manifest digest the report is about")
    which.add_argument("--image", metavar="REGISTRY/REPO[:TAG|@DIGEST]", help="resolve the digest in the registry")
    ca.add_argument("--allow-insecure-registry", action="store_true", help="plain HTTP to the registry")
    ca.add_argument("--registry-timeout", metavar="SECONDS", type=float, default=30.0, help="network timeout")
    ca.set_defaults(handler=run_cache_add)


def _policy_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="policy file: a .cloudward.yaml with an optional 'admission' "
                   "section (default: the nearest .cloudward.yaml upward from the current directory)")
    p.add_argument("--pss-enforce", metavar="LEVEL", help="PSS level enforced in namespaces without "
                   "pod-security.kubernetes.io labels: privileged, baseline (default) or restricted")
    p.add_argument("--namespaces", metavar="SOURCE", default=None,
                   help="namespace labels: a 'kubectl get ns -o yaml' dump FILE, 'cluster' (watch the API; default "
                   "for serve) or 'none' (every namespace gets the defaults; default for review)")


def _policy(args: argparse.Namespace) -> Any:
    from cloudward.core.config import find_config
    from cloudward.core.errors import ConfigError
    from cloudward.deploy.policy import GATE_RULE_IDS, default_policy, load_policy
    from cloudward.distribute.image import default_auth_file
    from cloudward.rules import builtin_rules

    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise ConfigError("config file not found; check the --config path", file=args.config)
        policy = load_policy(path, args.pss_enforce)
    else:
        found = find_config(Path.cwd())
        policy = load_policy(found, args.pss_enforce) if found else default_policy(args.pss_enforce)
    registry = builtin_rules()
    known = set(registry.ids()) | GATE_RULE_IDS
    config = policy.config
    for rule_id, where in config.rule_ids():
        if rule_id not in known:
            raise ConfigError(f"unknown rule id {rule_id!r} in {where}; see 'cloudward rules list'",
                              file=config.source, line=config.line_of(rule_id))
    # registry credentials for the gates, as for 'cloudward verify': $REGISTRY_AUTH_FILE or ~/.docker/config.json
    access = dataclasses.replace(policy.registry, auth_file=default_auth_file(os.environ, Path.home()))
    return dataclasses.replace(policy, registry=access)


def _namespaces(args: argparse.Namespace, default: str) -> Any:
    from cloudward.deploy.namespaces import load_namespaces

    source = args.namespaces or default
    if source == "none":
        return None
    if source == "cluster":
        return "cluster"
    return load_namespaces(Path(source))


def run_review(args: argparse.Namespace) -> int:
    from cloudward.core.errors import InputError
    from cloudward.deploy.wire import BadReview, answer
    from cloudward.rules import builtin_rules

    policy = _policy(args)
    namespaces = _namespaces(args, "none")
    if namespaces == "cluster":
        raise InputError("'review' works offline: give --namespaces FILE or none")
    registry = builtin_rules()
    data = sys.stdin.buffer.read()
    docs = _split(data)
    code = 0
    for line, doc in docs:
        try:
            ans = answer(doc, policy, namespaces, registry=registry)
        except BadReview as e:
            print(f"cloudward: error: <stdin>:{line}: {e}", file=sys.stderr)
            code = max(code, 2)
            continue
        sys.stdout.buffer.write(ans.body + b"\n")
        if ans.decision.error is not None:
            code = max(code, 3)
        elif not ans.decision.allowed:
            code = max(code, 1)
    sys.stdout.flush()
    if not docs:
        raise InputError("no AdmissionReview on stdin", file="<stdin>")
    return code


def _split(data: bytes) -> list[tuple[int, bytes]]:
    """One JSON document (possibly pretty-printed), or JSON lines; (line number, text) pairs."""
    import orjson

    if not data.strip():
        return []
    try:
        orjson.loads(data)
        return [(1, data)]
    except orjson.JSONDecodeError:
        pass
    return [(n, line) for n, line in enumerate(data.splitlines(), 1) if line.strip()]


def run_serve(args: argparse.Namespace) -> int:
    from cloudward.core.errors import InputError
    from cloudward.deploy.http import Limits
    from cloudward.deploy.server import ServerSettings, serve

    if args.workers < 1 or args.workers > 64:
        raise InputError(f"--workers must be between 1 and 64, not {args.workers}")
    policy = _policy(args)
    namespaces = _namespaces(args, "cluster")
    if namespaces == "cluster":
        from cloudward.deploy.watch import load_cluster_config

        load_cluster_config()  # fail now, with a clear message, rather than in every worker
    settings = ServerSettings(
        tls_cert=Path(args.tls_cert), tls_key=Path(args.tls_key), host=args.host, port=args.port,
        workers=args.workers, shutdown_grace=args.shutdown_grace, reload_interval=args.reload_interval,
        limits=Limits(max_body=args.max_body, request_timeout=args.request_timeout,
                      idle_timeout=args.idle_timeout))

    def listening(host: str, port: int) -> None:
        print(f"cloudward admission: serving https://{host}:{port} with {args.workers} worker(s)",
              file=sys.stderr, flush=True)

    return serve(settings, policy, namespaces, on_listening=listening)


def run_install(args: argparse.Namespace) -> int:
    from cloudward.core.errors import InputError
    from cloudward.core.severity import Severity
    from cloudward.deploy.install import (
        InstallOptions,
        bundle_verify_policy,
        check_name,
        manifests,
        parse_scan_cache,
        render,
    )
    from cloudward.deploy.model import FailureMode
    from cloudward.deploy.policy import default_policy

    default_policy(args.pss_enforce)  # validates the level with a clear message
    try:
        severity = Severity.parse(args.vulnerability_severity).value
    except ValueError as e:
        raise InputError(f"--vulnerability-severity: {e}") from None
    claim, cache_image = parse_scan_cache(args.scan_cache) if args.scan_cache else (None, None)
    opts = InstallOptions(namespace=args.namespace, image=args.image, replicas=args.replicas, workers=args.workers,
                          failure_mode=FailureMode(args.failure_mode), pss_enforce=args.pss_enforce.lower(),
                          cert_manager=args.cert_manager,
                          verify_files=bundle_verify_policy(Path(args.verify_policy)) if args.verify_policy else (),
                          registry_secret=check_name(args.registry_secret, "--registry-secret")
                          if args.registry_secret else None,
                          scan_cache_claim=claim, scan_cache_image=cache_image, vulnerability_severity=severity)
    sys.stdout.write(render(manifests(opts)))
    sys.stdout.flush()
    return 0


def run_cache_add(args: argparse.Namespace) -> int:
    from cloudward.core.errors import InputError
    from cloudward.deploy.scancache import add_report

    try:
        data = Path(args.report).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the report: {e.strerror}", file=args.report) from None
    digest = args.digest or _resolve(args)
    path = add_report(Path(args.cache), digest, data, args.report)
    print(f"cloudward admission: cached {args.report} for {digest} as {path}", file=sys.stderr)
    return 0


def _resolve(args: argparse.Namespace) -> str:
    from cloudward.core.errors import InputError
    from cloudward.distribute.image import RegistryClient, Transport, default_auth_file, parse_reference

    parsed = parse_reference(args.image if "://" in args.image else "docker://" + args.image)
    if parsed.transport is not Transport.DOCKER or parsed.registry is None:
        raise InputError(f"--image {args.image!r} is not a registry image (REGISTRY/REPO[:TAG])")
    ref = parsed.registry
    client = RegistryClient.for_ref(ref, insecure=args.allow_insecure_registry, timeout=args.registry_timeout,
                                    auth_file=default_auth_file(os.environ, Path.home()))
    return client.resolve(ref.repository, ref.reference).digest
