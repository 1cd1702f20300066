"""Baseline PSS rules against hand-built pods, including PSA's version boundaries.

Expected paths and verdicts come from the PSS page and PSA's check_*.go files,
not from running the rules.
"""

from __future__ import annotations

import pytest

from cloudward.k8s.object import K8sObject
from tests.rules.pss_helpers import c, found, obj, pod, violations

SPEC = ("spec",)


def ctr(i: int, *rest: str | int, field: str = "containers") -> tuple[str | int, ...]:
    return ("spec", field, i, *rest)


# --- Host Namespaces ---------------------------------------------------------------------------------------------


def test_host_namespaces_reports_each_namespace_at_its_field() -> None:
    p = pod({"hostNetwork": True, "hostPID": True, "hostIPC": True, "containers": [c()]})
    assert found("pod.host-namespaces", p) == [
        (("spec", "hostNetwork"), None),
        (("spec", "hostPID"), None),
        (("spec", "hostIPC"), None),
    ]


def test_host_namespaces_false_or_unset_passes() -> None:
    assert found("pod.host-namespaces", pod({"hostNetwork": False, "containers": [c()]})) == []


def test_host_namespaces_in_cronjob_points_into_job_template() -> None:
    cron = obj("""
kind: CronJob
metadata: {name: nightly, namespace: ops}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          hostPID: true
          containers: [{name: a, image: x}]
""")
    assert found("pod.host-namespaces", cron) == [
        (("spec", "jobTemplate", "spec", "template", "spec", "hostPID"), None)
    ]


# --- Privileged --------------------------------------------------------------------------------------------------


def test_privileged_checks_init_regular_and_ephemeral_containers() -> None:
    p = pod(
        {
            "initContainers": [c("init", privileged=True)],
            "containers": [c("app", privileged=False), c("side", privileged=True)],
            "ephemeralContainers": [c("debug", privileged=True)],
        }
    )
    assert found("pod.privileged", p) == [
        (ctr(0, "securityContext", "privileged", field="initContainers"), "init"),
        (ctr(1, "securityContext", "privileged"), "side"),
        (ctr(0, "securityContext", "privileged", field="ephemeralContainers"), "debug"),
    ]


def test_privileged_message_reads_like_psa_and_names_the_container() -> None:
    (v,) = violations("pod.privileged", pod({"containers": [c("app", privileged=True)]}))
    assert v.message == 'privileged (container "app" must not set securityContext.privileged: true)'


def test_privileged_string_true_is_not_a_boolean_and_does_not_crash() -> None:
    assert found("pod.privileged", pod({"containers": [{"name": "a", "securityContext": "oops"}]})) == []


# --- Capabilities (baseline) ---------------------------------------------------------------------------------------


def test_capabilities_baseline_allows_the_default_set_and_forbids_net_raw() -> None:
    ok = c("ok", capabilities={"add": ["CHOWN", "NET_BIND_SERVICE", "SYS_CHROOT", "AUDIT_WRITE"]})
    bad = c("bad", capabilities={"add": ["NET_RAW", "CHOWN", "SYS_ADMIN"]})
    (v,) = violations("pod.capabilities-baseline", pod({"containers": [ok, bad]}))
    assert v.path == ctr(1, "securityContext", "capabilities", "add")
    assert v.container == "bad"
    assert '"NET_RAW", "SYS_ADMIN"' in v.message
    assert "CHOWN" not in v.message


def test_capabilities_baseline_drop_is_not_judged() -> None:
    assert found("pod.capabilities-baseline", pod({"containers": [c(capabilities={"drop": ["SYS_ADMIN"]})]})) == []


def test_capabilities_baseline_is_case_sensitive_like_psa() -> None:
    assert len(found("pod.capabilities-baseline", pod({"containers": [c(capabilities={"add": ["chown"]})]}))) == 1


# --- HostPath Volumes / Host Ports -----------------------------------------------------------------------------------


def test_host_path_reports_each_hostpath_volume() -> None:
    vols = [{"name": "a", "emptyDir": {}}, {"name": "b", "hostPath": {"path": "/var/run"}}]
    assert found("pod.host-path", pod({"containers": [c()], "volumes": vols})) == [
        (("spec", "volumes", 1, "hostPath"), None)
    ]


def test_host_ports_zero_passes_and_each_nonzero_port_fails() -> None:
    ports = [{"containerPort": 80, "hostPort": 0}, {"containerPort": 81}, {"containerPort": 82, "hostPort": 8082}]
    p = pod(
        {"initContainers": [{"name": "i", "ports": [{"hostPort": 53}]}], "containers": [{"name": "a", "ports": ports}]}
    )
    assert found("pod.host-ports", p) == [
        (ctr(0, "ports", 0, "hostPort", field="initContainers"), "i"),
        (ctr(0, "ports", 2, "hostPort"), "a"),
    ]


# --- Host Probes / Lifecycle Hooks (v1.34+) ------------------------------------------------------------------------


def _probing(host: str) -> dict[str, object]:
    return {
        "name": "a",
        "livenessProbe": {"httpGet": {"host": host, "port": 80}},
        "readinessProbe": {"tcpSocket": {"host": "", "port": 80}},
        "lifecycle": {"preStop": {"tcpSocket": {"host": host, "port": 1}}, "postStart": {"exec": {"command": ["x"]}}},
    }


def test_host_probes_reports_each_host_field_from_v1_34() -> None:
    p = pod({"containers": [_probing("10.0.0.1")]})
    assert found("pod.host-probes", p, "v1.34") == [
        (ctr(0, "livenessProbe", "httpGet", "host"), "a"),
        (ctr(0, "lifecycle", "preStop", "tcpSocket", "host"), "a"),
    ]


def test_host_probes_does_not_exist_before_v1_34() -> None:
    assert found("pod.host-probes", pod({"containers": [_probing("10.0.0.1")]}), "v1.33") == []


# --- HostProcess -------------------------------------------------------------------------------------------------


def test_host_process_at_pod_and_container_level() -> None:
    p = pod(
        {
            "securityContext": {"windowsOptions": {"hostProcess": True}},
            "containers": [c("a", windowsOptions={"hostProcess": True}), c("b", windowsOptions={"hostProcess": False})],
        }
    )
    assert found("pod.host-process", p) == [
        (("spec", "securityContext", "windowsOptions", "hostProcess"), None),
        (ctr(0, "securityContext", "windowsOptions", "hostProcess"), "a"),
    ]


# --- AppArmor ----------------------------------------------------------------------------------------------------

APPARMOR = "container.apparmor.security.beta.kubernetes.io/"


def test_apparmor_annotations_allow_runtime_default_localhost_and_empty() -> None:
    ann = {APPARMOR + "a": "runtime/default", APPARMOR + "b": "localhost/custom", APPARMOR + "c": ""}
    assert found("pod.apparmor", pod({"containers": [c("a")]}, ann)) == []


def test_apparmor_annotation_unconfined_fails_even_for_unknown_container() -> None:
    ann = {APPARMOR + "ghost": "unconfined", "other/annotation": "unconfined"}
    assert found("pod.apparmor", pod({"containers": [c("a")]}, ann)) == [
        (("metadata", "annotations", APPARMOR + "ghost"), "ghost")
    ]


def test_apparmor_fields_judged_at_pod_and_container_level() -> None:
    p = pod(
        {
            "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
            "containers": [
                c("a", appArmorProfile={"type": "RuntimeDefault"}),
                c("b", appArmorProfile={"type": "Localhost", "localhostProfile": "x"}),
                c("d", appArmorProfile={"type": "Unconfined"}),
            ],
        }
    )
    assert found("pod.apparmor", p) == [
        (("spec", "securityContext", "appArmorProfile", "type"), None),
        (ctr(2, "securityContext", "appArmorProfile", "type"), "d"),
    ]


def test_apparmor_fields_are_judged_at_old_policy_versions_too() -> None:
    # PSA patched the field check into its v1.0 function, so pinning v1.22 still judges it.
    p = pod({"containers": [c("d", appArmorProfile={"type": "Unconfined"})]})
    assert len(found("pod.apparmor", p, "v1.22")) == 1


def test_apparmor_annotation_on_deployment_template_points_into_template_metadata() -> None:
    d = obj(f"""
kind: Deployment
metadata:
  name: web
  annotations: {{"{APPARMOR}app": unconfined}}
spec:
  template:
    metadata:
      annotations: {{"{APPARMOR}app": unconfined}}
    spec:
      containers: [{{name: app, image: x}}]
""")
    assert found("pod.apparmor", d) == [(("spec", "template", "metadata", "annotations", APPARMOR + "app"), "app")]


# --- SELinux -----------------------------------------------------------------------------------------------------


def test_selinux_allowed_types_and_forbidden_user_and_role() -> None:
    p = pod(
        {
            "securityContext": {"seLinuxOptions": {"type": "container_t", "level": "s0:c1,c2"}},
            "containers": [
                c("a", seLinuxOptions={"type": "spc_t"}),
                c("b", seLinuxOptions={"user": "system_u", "role": "system_r"}),
                c("k", seLinuxOptions={"type": "container_kvm_t"}),
            ],
        }
    )
    assert found("pod.selinux", p) == [
        (ctr(0, "securityContext", "seLinuxOptions", "type"), "a"),
        (ctr(1, "securityContext", "seLinuxOptions", "user"), "b"),
        (ctr(1, "securityContext", "seLinuxOptions", "role"), "b"),
    ]


@pytest.mark.parametrize(("version", "expected"), [("v1.30", 1), ("v1.31", 0), ("latest", 0)])
def test_selinux_container_engine_t_allowed_from_v1_31(version: str, expected: int) -> None:
    p = pod({"containers": [c(seLinuxOptions={"type": "container_engine_t"})]})
    assert len(found("pod.selinux", p, version)) == expected


# --- /proc Mount Type --------------------------------------------------------------------------------------------


def test_proc_mount_default_passes_unmasked_fails() -> None:
    p = pod({"containers": [c("a", procMount="Default"), c("b", procMount="Unmasked")]})
    assert found("pod.proc-mount", p) == [(ctr(1, "securityContext", "procMount"), "b")]


@pytest.mark.parametrize(("version", "expected"), [("v1.34", 1), ("v1.35", 0), ("latest", 0)])
def test_proc_mount_relaxed_for_user_namespaced_pods_from_v1_35(version: str, expected: int) -> None:
    p = pod({"hostUsers": False, "containers": [c(procMount="Unmasked")]})
    assert len(found("pod.proc-mount", p, version)) == expected


def test_proc_mount_not_relaxed_when_host_users_true() -> None:
    assert len(found("pod.proc-mount", pod({"hostUsers": True, "containers": [c(procMount="Unmasked")]}))) == 1


# --- Seccomp (baseline) ------------------------------------------------------------------------------------------

SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CTR = "container.seccomp.security.alpha.kubernetes.io/"


def test_seccomp_baseline_fields_from_v1_19_unset_allowed() -> None:
    p = pod(
        {
            "securityContext": {"seccompProfile": {"type": "Unconfined"}},
            "containers": [
                c("a"),
                c("b", seccompProfile={"type": "Localhost", "localhostProfile": "p.json"}),
                c("u", seccompProfile={"type": "Unconfined"}),
            ],
        }
    )
    assert found("pod.seccomp-baseline", p, "v1.19") == [
        (("spec", "securityContext", "seccompProfile", "type"), None),
        (ctr(2, "securityContext", "seccompProfile", "type"), "u"),
    ]


def test_seccomp_baseline_ignores_annotations_from_v1_19() -> None:
    p = pod({"containers": [c("a")]}, {SECCOMP_POD: "unconfined"})
    assert found("pod.seccomp-baseline", p, "v1.19") == []


def test_seccomp_baseline_judges_annotations_before_v1_19_and_ignores_fields() -> None:
    ann = {
        SECCOMP_POD: "unconfined",
        SECCOMP_CTR + "a": "docker/default",
        SECCOMP_CTR + "b": "",
        SECCOMP_CTR + "ghost": "unconfined",  # names no container: PSA does not look at it
    }
    p = pod({"containers": [c("a"), c("b", seccompProfile={"type": "Unconfined"})]}, ann)
    assert found("pod.seccomp-baseline", p, "v1.18") == [
        (("metadata", "annotations", SECCOMP_POD), None),
        (("metadata", "annotations", SECCOMP_CTR + "b"), "b"),
    ]


# --- Sysctls -----------------------------------------------------------------------------------------------------


def _sysctl_pod(*names: str) -> K8sObject:
    return pod({"securityContext": {"sysctls": [{"name": n, "value": "1"} for n in names]}, "containers": [c()]})


def test_sysctls_unsafe_name_reported_at_its_entry() -> None:
    p = _sysctl_pod("net.ipv4.tcp_syncookies", "kernel.msgmax")
    assert found("pod.sysctls", p) == [(("spec", "securityContext", "sysctls", 1, "name"), None)]


@pytest.mark.parametrize(
    ("name", "first_allowed"),
    [
        ("net.ipv4.ip_local_reserved_ports", 27),
        ("net.ipv4.tcp_keepalive_time", 29),
        ("net.ipv4.tcp_fin_timeout", 29),
        ("net.ipv4.tcp_keepalive_intvl", 29),
        ("net.ipv4.tcp_keepalive_probes", 29),
        ("net.ipv4.tcp_rmem", 32),
        ("net.ipv4.tcp_wmem", 32),
    ],
)
def test_sysctls_safe_set_grows_by_version(name: str, first_allowed: int) -> None:
    p = _sysctl_pod(name)
    assert len(found("pod.sysctls", p, f"v1.{first_allowed - 1}")) == 1
    assert found("pod.sysctls", p, f"v1.{first_allowed}") == []
    assert found("pod.sysctls", p, "latest") == []


def test_sysctls_original_five_are_safe_at_every_version() -> None:
    p = _sysctl_pod(
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    )
    assert found("pod.sysctls", p, "v1.0") == []


# --- Robustness --------------------------------------------------------------------------------------------------

BASELINE_IDS = [
    "pod.host-process", "pod.host-namespaces", "pod.privileged", "pod.capabilities-baseline", "pod.host-path",
    "pod.host-ports", "pod.host-probes", "pod.apparmor", "pod.selinux", "pod.proc-mount", "pod.seccomp-baseline",
    "pod.sysctls",
]  # fmt: skip


@pytest.mark.parametrize("rule_id", BASELINE_IDS)
@pytest.mark.parametrize(
    "spec",
    [
        "not a dict",
        {"containers": "nope", "volumes": [1, "x"], "securityContext": ["x"]},
        {"containers": [{"name": 3, "securityContext": {"capabilities": "x", "seLinuxOptions": "y", "procMount": 1}}]},
        {"containers": [{"ports": "x", "livenessProbe": "x", "lifecycle": {"preStop": "x"}}]},
        {"securityContext": {"sysctls": ["x", {"value": 1}], "seccompProfile": "x", "appArmorProfile": None}},
    ],
)
def test_rules_never_raise_on_malformed_specs(rule_id: str, spec: object) -> None:
    o = obj("kind: Pod\nmetadata: {name: p, annotations: x}\n")
    o.data["spec"] = spec
    for version in ("v1.0", "v1.18", "latest"):
        violations(rule_id, o, version)
