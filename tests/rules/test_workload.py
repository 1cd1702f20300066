"""Workload hardening rules: resources, probes, read-only root fs, SA tokens, secret env, default namespace.

Expected paths come from the Kubernetes API field layout and the rules' documented
semantics, worked out by hand for each manifest.
"""

from __future__ import annotations

import textwrap

import pytest
import yaml

from cloudward.core.jsonpath import JsonPath
from cloudward.core.rules import RuleContext
from cloudward.k8s.object import K8sObject
from cloudward.rules.workload import RULES

BY_ID = {r.id: r for r in RULES}


def obj(text: str) -> K8sObject:
    data = yaml.safe_load(textwrap.dedent(text))
    assert isinstance(data, dict)
    return K8sObject(data=data, file="t.yaml")


def found(rule_id: str, o: K8sObject) -> list[tuple[JsonPath, str | None]]:
    return [(v.path, v.container) for v in BY_ID[rule_id].check(o, RuleContext())]


def messages(rule_id: str, o: K8sObject) -> list[str]:
    return [v.message for v in BY_ID[rule_id].check(o, RuleContext())]


def test_rule_ids_are_unique_and_all_present() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for wanted in (
        "pod.resources-limits",
        "pod.resources-requests",
        "pod.liveness-probe",
        "pod.readiness-probe",
        "pod.image-tag-latest",
        "pod.image-digest",
        "pod.image-pull-policy",
        "pod.read-only-root-fs",
        "pod.automount-sa-token",
        "pod.secret-env",
        "k8s.default-namespace",
        "pod.sensitive-host-path",
        "pod.runtime-socket-mount",
        "pod.low-gid",
        "pod.root-group",
        "pod.privileged-port",
    ):
        assert wanted in BY_ID


# --- resources ---------------------------------------------------------------------------------------------------

DEPLOY_RESOURCES = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
        resources:
          limits: {cpu: 100m, memory: 64Mi}
      containers:
      - name: full
        image: app:1
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: 200m, memory: 128Mi}
      - name: bare
        image: app:1
      - name: onlycpu
        image: app:1
        resources:
          limits: {cpu: "1"}
      - name: zeromem
        image: app:1
        resources:
          requests: {cpu: 10m, memory: "0"}
          limits: {cpu: 1, memory: 0Mi}
      ephemeralContainers:
      - name: debug
        image: busybox:1.36
"""


def test_limits_reported_per_container_at_nearest_place() -> None:
    o = obj(DEPLOY_RESOURCES)
    base = ("spec", "template", "spec", "containers")
    assert found("pod.resources-limits", o) == [
        ((*base, 1), "bare"),
        ((*base, 2, "resources", "limits"), "onlycpu"),
        ((*base, 3, "resources", "limits", "memory"), "zeromem"),
    ]


def test_limits_message_names_what_is_missing() -> None:
    msgs = messages("pod.resources-limits", obj(DEPLOY_RESOURCES))
    assert "no CPU limit (resources.limits.cpu)" in msgs[0] and "no memory limit" in msgs[0]
    assert msgs[1] == 'container "onlycpu" has no memory limit (resources.limits.memory)'
    assert "zero memory limit" in msgs[2]


def test_requests_default_to_limits_and_zero_is_reported() -> None:
    o = obj(DEPLOY_RESOURCES)
    base = ("spec", "template", "spec", "containers")
    # init: limits only -> requests default to limits; onlycpu: cpu defaults from limit, memory missing.
    assert found("pod.resources-requests", o) == [
        ((*base, 1), "bare"),
        ((*base, 2, "resources"), "onlycpu"),
        ((*base, 3, "resources", "requests", "memory"), "zeromem"),
    ]
    assert messages("pod.resources-requests", o)[1] == (
        'container "onlycpu" has no memory request (resources.requests.memory)'
    )


def test_pod_level_resources_satisfy_container_limits() -> None:
    o = obj(
        """
        kind: Pod
        metadata: {name: p}
        spec:
          resources:
            limits: {cpu: "2", memory: 1Gi}
          containers:
          - {name: a, image: app:1}
        """
    )
    assert found("pod.resources-limits", o) == []
    assert found("pod.resources-requests", o) == []


def test_pod_level_cpu_only_leaves_memory_reported() -> None:
    o = obj(
        """
        kind: Pod
        metadata: {name: p}
        spec:
          resources: {limits: {cpu: "2"}}
          containers:
          - {name: a, image: app:1}
        """
    )
    assert messages("pod.resources-limits", o) == ['container "a" has no memory limit (resources.limits.memory)']


def test_resources_wrong_types_do_not_crash() -> None:
    o = obj(
        """
        kind: Pod
        metadata: {name: p}
        spec:
          resources: oops
          containers:
          - {name: a, resources: [1, 2]}
          - {name: b, resources: {limits: "lots"}}
          - "not a container"
        """
    )
    # The wrongly-typed field is the nearest existing place to fix.
    assert found("pod.resources-limits", o) == [
        (("spec", "containers", 0, "resources"), "a"),
        (("spec", "containers", 1, "resources", "limits"), "b"),
    ]


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("500m", None),
        ("1.5", None),
        (0.5, None),
        ("128Mi", None),
        ("1e3", None),
        ("1E", None),
        ("+1G", None),
        ("0", "zero"),
        (0, "zero"),
        ("0.0Gi", "zero"),
        ("lots", "invalid"),
        ("-1", "invalid"),
        (-1, "invalid"),
        ("12MB", "invalid"),
        (True, "invalid"),
        ({"cpu": 1}, "invalid"),
    ],
)
def test_limit_quantity_forms(value: object, state: str | None) -> None:
    o = K8sObject(
        data={
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": value, "memory": "1Gi"}}}]},
        },
        file="t.yaml",
    )
    got = list(BY_ID["pod.resources-limits"].check(o, RuleContext()))
    if state is None:
        assert got == []
    else:
        assert [v.path for v in got] == [("spec", "containers", 0, "resources", "limits", "cpu")]
        assert got[0].message.startswith(f'container "a" has {"a zero" if state == "zero" else "an invalid"} CPU limit')


# --- probes ------------------------------------------------------------------------------------------------------


def test_probes_missing_on_regular_and_sidecar_containers_only() -> None:
    o = obj(
        """
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              initContainers:
              - {name: migrate, image: app:1}
              - {name: proxy, image: envoy:1, restartPolicy: Always}
              containers:
              - name: ok
                image: app:1
                livenessProbe: {httpGet: {path: /healthz, port: 8080}}
                readinessProbe: {tcpSocket: {port: 8080}}
              - name: bare
                image: app:1
                startupProbe: {exec: {command: [true]}}
        """
    )
    tmpl = ("spec", "template", "spec")
    expected = [((*tmpl, "initContainers", 1), "proxy"), ((*tmpl, "containers", 1), "bare")]
    assert found("pod.liveness-probe", o) == expected
    assert found("pod.readiness-probe", o) == expected
    assert messages("pod.liveness-probe", o)[1] == 'container "bare" has no livenessProbe'


def test_probe_without_handler_is_reported_at_the_probe() -> None:
    o = obj(
        """
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
          - name: a
            livenessProbe: {initialDelaySeconds: 5}
            readinessProbe: {grpc: {port: 9000}}
        """
    )
    assert found("pod.liveness-probe", o) == [(("spec", "containers", 0, "livenessProbe"), "a")]
    assert "no handler" in messages("pod.liveness-probe", o)[0]
    assert found("pod.readiness-probe", o) == []


@pytest.mark.parametrize("policy", ["Never", "OnFailure"])
def test_probes_skip_run_to_completion_pods(policy: str) -> None:
    o = obj(f"{{kind: Pod, metadata: {{name: p}}, spec: {{restartPolicy: {policy}, containers: [{{name: a}}]}}}}")
    assert found("pod.liveness-probe", o) == []
    assert found("pod.readiness-probe", o) == []


def test_probes_still_apply_to_pods_with_restart_policy_always() -> None:
    o = obj("{kind: Pod, metadata: {name: p}, spec: {restartPolicy: Always, containers: [{name: a}]}}")
    assert found("pod.readiness-probe", o) == [(("spec", "containers", 0), "a")]


def test_probe_rules_do_not_apply_to_jobs() -> None:
    for rule_id in ("pod.liveness-probe", "pod.readiness-probe"):
        assert "Job" not in BY_ID[rule_id].kinds
        assert "CronJob" not in BY_ID[rule_id].kinds
        assert "Deployment" in BY_ID[rule_id].kinds


# --- read-only root filesystem -----------------------------------------------------------------------------------


def test_read_only_root_fs_missing_false_and_string() -> None:
    o = obj(
        """
        kind: Pod
        metadata: {name: p}
        spec:
          initContainers:
          - {name: init}
          containers:
          - {name: ro, securityContext: {readOnlyRootFilesystem: true}}
          - {name: rw, securityContext: {readOnlyRootFilesystem: false}}
          - {name: sc, securityContext: {runAsNonRoot: true}}
          - {name: str, securityContext: {readOnlyRootFilesystem: "true"}}
          ephemeralContainers:
          - {name: dbg}
        """
    )
    assert found("pod.read-only-root-fs", o) == [
        (("spec", "initContainers", 0), "init"),
        (("spec", "containers", 1, "securityContext", "readOnlyRootFilesystem"), "rw"),
        (("spec", "containers", 2, "securityContext"), "sc"),
        (("spec", "containers", 3, "securityContext", "readOnlyRootFilesystem"), "str"),
    ]
    msgs = messages("pod.read-only-root-fs", o)
    assert msgs[0] == 'init container "init" does not set securityContext.readOnlyRootFilesystem: true'
    assert msgs[1] == 'container "rw" sets securityContext.readOnlyRootFilesystem: false'
    assert msgs[3] == 'container "str" sets securityContext.readOnlyRootFilesystem: "true"'


def test_read_only_root_fs_skips_windows_pods() -> None:
    o = obj("{kind: Pod, metadata: {name: p}, spec: {os: {name: windows}, containers: [{name: a}]}}")
    assert found("pod.read-only-root-fs", o) == []


# --- service account token ---------------------------------------------------------------------------------------


def test_automount_pod_unset_true_and_false() -> None:
    unset = obj("{kind: Pod, metadata: {name: p}, spec: {serviceAccountName: api, containers: [{name: a}]}}")
    assert found("pod.automount-sa-token", unset) == [(("spec",), None)]
    assert 'service account "api"' in messages("pod.automount-sa-token", unset)[0]
    true = obj(
        """
        kind: CronJob
        metadata: {name: c}
        spec: {jobTemplate: {spec: {template: {spec: {automountServiceAccountToken: true, containers: [{name: a}]}}}}}
        """
    )
    assert found("pod.automount-sa-token", true) == [
        (("spec", "jobTemplate", "spec", "template", "spec", "automountServiceAccountToken"), None)
    ]
    assert 'service account "default"' in messages("pod.automount-sa-token", true)[0]
    off = obj("{kind: Pod, metadata: {name: p}, spec: {automountServiceAccountToken: false, containers: []}}")
    assert found("pod.automount-sa-token", off) == []


def test_automount_string_false_is_not_false() -> None:
    o = obj('{kind: Pod, metadata: {name: p}, spec: {automountServiceAccountToken: "false"}}')
    assert found("pod.automount-sa-token", o) == [(("spec", "automountServiceAccountToken"), None)]


def test_automount_service_account_objects() -> None:
    rule = BY_ID["pod.automount-sa-token"]
    assert "ServiceAccount" in rule.kinds
    assert found("pod.automount-sa-token", obj("{kind: ServiceAccount, metadata: {name: default}}")) == [((), None)]
    on = obj("{kind: ServiceAccount, metadata: {name: sa}, automountServiceAccountToken: true}")
    assert found("pod.automount-sa-token", on) == [(("automountServiceAccountToken",), None)]
    off = obj("{kind: ServiceAccount, metadata: {name: sa}, automountServiceAccountToken: false}")
    assert found("pod.automount-sa-token", off) == []


# --- secrets in environment --------------------------------------------------------------------------------------


def test_secret_env_reports_each_secret_reference() -> None:
    o = obj(
        """
        kind: Pod
        metadata: {name: p}
        spec:
          initContainers:
          - name: init
            envFrom:
            - configMapRef: {name: cfg}
            - secretRef: {name: creds}
          containers:
          - name: app
            env:
            - {name: PLAIN, value: x}
            - name: FROM_CM
              valueFrom: {configMapKeyRef: {name: cfg, key: k}}
            - name: DB_PASSWORD
              valueFrom: {secretKeyRef: {name: db, key: password}}
            - "garbage"
        """
    )
    assert found("pod.secret-env", o) == [
        (("spec", "initContainers", 0, "envFrom", 1, "secretRef"), "init"),
        (("spec", "containers", 0, "env", 2, "valueFrom", "secretKeyRef"), "app"),
    ]
    msgs = messages("pod.secret-env", o)
    assert msgs[0] == 'init container "init" loads every key of Secret "creds" into environment variables'
    assert msgs[1] == 'container "app" reads key "password" of Secret "db" into environment variable "DB_PASSWORD"'


def test_secret_as_volume_is_fine() -> None:
    o = obj(
        """
        kind: Pod
        metadata: {name: p}
        spec:
          volumes: [{name: s, secret: {secretName: db}}]
          containers: [{name: a, volumeMounts: [{name: s, mountPath: /etc/db}]}]
        """
    )
    assert found("pod.secret-env", o) == []


# --- default namespace -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Deployment", "Service", "ConfigMap", "Secret", "RoleBinding", "NetworkPolicy"])
def test_default_namespace_explicit_is_reported(kind: str) -> None:
    o = obj(f"{{kind: {kind}, metadata: {{name: x, namespace: default}}}}")
    assert kind in BY_ID["k8s.default-namespace"].kinds
    assert found("k8s.default-namespace", o) == [(("metadata", "namespace"), None)]
    assert messages("k8s.default-namespace", o) == [f'{kind} "x" is placed in the default namespace']


@pytest.mark.parametrize("md", ["{name: x}", "{name: x, namespace: prod}", "{name: x, namespace: Default}"])
def test_default_namespace_absent_or_other_passes(md: str) -> None:
    assert found("k8s.default-namespace", obj(f"{{kind: Deployment, metadata: {md}}}")) == []


def test_default_namespace_does_not_cover_cluster_scoped_kinds() -> None:
    kinds = BY_ID["k8s.default-namespace"].kinds
    assert "ClusterRole" not in kinds and "Namespace" not in kinds


# --- group identity ----------------------------------------------------------------------------------------------


def test_root_group_messages_name_the_container_or_the_pod() -> None:
    o = obj(
        """
        kind: Pod
        metadata: {name: p}
        spec:
          securityContext: {fsGroup: 0, supplementalGroups: [0]}
          containers: [{name: a, securityContext: {runAsGroup: 0}}]
        """
    )
    assert found("pod.root-group", o) == [
        (("spec", "containers", 0, "securityContext", "runAsGroup"), "a"),
        (("spec", "securityContext", "fsGroup"), None),
        (("spec", "securityContext", "supplementalGroups", 0), None),
    ]
    assert messages("pod.root-group", o)[0] == 'container "a" runs with GID 0, the root group, as its primary group'


@pytest.mark.parametrize("value", ["false", "true", '"0"', "0.0", "null", "[0]"])
def test_group_rules_read_only_integers(value: str) -> None:
    # false == 0 and 0.0 == 0 in Python; neither is a GID the API would accept
    o = obj(
        f"""
        kind: Pod
        metadata: {{name: p}}
        spec:
          securityContext: {{runAsGroup: {value}, fsGroup: {value}, supplementalGroups: [{value}]}}
          containers: [{{name: a}}]
        """
    )
    assert found("pod.root-group", o) == []
    assert found("pod.low-gid", o) == []


def test_low_gid_message() -> None:
    o = obj("{kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, securityContext: {runAsGroup: 33}}]}}")
    assert messages("pod.low-gid", o) == ['container "a" runs with GID 33, below 10000 where host groups live']


# --- privileged ports --------------------------------------------------------------------------------------------


def test_privileged_port_message_says_node_network_for_host_network_pods() -> None:
    o = obj(
        """
        kind: Pod
        metadata: {name: p}
        spec:
          hostNetwork: true
          securityContext:
            sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}]
          containers: [{name: a, ports: [{containerPort: 53}]}]
        """
    )
    # net.* sysctls do not apply to host-network pods: the port stays privileged
    assert found("pod.privileged-port", o) == [(("spec", "containers", 0, "ports", 0, "containerPort"), "a")]
    assert messages("pod.privileged-port", o) == [
        'container "a" declares containerPort 53 on the node\'s own network, below 1024: '
        "binding it needs root or CAP_NET_BIND_SERVICE"
    ]


@pytest.mark.parametrize(
    ("sysctls", "reported"),
    [
        ('[{name: net.ipv4.ip_unprivileged_port_start, value: "0"}]', False),
        ('[{name: net/ipv4/ip_unprivileged_port_start, value: " 443 "}]', False),
        ('[{name: net.ipv4.ip_unprivileged_port_start, value: "444"}]', True),
        ('[{name: net.ipv4.ip_unprivileged_port_start, value: "2048"}]', True),
        ('[{name: net.ipv4.ip_unprivileged_port_start, value: "low"}]', True),
        ("[{name: net.ipv4.ip_unprivileged_port_start, value: 0}]", True),
        ('[{name: net.ipv4.ip_local_port_range, value: "0"}]', True),
        ("[null, 3]", True),
        ("{name: x}", True),
    ],
)
def test_privileged_port_sysctl(sysctls: str, reported: bool) -> None:
    o = obj(
        f"""
        kind: Pod
        metadata: {{name: p}}
        spec:
          securityContext: {{sysctls: {sysctls}}}
          containers: [{{name: a, ports: [{{containerPort: 443}}]}}]
        """
    )
    assert bool(found("pod.privileged-port", o)) is reported


@pytest.mark.parametrize("port", ["0", "-1", "true", '"80"', "1024", "65535", "null"])
def test_privileged_port_ignores_invalid_and_high_ports(port: str) -> None:
    o = obj(f"{{kind: Pod, spec: {{containers: [{{name: a, ports: [{{containerPort: {port}}}]}}]}}}}")
    assert found("pod.privileged-port", o) == []


# --- robustness --------------------------------------------------------------------------------------------------

GARBAGE = [
    "{kind: Pod, metadata: oops, spec: 42}",
    "{kind: Pod, metadata: {name: p, namespace: [default]}, spec: {containers: {name: a}}}",
    "{kind: Deployment, spec: {template: {spec: {containers: [null, 1, {name: 7, image: [x], env: {a: b}}]}}}}",
    "{kind: Pod, spec: {containers: [{name: a, envFrom: [null, {secretRef: s}], env: [{valueFrom: 3}]}]}}",
    "{kind: Pod, spec: {volumes: [{hostPath: {path: null}}, {hostPath: [/etc]}], automountServiceAccountToken: 0}}",
    "{kind: Pod, spec: {containers: [{name: a, livenessProbe: [], resources: {limits: {cpu: .nan}}}]}}",
    "{kind: ServiceAccount, automountServiceAccountToken: [false]}",
    "{kind: CronJob, spec: {jobTemplate: []}}",
    "{kind: Pod, spec: {securityContext: {supplementalGroups: {a: 0}, sysctls: {a: b}}, containers: [{ports: 80}]}}",
    "{kind: Pod, spec: {securityContext: [], containers: [{securityContext: 0, ports: [null, {containerPort: {}}]}]}}",
]


@pytest.mark.parametrize("text", GARBAGE)
def test_wrongly_shaped_objects_never_crash(text: str) -> None:
    o = obj(text)
    for rule in RULES:
        if o.kind in rule.kinds:
            for v in rule.check(o, RuleContext()):
                assert isinstance(v.message, str) and v.message
