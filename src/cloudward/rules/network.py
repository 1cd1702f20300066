"""Exposure rules for Services and Ingresses: what reaches the cluster from outside, and how.

Every way a Service is published beyond the cluster (node ports, cloud load
balancers, external IPs) and every Ingress host served without TLS widens what
an attacker on the network can reach or read; these rules name each one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from cloudward.core.jsonpath import JsonPath
from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import as_dict, as_list
from cloudward.rules.text import show

SERVICE_DOC = "https://kubernetes.io/docs/concepts/services-networking/service/"
NODEPORT_DOC = SERVICE_DOC + "#type-nodeport"
LOADBALANCER_DOC = SERVICE_DOC + "#loadbalancer"
SOURCE_RANGES_DOC = "https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/"
EXTERNAL_IPS_DOC = SERVICE_DOC + "#external-ips"
CVE_2020_8554 = "https://github.com/kubernetes/kubernetes/issues/97076"
INGRESS_TLS_DOC = "https://kubernetes.io/docs/concepts/services-networking/ingress/#tls"

SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"

#: Annotations that make a cloud load balancer internal (private address), with the value meaning "internal".
#: ``None`` means any value except "false" (the in-tree AWS provider's reading of its annotation).
INTERNAL_LB_ANNOTATIONS: dict[str, str | None] = {
    "networking.gke.io/load-balancer-type": "internal",
    "cloud.google.com/load-balancer-type": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": None,
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "service.beta.kubernetes.io/openstack-internal-load-balancer": "true",
    "service.beta.kubernetes.io/oci-load-balancer-internal": "true",
    "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type": "private",
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet",
}


def _spec(obj: K8sObject) -> dict[str, Any]:
    return as_dict(obj.data.get("spec"))


def _check_node_port(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = _spec(obj)
    if spec.get("type") == "NodePort":
        yield Violation(
            message=f'Service "{obj.name}" has type NodePort, opening its ports on every node',
            path=("spec", "type"),
        )
        return
    for i, port in enumerate(as_list(spec.get("ports"))):
        node_port = as_dict(port).get("nodePort")
        if node_port is not None and node_port != 0:
            number = as_dict(port).get("port")
            yield Violation(
                message=f'Service "{obj.name}" sets nodePort {show(node_port)} on port {show(number)}',
                path=("spec", "ports", i, "nodePort"),
            )


def is_internal_load_balancer(obj: K8sObject) -> bool:
    """True when a cloud-provider annotation asks for a private (VPC-internal) load balancer."""
    annotations = obj.annotations
    for key, wanted in INTERNAL_LB_ANNOTATIONS.items():
        value = annotations.get(key)
        if not isinstance(value, str):
            continue
        value = value.strip().lower()
        if (wanted is None and value not in ("", "false")) or value == wanted:
            return True
    return False


def _is_open_range(text: Any) -> bool:
    """``0.0.0.0/0``, ``::/0`` or any other zero-length prefix: every address."""
    if not isinstance(text, str):
        return False
    try:
        return ipaddress.ip_network(text.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _source_ranges(obj: K8sObject, spec: dict[str, Any]) -> list[tuple[Any, JsonPath]]:
    """The source ranges in force with their paths: the spec field, else the legacy annotation."""
    ranges = as_list(spec.get("loadBalancerSourceRanges"))
    if ranges:
        return [(r, ("spec", "loadBalancerSourceRanges", i)) for i, r in enumerate(ranges)]
    annotation = obj.annotations.get(SOURCE_RANGES_ANNOTATION)
    if isinstance(annotation, str) and annotation.strip():
        path: JsonPath = ("metadata", "annotations", SOURCE_RANGES_ANNOTATION)
        return [(r.strip(), path) for r in annotation.split(",") if r.strip()]
    return []


def _check_load_balancer(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    spec = _spec(obj)
    if spec.get("type") != "LoadBalancer" or is_internal_load_balancer(obj):
        return
    ranges = _source_ranges(obj, spec)
    if not ranges:
        yield Violation(
            message=f'Service "{obj.name}" of type LoadBalancer sets no loadBalancerSourceRanges, '
            "so any address can reach it",
            path=("spec", "type"),
        )
        return
    for value, path in ranges:
        if _is_open_range(value):
            yield Violation(
                message=f'Service "{obj.name}" of type LoadBalancer allows source range {show(value)}: any address',
                path=path,
            )


def _check_external_ips(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    ips = as_list(_spec(obj).get("externalIPs"))
    if ips:
        listed = ", ".join(str(ip) for ip in ips)
        yield Violation(
            message=f'Service "{obj.name}" sets externalIPs {listed}; traffic to these addresses is captured '
            "cluster-wide",
            path=("spec", "externalIPs"),
        )


def _tls_covers(host: str, tls_hosts: set[str]) -> bool:
    """Exact match, or a ``*.example.com`` TLS host covering exactly one more label."""
    if host in tls_hosts:
        return True
    label, dot, parent = host.partition(".")
    return bool(dot) and label != "*" and f"*.{parent}" in tls_hosts


def _check_ingress_tls(obj: K8sObject, ctx: RuleContext) -> Iterator[Violation]:
    raw_spec = obj.data.get("spec")
    spec = as_dict(raw_spec)
    entries = [t for t in as_list(spec.get("tls")) if isinstance(t, dict)]
    if not entries:
        path: JsonPath = ("spec", "tls") if "tls" in spec else ("spec",) if isinstance(raw_spec, dict) else ()
        yield Violation(message=f'Ingress "{obj.name}" has no TLS section, so it serves plain HTTP', path=path)
        return
    tls_hosts: set[str] = set()
    for entry in entries:
        hosts = entry.get("hosts")
        if hosts is None or hosts == []:
            return  # a TLS entry without hosts applies to every host (the controller's default certificate)
        tls_hosts.update(h.lower() for h in as_list(hosts) if isinstance(h, str) and h)
    for i, rule in enumerate(as_list(spec.get("rules"))):
        host = as_dict(rule).get("host")
        if not isinstance(host, str) or not host:
            yield Violation(
                message=f'Ingress "{obj.name}" has a rule without host (any host) that no TLS entry covers',
                path=("spec", "rules", i),
            )
        elif not _tls_covers(host.lower(), tls_hosts):
            yield Violation(
                message=f'Ingress "{obj.name}" serves host {show(host)} without TLS: no tls.hosts entry covers it',
                path=("spec", "rules", i, "host"),
            )


_SERVICE = frozenset({"Service"})
_EXPOSURE = Controls(nsa=("Network separation and hardening",))

RULES: tuple[Rule, ...] = (
    Rule(
        id="service.node-port",
        title="Service is exposed on a node port",
        severity=Severity.LOW,
        target=Target.K8S_OBJECT,
        check=_check_node_port,
        description=(
            "A NodePort opens the Service on every node's addresses, bypassing the Ingress or load balancer that"
            " is meant to front it, and with externalTrafficPolicy: Cluster the client address is rewritten so"
            " NetworkPolicies cannot filter by source. Reported once for type NodePort (at spec.type), and for"
            " every port of another type that sets an explicit nodePort. LoadBalancer services also allocate node"
            " ports unless allocateLoadBalancerNodePorts: false; their exposure is service.load-balancer's."
        ),
        remediation="Use type ClusterIP behind an Ingress or Gateway; if a node port is unavoidable, firewall the "
        "node port range (30000-32767) to known clients.",
        kinds=_SERVICE,
        references=(NODEPORT_DOC,),
        controls=_EXPOSURE,
    ),
    Rule(
        id="service.load-balancer",
        title="LoadBalancer Service is open to any address",
        severity=Severity.MEDIUM,
        target=Target.K8S_OBJECT,
        check=_check_load_balancer,
        description=(
            "A Service of type LoadBalancer gets a cloud load balancer, usually on a public address; without"
            " loadBalancerSourceRanges (or the legacy service.beta.kubernetes.io/load-balancer-source-ranges"
            " annotation, used when the field is empty) anyone on the internet can connect. A range with a zero"
            " prefix (0.0.0.0/0, ::/0) is reported as open. Load balancers made internal by a cloud annotation"
            " (GKE, AWS, Azure, OpenStack, OCI, IBM, Alibaba) are not reported."
        ),
        remediation="Set spec.loadBalancerSourceRanges to the client networks that need access, or make the load "
        "balancer internal with your cloud provider's annotation.",
        kinds=_SERVICE,
        references=(LOADBALANCER_DOC, SOURCE_RANGES_DOC),
        controls=Controls(nsa=("Network separation and hardening",), attack=("T1190",)),
    ),
    Rule(
        id="service.external-ips",
        title="Service sets externalIPs",
        severity=Severity.MEDIUM,
        target=Target.K8S_OBJECT,
        check=_check_external_ips,
        description=(
            "kube-proxy captures traffic to a Service's externalIPs on every node, whatever the address belongs"
            " to; anyone allowed to create or edit Services can thus intercept traffic meant for other workloads"
            " or outside hosts (CVE-2020-8554, unpatchable by design). Reported whenever spec.externalIPs is"
            " non-empty; clusters should also block the field with the DenyServiceExternalIPs admission plugin."
        ),
        remediation="Remove spec.externalIPs; publish the Service through a LoadBalancer or Ingress, and enable the "
        "DenyServiceExternalIPs admission plugin.",
        kinds=_SERVICE,
        references=(EXTERNAL_IPS_DOC, CVE_2020_8554),
        controls=Controls(attack=("T1557",)),
    ),
    Rule(
        id="ingress.no-tls",
        title="Ingress serves hosts without TLS",
        severity=Severity.MEDIUM,
        target=Target.K8S_OBJECT,
        check=_check_ingress_tls,
        description=(
            "Without TLS, credentials, session cookies and data cross the network in clear text and can be read"
            " or altered in transit. Reported once when spec.tls is missing or empty, otherwise once for each rule"
            " host that no spec.tls[].hosts entry covers (exact name, or a *.example.com wildcard covering exactly"
            " one label). A TLS entry without hosts covers every host, as the Ingress API defines; a rule without"
            " a host is reported when every TLS entry lists hosts."
        ),
        remediation="Add a spec.tls entry listing every rule host with the Secret holding its certificate (e.g. "
        "issued by cert-manager).",
        kinds=frozenset({"Ingress"}),
        references=(INGRESS_TLS_DOC,),
        controls=Controls(nsa=("Encryption",), attack=("T1040",)),
    ),
)
