"""Restricted PSS rules, PSA's Windows and user-namespace exemptions, and the
level/override selection of ``pss_rules_for``.

Expectations are derived from the PSS page and PSA's check_*.go files.
"""

from __future__ import annotations

from typing import Any

import pytest

from cloudward.core.model import PSSLevel
from cloudward.core.rules import PSSVersion
from cloudward.core.severity import Severity
from cloudward.rules.pss import BASELINE_RULES, RESTRICTED_RULES, RULES, pss_rules_for
from tests.rules.pss_helpers import c, found, pod, violations


def ctr(i: int, *rest: str | int, field: str = "containers") -> tuple[str | int, ...]:
    return ("spec", field, i, *rest)


def windows(spec: dict[str, Any]) -> dict[str, Any]:
    return {"os": {"name": "windows"}, **spec}


# --- Volume Types ------------------------------------------------------------------------------------------------


def test_volume_types_allows_the_nine_psa_sources_and_sourceless_volumes() -> None:
    allowed = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim"]
    allowed += ["projected", "secret"]
    vols: list[dict[str, Any]] = [{"name": k, k: {}} for k in allowed]
    vols.append({"name": "defaulted-to-emptydir"})
    assert found("pod.volume-types", pod({"containers": [c()], "volumes": vols})) == []


def test_volume_types_reports_restricted_sources_at_their_key() -> None:
    vols = [
        {"name": "a", "hostPath": {"path": "/"}},
        {"name": "b", "nfs": {"server": "s", "path": "/"}},
        {"name": "c", "gitRepo": {"repository": "r"}},
        {"name": "d", "emptyDir": None, "awsElasticBlockStore": {"volumeID": "v"}},
    ]
    assert found("pod.volume-types", pod({"containers": [c()], "volumes": vols})) == [
        (("spec", "volumes", 0, "hostPath"), None),
        (("spec", "volumes", 1, "nfs"), None),
        (("spec", "volumes", 2, "gitRepo"), None),
        (("spec", "volumes", 3, "awsElasticBlockStore"), None),
    ]


# --- Privilege Escalation ----------------------------------------------------------------------------------------


def test_privilege_escalation_requires_explicit_false_on_every_container() -> None:
    p = pod(
        {
            "initContainers": [c("i", allowPrivilegeEscalation=False)],
            "containers": [c("none"), c("unset", runAsNonRoot=True), c("yes", allowPrivilegeEscalation=True)],
            "ephemeralContainers": [c("dbg")],
        }
    )
    assert found("pod.privilege-escalation", p) == [
        (ctr(0), "none"),
        (ctr(1, "securityContext"), "unset"),
        (ctr(2, "securityContext", "allowPrivilegeEscalation"), "yes"),
        (ctr(0, field="ephemeralContainers"), "dbg"),
    ]


@pytest.mark.parametrize(("version", "expected"), [("v1.24", 1), ("v1.25", 0), ("latest", 0)])
def test_privilege_escalation_windows_exempt_from_v1_25(version: str, expected: int) -> None:
    assert len(found("pod.privilege-escalation", pod(windows({"containers": [c()]})), version)) == expected


def test_privilege_escalation_linux_pod_not_exempt() -> None:
    assert len(found("pod.privilege-escalation", pod({"os": {"name": "linux"}, "containers": [c()]}))) == 1


def test_privilege_escalation_starts_at_v1_8() -> None:
    assert found("pod.privilege-escalation", pod({"containers": [c()]}), "v1.7") == []
    assert len(found("pod.privilege-escalation", pod({"containers": [c()]}), "v1.8")) == 1


# --- Running as Non-root -----------------------------------------------------------------------------------------


def test_run_as_non_root_pod_true_covers_unset_containers() -> None:
    p = pod({"securityContext": {"runAsNonRoot": True}, "containers": [c("a"), c("b", runAsNonRoot=True)]})
    assert found("pod.run-as-non-root", p) == []


def test_run_as_non_root_container_false_fails_even_if_pod_true() -> None:
    p = pod({"securityContext": {"runAsNonRoot": True}, "containers": [c("a"), c("b", runAsNonRoot=False)]})
    assert found("pod.run-as-non-root", p) == [(ctr(1, "securityContext", "runAsNonRoot"), "b")]


def test_run_as_non_root_unset_everywhere_fails_per_container() -> None:
    p = pod({"initContainers": [c("i")], "containers": [c("a", runAsUser=1000)]})
    assert found("pod.run-as-non-root", p) == [
        (ctr(0, field="initContainers"), "i"),
        (ctr(0, "securityContext"), "a"),
    ]
    (first, _) = violations("pod.run-as-non-root", p)
    assert (
        first.message == 'runAsNonRoot != true (pod or init container "i" must set securityContext.runAsNonRoot: true)'
    )


def test_run_as_non_root_pod_false_fails_and_containers_must_opt_in() -> None:
    p = pod({"securityContext": {"runAsNonRoot": False}, "containers": [c("a"), c("b", runAsNonRoot=True)]})
    assert found("pod.run-as-non-root", p) == [
        (("spec", "securityContext", "runAsNonRoot"), None),
        (ctr(0), "a"),
    ]


@pytest.mark.parametrize(("version", "expected"), [("v1.34", 1), ("v1.35", 0), ("latest", 0)])
def test_run_as_non_root_skipped_for_user_namespaced_pods_from_v1_35(version: str, expected: int) -> None:
    assert len(found("pod.run-as-non-root", pod({"hostUsers": False, "containers": [c()]}), version)) == expected


# --- Running as Non-root user (v1.23+) ---------------------------------------------------------------------------


def test_run_as_user_zero_at_either_level_fails() -> None:
    p = pod(
        {
            "securityContext": {"runAsUser": 0},
            "containers": [c("a", runAsUser=1000), c("b", runAsUser=0), c("unset")],
        }
    )
    assert found("pod.run-as-user", p) == [
        (("spec", "securityContext", "runAsUser"), None),
        (ctr(1, "securityContext", "runAsUser"), "b"),
    ]


def test_run_as_user_unset_and_nonzero_pass_and_false_is_not_zero() -> None:
    p = pod({"securityContext": {"runAsUser": 1}, "containers": [c("a"), c("b", runAsUser=False)]})
    assert found("pod.run-as-user", p) == []


@pytest.mark.parametrize(("version", "expected"), [("v1.22", 0), ("v1.23", 1), ("latest", 1)])
def test_run_as_user_applies_from_v1_23(version: str, expected: int) -> None:
    assert len(found("pod.run-as-user", pod({"containers": [c(runAsUser=0)]}), version)) == expected


@pytest.mark.parametrize(("version", "expected"), [("v1.34", 1), ("v1.35", 0)])
def test_run_as_user_skipped_for_user_namespaced_pods_from_v1_35(version: str, expected: int) -> None:
    p = pod({"hostUsers": False, "containers": [c(runAsUser=0)]})
    assert len(found("pod.run-as-user", p, version)) == expected


# --- Seccomp (restricted) ----------------------------------------------------------------------------------------


def test_seccomp_restricted_pod_level_covers_unset_containers_container_overrides() -> None:
    p = pod(
        {
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [c("a"), c("b", seccompProfile={"type": "Unconfined"})],
        }
    )
    assert found("pod.seccomp-restricted", p) == [(ctr(1, "securityContext", "seccompProfile", "type"), "b")]


def test_seccomp_restricted_container_level_may_stand_in_for_pod_level() -> None:
    p = pod({"containers": [c("a", seccompProfile={"type": "Localhost", "localhostProfile": "x.json"})]})
    assert found("pod.seccomp-restricted", p) == []


def test_seccomp_restricted_unset_everywhere_fails_per_container() -> None:
    p = pod({"containers": [c("a"), c("b", runAsNonRoot=True)]})
    assert found("pod.seccomp-restricted", p) == [(ctr(0), "a"), (ctr(1, "securityContext"), "b")]


def test_seccomp_restricted_empty_profile_has_empty_type() -> None:
    p = pod({"securityContext": {"seccompProfile": {}}, "containers": [c("a")]})
    assert found("pod.seccomp-restricted", p) == [
        (("spec", "securityContext", "seccompProfile"), None),
        (ctr(0), "a"),
    ]


@pytest.mark.parametrize(("version", "expected"), [("v1.18", 0), ("v1.19", 1), ("latest", 1)])
def test_seccomp_restricted_applies_from_v1_19(version: str, expected: int) -> None:
    assert len(found("pod.seccomp-restricted", pod({"containers": [c()]}), version)) == expected


@pytest.mark.parametrize(("version", "expected"), [("v1.24", 1), ("v1.25", 0)])
def test_seccomp_restricted_windows_exempt_from_v1_25(version: str, expected: int) -> None:
    assert len(found("pod.seccomp-restricted", pod(windows({"containers": [c()]})), version)) == expected


# --- Capabilities (restricted, v1.22+) ---------------------------------------------------------------------------


def test_capabilities_restricted_drop_all_and_only_net_bind_service() -> None:
    p = pod(
        {
            "containers": [
                c("ok", capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}),
                c("nocaps"),
                c("partial", capabilities={"drop": ["NET_RAW", "all"]}),
                c("adds", capabilities={"drop": ["ALL"], "add": ["CHOWN", "NET_BIND_SERVICE"]}),
            ]
        }
    )
    assert found("pod.capabilities-restricted", p) == [
        (ctr(1), "nocaps"),
        (ctr(2, "securityContext", "capabilities", "drop"), "partial"),
        (ctr(3, "securityContext", "capabilities", "add"), "adds"),
    ]


def test_capabilities_restricted_reports_missing_drop_and_bad_add_separately() -> None:
    p = pod({"containers": [c("x", capabilities={"add": ["SYS_ADMIN"]})]})
    assert found("pod.capabilities-restricted", p) == [
        (ctr(0, "securityContext", "capabilities"), "x"),
        (ctr(0, "securityContext", "capabilities", "add"), "x"),
    ]


@pytest.mark.parametrize(("version", "expected"), [("v1.21", 0), ("v1.22", 1), ("latest", 1)])
def test_capabilities_restricted_applies_from_v1_22(version: str, expected: int) -> None:
    assert len(found("pod.capabilities-restricted", pod({"containers": [c()]}), version)) == expected


@pytest.mark.parametrize(("version", "expected"), [("v1.24", 1), ("v1.25", 0)])
def test_capabilities_restricted_windows_exempt_from_v1_25(version: str, expected: int) -> None:
    assert len(found("pod.capabilities-restricted", pod(windows({"containers": [c()]})), version)) == expected


# --- /proc Mount Type (restricted) -------------------------------------------------------------------------------


def test_proc_mount_restricted_reports_only_what_baseline_relaxed() -> None:
    userns = pod({"hostUsers": False, "containers": [c("a", procMount="Unmasked"), c("b", procMount="Default")]})
    hostns = pod({"containers": [c("a", procMount="Unmasked")]})
    assert found("pod.proc-mount-restricted", userns) == [(ctr(0, "securityContext", "procMount"), "a")]
    assert found("pod.proc-mount-restricted", hostns) == []  # pod.proc-mount reports it
    assert found("pod.proc-mount-restricted", userns, "v1.34") == []  # pod.proc-mount reports it


# --- Metadata and level selection --------------------------------------------------------------------------------


def test_every_rule_carries_level_control_and_psa_reference() -> None:
    for rule in RULES:
        assert rule.id.startswith("pod.")
        assert rule.controls.pss_level in (PSSLevel.BASELINE, PSSLevel.RESTRICTED)
        assert rule.controls.pss_control
        assert any("pod-security-admission/policy/check_" in ref for ref in rule.references)
        assert "Deployment" in rule.kinds and "CronJob" in rule.kinds and "Pod" in rule.kinds


def test_severities_follow_level() -> None:
    critical = {"pod.privileged", "pod.host-namespaces", "pod.host-process"}
    for rule in BASELINE_RULES:
        assert rule.severity is (Severity.CRITICAL if rule.id in critical else Severity.HIGH), rule.id
    assert {r.severity for r in RESTRICTED_RULES} == {Severity.MEDIUM}


def test_control_names_match_the_pss_page() -> None:
    controls = {r.id: r.controls.pss_control for r in RULES}
    assert controls["pod.privileged"] == "Privileged Containers"
    assert controls["pod.proc-mount"] == "/proc Mount Type"
    assert controls["pod.run-as-user"] == "Running as Non-root user"
    assert controls["pod.capabilities-restricted"] == "Capabilities"


def _ids(level: PSSLevel, version: str = "latest") -> set[str]:
    return {r.id for r in pss_rules_for(level, PSSVersion.parse(version))}


def test_pss_rules_for_privileged_is_empty_and_baseline_has_no_restricted_rules() -> None:
    assert _ids(PSSLevel.PRIVILEGED) == set()
    assert _ids(PSSLevel.BASELINE) == {r.id for r in BASELINE_RULES}


def test_pss_rules_for_restricted_applies_psa_overrides_by_version() -> None:
    latest = _ids(PSSLevel.RESTRICTED)
    assert {"pod.host-path", "pod.seccomp-baseline", "pod.capabilities-baseline"}.isdisjoint(latest)
    assert {"pod.privileged", "pod.volume-types", "pod.seccomp-restricted"} <= latest
    old = _ids(PSSLevel.RESTRICTED, "v1.18")  # no restricted seccomp or capabilities yet: baseline ones stay
    assert {"pod.seccomp-baseline", "pod.capabilities-baseline"} <= old
    assert "pod.host-path" not in old
    v21 = _ids(PSSLevel.RESTRICTED, "v1.21")
    assert "pod.seccomp-baseline" not in v21 and "pod.capabilities-baseline" in v21
