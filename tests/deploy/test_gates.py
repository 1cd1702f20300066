"""Signature and vulnerability gates and digest pinning, against a real docker-registry on 127.0.0.1.

Images are pushed to the registry, signed by our signing code (cosign's format),
and judged through ``answer()`` — the code path of the server and of
``cloudward admission review``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from cloudward.deploy import Mode, answer, load_policy
from cloudward.deploy.gates import runtime
from cloudward.deploy.scancache import add_report
from cloudward.distribute.signing import sign_image
from cloudward.distribute.signing.images import tag_for
from cloudward.testing import admission_review
from tests.deploy.conftest import run_cli
from tests.deploy.gatekit import Project, make_project, pod, vuln_report
from tests.distribute.signing.conftest import Registry, push_image, registry  # noqa: F401 — the fixture

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def project(tmp_path: Path, registry: Registry) -> Project:  # noqa: F811
    return make_project(tmp_path / "proj", registry.host)


def judge(doc: dict[str, Any], config: Path, mutate: bool = False) -> dict[str, Any]:
    policy = load_policy(config)
    return json.loads(answer(json.dumps(doc), policy, mutate=mutate, today=TODAY).body)["response"]


def signed(registry: Registry, project: Project, repo: str) -> tuple[str, str]:  # noqa: F811
    ref, digest = push_image(registry, repo)
    sign_image(registry.client(), ref, project.signer)
    return str(ref), digest


SIG = "  signatures:\n    policy: verify-policy.yaml\n"


def test_signed_images_pass_and_unsigned_init_container_is_denied(registry: Registry,  # noqa: F811
                                                                    project: Project) -> None:
    good, _ = signed(registry, project, "gate/app")
    bad, _ = push_image(registry, "gate/unsigned-init")
    cfg = project.write(SIG)
    ok = judge(admission_review(pod(good, init=good)), cfg)
    assert ok["allowed"] is True, ok
    denied = judge(admission_review(pod(good, init=str(bad))), cfg)
    assert denied["allowed"] is False and denied["status"]["code"] == 403
    message = denied["status"]["message"]
    assert f"pod.image-signature at $.spec.initContainers[0].image: container \"init\" image \"{bad}\" is not " \
           "verified" in message
    assert "no signatures found" in message
    assert "$.spec.containers[0]" not in message  # the signed app container passed


def test_verdicts_are_cached_per_digest_no_registry_on_the_hot_path(registry: Registry,  # noqa: F811
                                                                     project: Project) -> None:
    image, digest = signed(registry, project, "gate/cached")
    policy = load_policy(project.write(SIG))
    doc = json.dumps(admission_review(pod(image, kind="Deployment")))
    assert json.loads(answer(doc, policy, today=TODAY).body)["response"]["allowed"] is True
    rt = runtime(policy)
    assert rt.verifier is not None and rt.verifier.evaluations == 1 and rt.resolver.lookups == 1
    # remove the signature from the registry: within the TTL the cached verdict still answers, so the
    # second review demonstrably did not ask the registry
    repo = "gate/cached"
    sig = registry.client().get_artifact_manifest(repo, tag_for(digest, "sig")).digest
    registry.client().request("DELETE", f"/v2/{repo}/manifests/{sig}", scope=f"repository:{repo}:delete",
                              ok=(202,)).body.close()
    for _ in range(3):
        assert json.loads(answer(doc, policy, today=TODAY).body)["response"]["allowed"] is True
    assert rt.verifier.evaluations == 1 and rt.resolver.lookups == 1
    # a fresh policy (no cache) sees the signature is gone
    fresh = load_policy(project.config)
    assert json.loads(answer(doc, fresh, today=TODAY).body)["response"]["allowed"] is False


def test_a_key_revoked_in_the_same_config_is_refused(registry: Registry, project: Project) -> None:  # noqa: F811
    from cloudward.distribute.signing import fingerprint

    image, _ = signed(registry, project, "gate/revoked")
    fp = fingerprint(project.signer.public_key())
    cfg = project.write(SIG, extra=f"signing:\n  revoked_keys:\n    - {{fingerprint: '{fp}', reason: leaked}}\n")
    out = judge(admission_review(pod(image)), cfg)
    assert out["allowed"] is False and f"signed by revoked key {fp}" in out["status"]["message"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("mode", ["closed", "open"])
def test_registry_failure_follows_the_failure_mode(project: Project, mode: str) -> None:
    dead = f"127.0.0.1:{_closed_port()}"  # nothing listens there: connection refused
    (project.root / "verify-policy.yaml").write_text(
        f"version: 1\npolicies:\n  - name: x\n    images: ['{dead}/**']\n    require:\n"
        "      - signature: {keys: [trusted.pub]}\n")
    project.config.write_text(f"admission:\n  failure_mode: {mode}\n  registry:\n    insecure: ['{dead}']\n"
                              f"    timeout: 2\n{SIG}")
    out = judge(admission_review(pod(f"{dead}/app:1")), project.config)
    assert out["auditAnnotations"]["decision"] == "error"
    assert "pod.image-signature" in out["auditAnnotations"]["error"]
    assert "unavailable" in out["auditAnnotations"]["error"] and "crashed" not in out["auditAnnotations"]["error"]
    if mode == "closed":
        assert out["allowed"] is False and out["status"]["code"] == 500
    else:
        assert out["allowed"] is True and "admission.failure_mode: open" in out["warnings"][0]


def test_mutate_pins_verified_tags_to_their_digest(registry: Registry, project: Project) -> None:  # noqa: F811
    image, digest = signed(registry, project, "gate/pin")
    unsigned, _ = push_image(registry, "gate/pin-unsigned")
    pinned_already = f"{registry.host}/gate/pin@{digest}"
    cfg = project.write(SIG)
    doc = admission_review(pod(image, str(unsigned), pinned_already, kind="Deployment"))
    out = judge(doc, cfg, mutate=True)
    assert out["allowed"] is True and out["patchType"] == "JSONPatch"
    patch = json.loads(base64.b64decode(out["patch"]))
    assert patch == [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                      "value": f"{image}@{digest}"}]
    # the pinned object is what /validate then judges: still verified (digest reference)
    doc["request"]["object"]["spec"]["template"]["spec"]["containers"] = [{"name": "c0", "image": patch[0]["value"]}]
    assert judge(doc, cfg)["allowed"] is True
    # without a signature gate /mutate changes nothing
    project.write("")
    assert "patch" not in judge(doc, cfg, mutate=True)


# -- vulnerabilities -------------------------------------------------------------------------------

def vuln_config(project: Project, cache: Path, extra: str = "") -> Path:
    return project.write(f"  vulnerabilities:\n    cache: {cache}\n    severity: high\n{extra}")


def test_vulnerability_gate_uses_the_scan_cache(registry: Registry, project: Project,  # noqa: F811
                                                tmp_path: Path) -> None:
    ref, digest = push_image(registry, "gate/vulnerable")
    cache = tmp_path / "scans"
    add_report(cache, digest, vuln_report(("CVE-2024-0001", "critical", False), ("CVE-2024-0002", "low", True)),
               "r.json")
    cfg = vuln_config(project, cache)
    out = judge(admission_review(pod(str(ref))), cfg)  # tag resolved to the digest through the registry
    assert out["allowed"] is False
    assert "pod.image-vulnerabilities at $.spec.containers[0].image" in out["status"]["message"]
    assert "1 vulnerabilities at or above high: CVE-2024-0001 (critical, openssl@3.0.11)" in out["status"]["message"]
    # only_fixable: the critical one has no fix, so nothing counts
    cfg = vuln_config(project, cache, "    only_fixable: true\n")
    assert judge(admission_review(pod(str(ref))), cfg)["allowed"] is True


def test_images_missing_from_the_cache_warn_by_default_or_deny(project: Project, tmp_path: Path) -> None:
    image = f"{project.registry}/gate/never-scanned@sha256:{'c' * 64}"  # pinned: no registry lookup needed
    cfg = vuln_config(project, tmp_path / "empty")
    out = judge(admission_review(pod(image)), cfg)
    assert out["allowed"] is True
    assert any(w.startswith("pod.image-scan-missing: container \"c0\"") for w in out["warnings"])
    cfg = vuln_config(project, tmp_path / "empty", "    missing: deny\n")
    out = judge(admission_review(pod(image)), cfg)
    assert out["allowed"] is False and "pod.image-scan-missing at $.spec.containers[0].image" in \
        out["status"]["message"]
    policy = load_policy(cfg)
    assert policy.rule_mode("pod.image-scan-missing") is Mode.ENFORCE


def test_changed_cache_files_are_reread_and_unchanged_ones_are_not(project: Project, tmp_path: Path) -> None:
    digest = "sha256:" + "d" * 64
    image = f"{project.registry}/gate/x@{digest}"
    cache = tmp_path / "scans"
    add_report(cache, digest, vuln_report(("CVE-1", "critical", True)), "r.json")
    policy = load_policy(vuln_config(project, cache))
    doc = json.dumps(admission_review(pod(image)))
    assert json.loads(answer(doc, policy, today=TODAY).body)["response"]["allowed"] is False
    assert json.loads(answer(doc, policy, today=TODAY).body)["response"]["allowed"] is False
    scans = runtime(policy).scans
    assert scans is not None and scans.reads == 1
    add_report(cache, digest, vuln_report(("CVE-1", "low", True), ("CVE-2", "medium", True)), "r.json")
    assert json.loads(answer(doc, policy, today=TODAY).body)["response"]["allowed"] is True
    assert scans.reads == 2


def test_cache_add_command(tmp_path: Path, registry: Registry) -> None:  # noqa: F811
    ref, digest = push_image(registry, "gate/cli")
    report = tmp_path / "r.json"
    report.write_bytes(vuln_report(("CVE-9", "high", True)))
    r = run_cli("admission", "cache", "add", str(report), "--cache", str(tmp_path / "c"), "--image", str(ref),
                "--allow-insecure-registry")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "c" / f"{digest.replace(':', '-')}.json").read_bytes()) == \
        json.loads(report.read_bytes())
    report.write_text('{"not": "a report"}')
    r = run_cli("admission", "cache", "add", str(report), "--cache", str(tmp_path / "c"), "--digest", digest)
    assert r.returncode == 2 and "not a cloudward JSON report" in r.stderr.decode()
    r = run_cli("admission", "cache", "add", str(report), "--cache", str(tmp_path / "c"), "--digest", "sha256:zz")
    assert r.returncode == 2 and "is not sha256:<64 lowercase hex>" in r.stderr.decode()


def test_server_over_tls_pins_on_mutate_and_denies_unsigned_on_validate(  # type: ignore[no-untyped-def]
        registry: Registry, project: Project, server_factory) -> None:  # noqa: F811
    from tests.deploy.test_server import post

    image, digest = signed(registry, project, "gate/served")
    unsigned, _ = push_image(registry, "gate/served-unsigned")
    project.write(SIG)
    server = server_factory("--namespaces", "none", cwd=project.root)  # config found from the working directory
    conn = server.connection()
    status, body = post(conn, "/mutate", admission_review(pod(image, kind="Deployment"), uid="m-1"))
    assert status == 200
    response = json.loads(body)["response"]
    assert response["uid"] == "m-1" and response["allowed"] is True and response["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(response["patch"]))[0]["value"] == f"{image}@{digest}"
    status, body = post(conn, "/validate", admission_review(pod(image, str(unsigned)), uid="v-1"))
    response = json.loads(body)["response"]
    assert status == 200 and response["allowed"] is False
    assert "pod.image-signature at $.spec.containers[1].image" in response["status"]["message"]
    conn.request("GET", "/metrics")
    metrics = conn.getresponse().read().decode()
    assert 'rule="pod.image-signature"' in metrics


def test_concurrent_reviews_of_one_image_share_one_registry_round_trip() -> None:
    """SingleFlight: the leader's call is held until seven more callers wait; all get its one result."""
    import threading

    from cloudward.deploy.verifier import SingleFlight

    flight: SingleFlight[str] = SingleFlight()
    release = threading.Event()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        assert flight.wait_for_waiters("k", 7, timeout=30)
        release.wait(30)
        return "digest"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(flight.do("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    assert flight.wait_for_waiters("k", 7, timeout=30)
    release.set()
    for t in threads:
        t.join(30)
    assert results == ["digest"] * 8 and calls == [1]
    assert flight.waiting("k") == 0  # the flight is over: the next call starts a new one
    assert flight.do("k", lambda: "again") == "again"


def test_a_failed_flight_fails_its_waiters_and_is_not_remembered() -> None:
    import threading

    from cloudward.deploy.verifier import GateUnavailable, SingleFlight

    flight: SingleFlight[str] = SingleFlight()
    errors: list[str] = []

    def failing() -> str:
        assert flight.wait_for_waiters("k", 2, timeout=30)
        raise GateUnavailable("registry r unavailable")

    def call() -> None:
        try:
            flight.do("k", failing)
        except GateUnavailable as e:
            errors.append(str(e))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == ["registry r unavailable"] * 3
    assert flight.do("k", lambda: "recovered") == "recovered"


def test_concurrent_verifications_through_the_real_registry_evaluate_once(registry: Registry,  # noqa: F811
                                                                         project: Project) -> None:
    import threading

    image, digest = signed(registry, project, "gate/burst")
    policy = load_policy(project.write(SIG))
    rt = runtime(policy)
    assert rt.verifier is not None
    start = threading.Barrier(12)
    verdicts: list[Any] = []

    def review() -> None:
        start.wait(30)
        verdicts.append(rt.verifier.verify(image))  # type: ignore[union-attr]

    threads = [threading.Thread(target=review) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(verdicts) == 12 and all(v.verified and v.digest == digest for v in verdicts)
    assert rt.verifier.evaluations == 1 and rt.resolver.lookups == 1
