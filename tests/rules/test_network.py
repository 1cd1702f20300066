"""Service and Ingress exposure rules.

Expectations follow the Service and Ingress API reference: node ports exist for
NodePort (and LoadBalancer) Services, loadBalancerSourceRanges restrict clients,
and an Ingress TLS entry covers the hosts it lists (all hosts when it lists none).
"""

from __future__ import annotations

import textwrap

import pytest
import yaml

from cloudward.core.jsonpath import JsonPath
from cloudward.core.rules import RuleContext
from cloudward.k8s.object import K8sObject
from cloudward.rules.network import RULES

BY_ID = {r.id: r for r in RULES}


def obj(text: str) -> K8sObject:
    data = yaml.safe_load(textwrap.dedent(text))
    assert isinstance(data, dict)
    return K8sObject(data=data, file="t.yaml")


def found(rule_id: str, o: K8sObject) -> list[JsonPath]:
    violations = list(BY_ID[rule_id].check(o, RuleContext()))
    assert all(v.container is None for v in violations)
    return [v.path for v in violations]


def messages(rule_id: str, o: K8sObject) -> list[str]:
    return [v.message for v in BY_ID[rule_id].check(o, RuleContext())]


def test_kinds() -> None:
    for rule_id in ("service.node-port", "service.load-balancer", "service.external-ips"):
        assert BY_ID[rule_id].kinds == {"Service"}
    assert BY_ID["ingress.no-tls"].kinds == {"Ingress"}


# --- service.node-port -------------------------------------------------------------------------------------------


def test_node_port_type_reported_once_at_type() -> None:
    o = obj(
        """
        kind: Service
        metadata: {name: web}
        spec:
          type: NodePort
          ports: [{port: 80, nodePort: 30080}, {port: 443}]
        """
    )
    assert found("service.node-port", o) == [("spec", "type")]
    assert messages("service.node-port", o) == ['Service "web" has type NodePort, opening its ports on every node']


def test_explicit_node_port_on_other_types_reported_per_port() -> None:
    o = obj(
        """
        kind: Service
        metadata: {name: lb}
        spec:
          type: LoadBalancer
          ports: [{port: 80}, {port: 443, nodePort: 30443}, {port: 8080, nodePort: 0}]
        """
    )
    assert found("service.node-port", o) == [("spec", "ports", 1, "nodePort")]
    assert messages("service.node-port", o) == ['Service "lb" sets nodePort 30443 on port 443']


@pytest.mark.parametrize("svc_type", ["ClusterIP", "LoadBalancer", "ExternalName", None])
def test_node_port_absent_passes(svc_type: str | None) -> None:
    spec: dict[str, object] = {"ports": [{"port": 80, "targetPort": 8080}]}
    if svc_type:
        spec["type"] = svc_type
    o = K8sObject(data={"kind": "Service", "metadata": {"name": "s"}, "spec": spec}, file="t.yaml")
    assert found("service.node-port", o) == []


# --- service.load-balancer ---------------------------------------------------------------------------------------


def lb(extra_spec: str = "", annotations: str = "{}") -> K8sObject:
    return obj(
        f"""
        kind: Service
        metadata: {{name: lb, annotations: {annotations}}}
        spec: {{type: LoadBalancer, ports: [{{port: 443}}] {extra_spec}}}
        """
    )


def test_load_balancer_without_source_ranges() -> None:
    assert found("service.load-balancer", lb()) == [("spec", "type")]
    assert found("service.load-balancer", lb(", loadBalancerSourceRanges: []")) == [("spec", "type")]


def test_load_balancer_with_restricted_ranges_passes() -> None:
    assert found("service.load-balancer", lb(", loadBalancerSourceRanges: [10.0.0.0/8, 2001:db8::/32]")) == []
    assert found("service.load-balancer", lb(", loadBalancerSourceRanges: [0.0.0.0/1]")) == []


def test_load_balancer_open_ranges_reported_per_entry() -> None:
    o = lb(", loadBalancerSourceRanges: [10.0.0.0/8, 0.0.0.0/0, '::/0', not-a-cidr]")
    assert found("service.load-balancer", o) == [
        ("spec", "loadBalancerSourceRanges", 1),
        ("spec", "loadBalancerSourceRanges", 2),
    ]


def test_load_balancer_legacy_annotation_ranges() -> None:
    key = "service.beta.kubernetes.io/load-balancer-source-ranges"
    assert found("service.load-balancer", lb(annotations=f'{{"{key}": "10.0.0.0/8, 192.168.0.0/16"}}')) == []
    open_ = lb(annotations=f'{{"{key}": "10.0.0.0/8,0.0.0.0/0"}}')
    assert found("service.load-balancer", open_) == [("metadata", "annotations", key)]
    # the spec field wins over the annotation
    both = lb(", loadBalancerSourceRanges: [10.0.0.0/8]", annotations=f'{{"{key}": "0.0.0.0/0"}}')
    assert found("service.load-balancer", both) == []


@pytest.mark.parametrize(
    "annotations",
    [
        '{"networking.gke.io/load-balancer-type": "Internal"}',
        '{"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}',
        '{"service.beta.kubernetes.io/aws-load-balancer-internal": "0.0.0.0/0"}',
        '{"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}',
        '{"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}',
    ],
)
def test_internal_load_balancers_pass(annotations: str) -> None:
    assert found("service.load-balancer", lb(annotations=annotations)) == []


@pytest.mark.parametrize(
    "annotations",
    [
        '{"service.beta.kubernetes.io/aws-load-balancer-internal": "false"}',
        '{"service.beta.kubernetes.io/azure-load-balancer-internal": "false"}',
        '{"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}',
    ],
)
def test_explicitly_public_load_balancers_are_reported(annotations: str) -> None:
    assert found("service.load-balancer", lb(annotations=annotations)) == [("spec", "type")]


def test_non_load_balancer_services_pass() -> None:
    o = obj("{kind: Service, metadata: {name: s}, spec: {type: ClusterIP}}")
    assert found("service.load-balancer", o) == []


# --- service.external-ips ----------------------------------------------------------------------------------------


def test_external_ips_reported_once_with_addresses() -> None:
    o = obj("{kind: Service, metadata: {name: s}, spec: {externalIPs: [203.0.113.7, 198.51.100.1]}}")
    assert found("service.external-ips", o) == [("spec", "externalIPs")]
    assert "203.0.113.7, 198.51.100.1" in messages("service.external-ips", o)[0]


@pytest.mark.parametrize("spec", ["{externalIPs: []}", "{}", "{externalIPs: 1.2.3.4}", "nope"])
def test_external_ips_absent_empty_or_malformed_passes(spec: str) -> None:
    assert found("service.external-ips", obj(f"{{kind: Service, metadata: {{name: s}}, spec: {spec}}}")) == []


# --- ingress.no-tls ----------------------------------------------------------------------------------------------


def ingress(spec: str) -> K8sObject:
    return obj(f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: ing}}\nspec: {spec}\n")


def test_ingress_without_tls_reported_at_spec() -> None:
    o = ingress("{rules: [{host: a.example.com}]}")
    assert found("ingress.no-tls", o) == [("spec",)]
    assert messages("ingress.no-tls", o) == ['Ingress "ing" has no TLS section, so it serves plain HTTP']


def test_ingress_with_empty_tls_reported_at_tls() -> None:
    assert found("ingress.no-tls", ingress("{tls: [], rules: [{host: a.example.com}]}")) == [("spec", "tls")]


def test_ingress_without_spec_reported_at_root() -> None:
    assert found("ingress.no-tls", obj("{kind: Ingress, metadata: {name: x}}")) == [()]


def test_ingress_uncovered_hosts_reported_each() -> None:
    o = ingress(
        """
        tls:
        - hosts: [a.example.com, "*.apps.example.com"]
          secretName: certs
        rules:
        - host: a.example.com
        - host: b.example.com
        - host: x.apps.example.com
        - host: deep.x.apps.example.com
        - host: A.EXAMPLE.COM
        - host: "*.apps.example.com"
        """.replace("\n", "\n  ")
    )
    assert found("ingress.no-tls", o) == [("spec", "rules", 1, "host"), ("spec", "rules", 3, "host")]
    assert messages("ingress.no-tls", o)[0] == (
        'Ingress "ing" serves host "b.example.com" without TLS: no tls.hosts entry covers it'
    )


def test_ingress_wildcard_does_not_cover_its_apex() -> None:
    o = ingress("{tls: [{hosts: ['*.example.com']}], rules: [{host: example.com}]}")
    assert found("ingress.no-tls", o) == [("spec", "rules", 0, "host")]


def test_ingress_tls_entry_without_hosts_covers_everything() -> None:
    o = ingress("{tls: [{secretName: default-cert}], rules: [{host: a.example.com}, {http: {paths: []}}]}")
    assert found("ingress.no-tls", o) == []


def test_ingress_malformed_tls_hosts_cover_nothing() -> None:
    o = ingress("{tls: [{hosts: a.example.com}], rules: [{host: a.example.com}]}")
    assert found("ingress.no-tls", o) == [("spec", "rules", 0, "host")]


def test_ingress_rule_without_host_reported_when_tls_lists_hosts() -> None:
    o = ingress("{tls: [{hosts: [a.example.com]}], rules: [{host: a.example.com}, {http: {paths: []}}]}")
    assert found("ingress.no-tls", o) == [("spec", "rules", 1)]


@pytest.mark.parametrize(
    "text",
    [
        "{kind: Service, metadata: {name: s, annotations: [x]}, spec: {type: LoadBalancer, ports: {a: 1}}}",
        "{kind: Service, spec: {type: LoadBalancer, loadBalancerSourceRanges: [null, 7, {a: b}]}}",
        "{kind: Service, spec: {ports: [null, 3, {nodePort: [1]}], externalIPs: {a: b}}}",
        "{kind: Ingress, spec: {tls: [null, {hosts: x}], rules: [null, {host: 5}, 'x']}}",
        "{kind: Ingress, spec: {tls: {hosts: [a]}, rules: {host: a}}}",
    ],
)
def test_wrongly_shaped_objects_never_crash(text: str) -> None:
    o = obj(text)
    for rule in RULES:
        if o.kind in rule.kinds:
            for v in rule.check(o, RuleContext()):
                assert v.message
