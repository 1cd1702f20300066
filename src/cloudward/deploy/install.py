"""The manifests that run the webhook in a cluster (``cloudward admission install --print``).

They are written to pass ``cloudward scan`` — Pod Security Standards
``restricted`` and the hardening rules — with no findings: a security tool that
needs exceptions for itself teaches its users to write exceptions. Notable
choices: the service account token is not automounted but projected explicitly
(the namespace watch needs it, nothing else does); the root filesystem is
read-only with an in-memory ``/tmp`` for the metrics of worker processes; two
replicas spread across nodes with a PodDisruptionBudget, because with
``failurePolicy: Fail`` an unavailable webhook blocks the workloads it judges.

Image gates add, on request: the verification policy and the public keys it
names as a ConfigMap (``--verify-policy``), a registry credentials Secret of
type ``kubernetes.io/dockerconfigjson`` mounted as ``$REGISTRY_AUTH_FILE``
(``--registry-secret``), and the scan cache: an existing PersistentVolumeClaim
mounted read-only (CI fills it) or an emptyDir filled at start by an init
container from an image that holds the reports (``--scan-cache``).
"""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from cloudward.core.errors import InputError
from cloudward.deploy.certs import KeyPair, make_ca, make_serving_cert, service_dns_names
from cloudward.deploy.model import FailureMode

NAME = "cloudward-admission"
PORT = 8443
VERIFY_DIR = "/etc/cloudward/verify"
VERIFY_FILE = "verify-policy.yaml"
REGISTRY_AUTH = "/etc/cloudward/registry/config.json"
SCAN_CACHE_DIR = "/var/lib/cloudward/scans"
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

#: Kinds sent to the webhook: those with rules beyond "placed in the default namespace".
#: Secrets and ConfigMaps are not sent: their data would cross the wire for one naming check.
WEBHOOK_RESOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("pods", "pods/ephemeralcontainers", "podtemplates", "replicationcontrollers", "services",
          "serviceaccounts")),
    ("apps", ("deployments", "statefulsets", "daemonsets", "replicasets")),
    ("batch", ("jobs", "cronjobs")),
    ("networking.k8s.io", ("ingresses",)),
    ("rbac.authorization.k8s.io", ("roles", "clusterroles", "rolebindings", "clusterrolebindings")),
)
MUTATE_RESOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("pods",)),
    ("apps", ("deployments", "statefulsets", "daemonsets")),
    ("batch", ("jobs", "cronjobs")),
)


@dataclasses.dataclass(frozen=True, slots=True)
class InstallOptions:
    namespace: str = "cloudward"
    image: str = "ghcr.io/cloudward/cloudward:0.1.0"
    replicas: int = 2
    workers: int = 2
    failure_mode: FailureMode = FailureMode.CLOSED
    pss_enforce: str = "baseline"
    timeout_seconds: int = 5
    cert_manager: bool = False
    #: the verification policy and the key files it names, as (path relative to the policy, content) pairs
    verify_files: tuple[tuple[str, str], ...] = ()
    registry_secret: str | None = None  # an existing kubernetes.io/dockerconfigjson Secret
    scan_cache_claim: str | None = None  # an existing PVC holding the scan cache (mounted read-only)
    scan_cache_image: str | None = None  # or: an image with the reports in /scans, copied into an emptyDir
    vulnerability_severity: str = "high"

    @property
    def scan_cache(self) -> bool:
        return self.scan_cache_claim is not None or self.scan_cache_image is not None


def parse_scan_cache(value: str) -> tuple[str | None, str | None]:
    """``pvc:CLAIM`` or ``image:REF`` (``--scan-cache``) → (claim, image)."""
    kind, _, rest = value.partition(":")
    if kind == "pvc" and _K8S_NAME.match(rest):
        return rest, None
    if kind == "image" and rest.strip():
        return None, rest.strip()
    raise InputError(f"--scan-cache {value!r}: use pvc:CLAIM-NAME (an existing PersistentVolumeClaim) or "
                     "image:REF (an image holding the reports in /scans)")


def check_name(value: str, flag: str) -> str:
    if not _K8S_NAME.match(value):
        raise InputError(f"{flag} {value!r} is not a Kubernetes object name (lowercase letters, digits, '-', '.')")
    return value


def bundle_verify_policy(path: Path) -> tuple[tuple[str, str], ...]:
    """The policy file and every key file it names, validated, for the ConfigMap (paths relative to the policy)."""
    from cloudward.distribute.signing.keys import PublicKey, read_public_key
    from cloudward.distribute.signing.policy import load_policy

    named: list[Path] = []

    def loader(key: Path) -> PublicKey:
        named.append(key)
        return read_public_key(key)

    load_policy(path, key_loader=loader)  # the errors 'cloudward verify --policy' gives, with file and field
    base = path.parent.resolve()
    files = [(VERIFY_FILE, path.read_text(encoding="utf-8"))]
    for key in dict.fromkeys(named):
        resolved = key.resolve()
        if not resolved.is_relative_to(base):
            raise InputError(f"key file {key} is outside the policy's directory {base}; the ConfigMap can only "
                             "hold files next to or below the policy", file=str(path))
        files.append((resolved.relative_to(base).as_posix(), key.read_text(encoding="utf-8")))
    return tuple(files)


def manifests(opts: InstallOptions, ca: KeyPair | None = None, serving: KeyPair | None = None) -> list[dict[str, Any]]:
    """Every object to apply, in apply order. Certificates are minted unless cert-manager issues them."""
    ns = opts.namespace
    labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "cloudward"}
    objs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": ns, "labels": {"pod-security.kubernetes.io/enforce": "restricted",
                                             "pod-security.kubernetes.io/enforce-version": "latest"}}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _md(NAME, ns, labels),
         "automountServiceAccountToken": False},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": _md(NAME, None, labels),
         "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": _md(NAME, None, labels),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
         "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": ns}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _md(f"{NAME}-policy", ns, labels),
         "data": {".cloudward.yaml": policy_text(opts)}},
    ]
    if opts.verify_files:
        objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _md(f"{NAME}-verify", ns, labels),
                     "data": {_cm_key(i, rel): text for i, (rel, text) in enumerate(opts.verify_files)}})
    ca_bundle: str | None = None
    if opts.cert_manager:
        objs += _cert_manager(ns, labels)
    else:
        ca = ca or make_ca()
        serving = serving or make_serving_cert(ca, service_dns_names(NAME, ns))
        ca_bundle = base64.b64encode(ca.cert_pem).decode()
        objs.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                     "metadata": _md(f"{NAME}-tls", ns, labels),
                     "data": {"tls.crt": base64.b64encode(serving.cert_pem).decode(),
                              "tls.key": base64.b64encode(serving.key_pem).decode(), "ca.crt": ca_bundle}})
    objs += _namespace_limits(opts, labels)
    objs += [_deployment(opts, labels), _pdb(ns, labels), _service(ns, labels), _network_policy(ns, labels)]
    objs += _webhooks(opts, labels, ca_bundle)
    return objs


def render(objs: list[dict[str, Any]]) -> str:
    return yaml.dump_all(objs, Dumper=yaml.CSafeDumper, sort_keys=False, explicit_start=True,
                         default_flow_style=False)


def policy_text(opts: InstallOptions) -> str:
    return (
        "# cloudward admission policy (shared format with .cloudward.yaml); see docs/admission.md\n"
        "admission:\n"
        f"  failure_mode: {opts.failure_mode.value}\n"
        "  pss:\n"
        f"    enforce: {opts.pss_enforce}\n"
        "  rules:\n"
        "    default: warn\n"
        + (f"  signatures:\n    policy: {VERIFY_DIR}/{VERIFY_FILE}\n" if opts.verify_files else "")
        + (f"  vulnerabilities:\n    cache: {SCAN_CACHE_DIR}\n    severity: {opts.vulnerability_severity}\n"
           "    missing: warn\n" if opts.scan_cache else "")
    )


def _cm_key(index: int, rel: str) -> str:
    """A ConfigMap key for a file (keys allow no '/'); the volume's items put it back at ``rel``."""
    return VERIFY_FILE if index == 0 else f"key-{index}-" + re.sub(r"[^-._a-zA-Z0-9]", "_", rel)


def _gate_mounts(opts: InstallOptions, container: dict[str, Any], spec: dict[str, Any]) -> None:
    """The verification policy, registry credentials and scan cache, for the gates that use them."""
    mounts, volumes = container["volumeMounts"], spec["volumes"]
    if opts.verify_files:
        items = [{"key": _cm_key(i, rel), "path": rel} for i, (rel, _) in enumerate(opts.verify_files)]
        volumes.append({"name": "verify-policy", "configMap": {"name": f"{NAME}-verify", "items": items}})
        mounts.append({"name": "verify-policy", "mountPath": VERIFY_DIR, "readOnly": True})
    if opts.registry_secret:
        volumes.append({"name": "registry-auth", "secret": {
            "secretName": opts.registry_secret, "defaultMode": 0o440,
            "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}})
        mounts.append({"name": "registry-auth", "mountPath": REGISTRY_AUTH.rsplit("/", 1)[0], "readOnly": True})
        container["env"].append({"name": "REGISTRY_AUTH_FILE", "value": REGISTRY_AUTH})
    if opts.scan_cache_claim:
        volumes.append({"name": "scan-cache", "persistentVolumeClaim": {"claimName": opts.scan_cache_claim,
                                                                        "readOnly": True}})
        mounts.append({"name": "scan-cache", "mountPath": SCAN_CACHE_DIR, "readOnly": True})
    elif opts.scan_cache_image:
        volumes.append({"name": "scan-cache", "emptyDir": {"sizeLimit": "1Gi"}})
        mounts.append({"name": "scan-cache", "mountPath": SCAN_CACHE_DIR, "readOnly": True})
        spec["initContainers"] = [{
            "name": "scan-cache-fill", "image": opts.scan_cache_image, "imagePullPolicy": "Always",
            "command": ["cp", "-R", "/scans/.", SCAN_CACHE_DIR + "/"],
            "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}},
            "securityContext": dict(container["securityContext"]),
            "volumeMounts": [{"name": "scan-cache", "mountPath": SCAN_CACHE_DIR}]}]


def _md(name: str, ns: str | None, labels: dict[str, str]) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name}
    if ns is not None:
        md["namespace"] = ns
    md["labels"] = dict(labels)
    return md


def _webhook_resources(opts: InstallOptions) -> dict[str, dict[str, str]]:
    return {"requests": {"cpu": "250m", "memory": "192Mi"},
            "limits": {"cpu": "1", "memory": f"{160 * opts.workers + 64}Mi"}}


def _namespace_limits(opts: InstallOptions, labels: dict[str, str]) -> list[dict[str, Any]]:
    """A LimitRange and a ResourceQuota for the namespace that only the webhook runs in.

    The quota admits twice what a rolling update needs (replicas plus the surge pod), so a
    ``kubectl scale`` or a stuck rollout is never starved by it, while a runaway workload in the
    namespace still is; the LimitRange gives anything else (a debug pod) small defaults and caps
    every container at the webhook's own limits. The scan-cache init container asks for less than
    the webhook, so it fits both.
    """
    ns, res = opts.namespace, _webhook_resources(opts)
    pods = 2 * (opts.replicas + 1)
    limit_memory = int(res["limits"]["memory"].removesuffix("Mi"))
    return [
        {"apiVersion": "v1", "kind": "LimitRange", "metadata": _md(NAME, ns, labels),
         "spec": {"limits": [{"type": "Container", "max": dict(res["limits"]),
                              "default": {"cpu": "100m", "memory": "64Mi"},
                              "defaultRequest": {"cpu": "50m", "memory": "32Mi"}}]}},
        {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _md(NAME, ns, labels),
         "spec": {"hard": {"pods": str(pods), "requests.cpu": f"{250 * pods}m",
                           "requests.memory": f"{192 * pods}Mi", "limits.cpu": str(pods),
                           "limits.memory": f"{limit_memory * pods}Mi", "services.loadbalancers": "0",
                           "services.nodeports": "0"}}},
    ]


def _deployment(opts: InstallOptions, labels: dict[str, str]) -> dict[str, Any]:
    probe: dict[str, Any] = {"httpGet": {"path": "/healthz", "port": "https", "scheme": "HTTPS"}, "periodSeconds": 10,
             "timeoutSeconds": 2, "failureThreshold": 3}
    ready = {**probe, "httpGet": {**probe["httpGet"], "path": "/readyz"}, "periodSeconds": 5}
    token = {"name": "api-token", "projected": {"defaultMode": 0o444, "sources": [
        {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}
    container = {
        "name": "webhook", "image": opts.image, "imagePullPolicy": "Always",
        "args": ["admission", "serve", "--config", "/etc/cloudward/.cloudward.yaml", "--port", str(PORT),
                 "--tls-cert", "/etc/cloudward/tls/tls.crt", "--tls-key", "/etc/cloudward/tls/tls.key",
                 "--workers", str(opts.workers)],
        "ports": [{"name": "https", "containerPort": PORT, "protocol": "TCP"}],
        "env": [{"name": "TMPDIR", "value": "/tmp"}],  # noqa: S108 — an in-memory emptyDir of this pod
        "resources": _webhook_resources(opts),
        "livenessProbe": probe, "readinessProbe": ready,
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumeMounts": [
            {"name": "tls", "mountPath": "/etc/cloudward/tls", "readOnly": True},
            {"name": "policy", "mountPath": "/etc/cloudward/.cloudward.yaml", "subPath": ".cloudward.yaml",
             "readOnly": True},
            {"name": "api-token", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 — the pod's own emptyDir
    }
    pod_labels = dict(labels)
    spec = {
        "serviceAccountName": NAME, "automountServiceAccountToken": False,
        # fsGroup: Secret, ConfigMap and projected files (mode 0440/0444) belong to this group, so the
        # non-root user can read them; without it they are root:root.
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                               "labelSelector": {"matchLabels": {"app.kubernetes.io/name": NAME}}}}]}},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": {"app.kubernetes.io/name": NAME}}}],
        "terminationGracePeriodSeconds": 30,
        "volumes": [
            {"name": "tls", "secret": {"secretName": f"{NAME}-tls", "defaultMode": 0o440}},
            {"name": "policy", "configMap": {"name": f"{NAME}-policy"}},
            token,
            {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}],
    }
    _gate_mounts(opts, container, spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _md(NAME, opts.namespace, labels),
            "spec": {"replicas": opts.replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                     "template": {"metadata": {"labels": pod_labels}, "spec": spec}}}


def _pdb(ns: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _md(NAME, ns, labels),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}}}}


def _service(ns: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _md(NAME, ns, labels),
            "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": NAME},
                     "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}}


def _network_policy(ns: str, labels: dict[str, str]) -> dict[str, Any]:
    """Ingress only on the webhook port (the API server's address is not known here); egress to DNS and the API."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _md(NAME, ns, labels),
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
                     "policyTypes": ["Ingress", "Egress"],
                     "ingress": [{"ports": [{"port": PORT, "protocol": "TCP"}]}],
                     "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"},
                                           {"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}]}}


def _webhooks(opts: InstallOptions, labels: dict[str, str], ca_bundle: str | None) -> list[dict[str, Any]]:
    ns = opts.namespace
    selector = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                      "values": ["kube-system", ns]}]}
    annotations = {"cert-manager.io/inject-ca-from": f"{ns}/{NAME}-serving"} if opts.cert_manager else None

    def hook(name: str, path: str, resources: tuple[tuple[str, tuple[str, ...]], ...],
             failure: str) -> dict[str, Any]:
        client: dict[str, Any] = {"service": {"name": NAME, "namespace": ns, "path": path, "port": 443}}
        if ca_bundle is not None:
            client["caBundle"] = ca_bundle
        return {"name": name, "admissionReviewVersions": ["v1"], "clientConfig": client,
                "rules": [{"apiGroups": [group], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                           "resources": list(res), "scope": "*"} for group, res in resources],
                "failurePolicy": failure, "matchPolicy": "Equivalent", "sideEffects": "None",
                "timeoutSeconds": opts.timeout_seconds, "namespaceSelector": selector}

    failure = "Fail" if opts.failure_mode is FailureMode.CLOSED else "Ignore"
    md_v = _md(f"{NAME}", None, labels)
    md_m = _md(f"{NAME}", None, labels)
    if annotations:
        md_v["annotations"] = dict(annotations)
        md_m["annotations"] = dict(annotations)
    mutate = hook("mutate.admission.cloudward.io", "/mutate", MUTATE_RESOURCES, "Ignore")
    mutate["reinvocationPolicy"] = "Never"
    return [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
         "metadata": md_v, "webhooks": [hook("validate.admission.cloudward.io", "/validate", WEBHOOK_RESOURCES,
                                             failure)]},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": md_m, "webhooks": [mutate]},
    ]


def _cert_manager(ns: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    """A self-signed issuer → CA certificate → CA issuer → serving certificate, all in our namespace."""
    api = "cert-manager.io/v1"
    return [
        {"apiVersion": api, "kind": "Issuer", "metadata": _md(f"{NAME}-selfsigned", ns, labels),
         "spec": {"selfSigned": {}}},
        {"apiVersion": api, "kind": "Certificate", "metadata": _md(f"{NAME}-ca", ns, labels),
         "spec": {"isCA": True, "commonName": "cloudward admission CA", "secretName": f"{NAME}-ca",
                  "privateKey": {"algorithm": "ECDSA", "size": 256},
                  "issuerRef": {"name": f"{NAME}-selfsigned", "kind": "Issuer"}}},
        {"apiVersion": api, "kind": "Issuer", "metadata": _md(f"{NAME}-ca", ns, labels),
         "spec": {"ca": {"secretName": f"{NAME}-ca"}}},
        {"apiVersion": api, "kind": "Certificate", "metadata": _md(f"{NAME}-serving", ns, labels),
         "spec": {"secretName": f"{NAME}-tls", "dnsNames": service_dns_names(NAME, ns),
                  "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                  "usages": ["server auth", "digital signature"],
                  "issuerRef": {"name": f"{NAME}-ca", "kind": "Issuer"}}},
    ]
