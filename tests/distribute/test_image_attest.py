"""``image sbom --attest`` and ``image scan --attest``: signed in-toto attestations pushed to a real docker-registry
on 127.0.0.1, then checked with the signing stage's verify-attestation (CLI and API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudward.distribute.image import NotFoundError, RegistryClient, RegistryRef
from cloudward.distribute.signing import (
    NotVerifiedError,
    generate_key,
    read_public_key,
    verify_image_attestations,
    write_key_pair,
)
from cloudward.distribute.signing.images import tag_for
from cloudward.distribute.signing.predicates import PREDICATE_TYPES
from tests.distribute.imagecli import run_cli
from tests.distribute.imagekit import Built, build_image, files_from_host
from tests.distribute.match.kit import OLD_ROOTFS, need_shared
from tests.distribute.match.test_debian_expected import tracker_json_from_fixes
from tests.distribute.registry_server import run_registry
from tests.distribute.test_registry import push

PASSWORD = {"CLOUDWARD_PASSWORD": "attest-test"}


class Setup:
    def __init__(self, addr: str, built: Built, keys: Path, db: Path) -> None:
        self.addr, self.built, self.keys, self.db = addr, built, keys, db
        self.client = RegistryClient(addr, insecure=True, timeout=10)

    def image(self, repo: str) -> str:
        push(self.client, repo, self.built, "v1")
        return f"docker://{self.addr}/{repo}:v1"

    def ref(self, repo: str) -> RegistryRef:
        return RegistryRef(self.addr, repo, tag="v1")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    need_shared()
    tmp = tmp_path_factory.mktemp("attest")
    write_key_pair(tmp / "ci", generate_key(), PASSWORD["CLOUDWARD_PASSWORD"].encode())
    write_key_pair(tmp / "other", generate_key(), b"x")
    built = build_image([files_from_host(OLD_ROOTFS / "etc" / "os-release", "etc/os-release"),
                         files_from_host(OLD_ROOTFS / "var" / "lib" / "dpkg" / "status", "var/lib/dpkg/status")],
                        config={"User": "1000"})
    db = tmp / "vuln.db"
    r = run_cli("db", "import", str(tracker_json_from_fixes(tmp / "tracker.json")), "--db", str(db))
    assert r.returncode == 0, r.stderr
    with run_registry(tmp / "registry") as addr:
        yield Setup(addr, built, tmp, db)


def _verify_cli(s: Setup, repo: str, kind: str, key: str = "ci.pub") -> tuple[int, dict]:
    r = run_cli("verify-attestation", f"{s.addr}/{repo}:v1", "--type", kind, "--key", str(s.keys / key),
                "--allow-insecure-registry", "--output", "json")
    return r.returncode, json.loads(r.stdout) if r.stdout.strip() else {}


def test_sbom_attestation_verifies_and_carries_the_sbom(setup: Setup, tmp_path: Path) -> None:
    image = setup.image("team/sbom")
    out = tmp_path / "bom.json"
    r = run_cli("image", "sbom", image, "--allow-insecure-registry", "--format", "cyclonedx-json", "-o", str(out),
                "--attest", "--key", str(setup.keys / "ci.key"), env=PASSWORD)
    assert r.returncode == 0, r.stderr
    assert f"pushed {tag_for(setup.built.manifest_digest, 'att')}" in r.stderr
    code, doc = _verify_cli(setup, "team/sbom", "cyclonedx")
    assert code == 0 and len(doc["verified"]) == 1 and doc["digest"] == setup.built.manifest_digest
    (stmt,) = doc["statements"]
    assert stmt["predicateType"] == PREDICATE_TYPES["cyclonedx"]
    assert stmt["subject"] == [{"name": f"{setup.addr}/team/sbom",
                                "digest": {"sha256": setup.built.manifest_digest.split(":", 1)[1]}}]
    written = json.loads(out.read_text())
    attested = stmt["predicate"]
    assert attested["bomFormat"] == "CycloneDX"
    assert sorted(c["purl"] for c in attested["components"]) == sorted(c["purl"] for c in written["components"])
    assert any(c["name"] == "libc6" for c in attested["components"])
    # another key does not verify it, and the wrong predicate type is not there
    assert _verify_cli(setup, "team/sbom", "cyclonedx", key="other.pub")[0] == 1
    assert _verify_cli(setup, "team/sbom", "vuln")[0] == 1


def test_spdx_format_attests_spdx(setup: Setup) -> None:
    image = setup.image("team/spdx")
    r = run_cli("image", "sbom", image, "--allow-insecure-registry", "--format", "spdx-json", "--attest", "--key",
                str(setup.keys / "ci.key"), env=PASSWORD)
    assert r.returncode == 0, r.stderr
    out = verify_image_attestations(setup.client, setup.ref("team/spdx"), [read_public_key(setup.keys / "ci.pub")],
                                    predicate_types=[PREDICATE_TYPES["spdx"]])
    (stmt,) = out.statements
    assert stmt.predicate is not None and stmt.predicate["spdxVersion"] == "SPDX-2.3"


def test_scan_attestation_records_the_vulnerabilities(setup: Setup) -> None:
    image = setup.image("team/scan")
    r = run_cli("image", "scan", image, "--allow-insecure-registry", "--db", str(setup.db), "--format", "json",
                "--attest", "--key", str(setup.keys / "ci.key"), env=PASSWORD)
    assert r.returncode == 1, r.stderr  # the image has vulnerabilities; the attestation is pushed all the same
    printed = json.loads(r.stdout)
    out = verify_image_attestations(setup.client, setup.ref("team/scan"), [read_public_key(setup.keys / "ci.pub")],
                                    predicate_types=[PREDICATE_TYPES["vuln"]])
    assert out.digest == setup.built.manifest_digest
    (stmt,) = out.statements
    pred = stmt.predicate
    assert pred is not None
    assert set(pred) == {"invocation", "scanner", "metadata"}
    assert pred["scanner"]["uri"].startswith("pkg:pypi/cloudward@")
    assert pred["metadata"]["scanStartedOn"] <= pred["metadata"]["scanFinishedOn"]
    result = pred["scanner"]["result"]

    def ids(doc: dict) -> set[tuple[str, str]]:
        return {(f["rule_id"], f.get("package", {}).get("name", "")) for f in doc["findings"]}

    assert ids(result) == ids(printed) and any(rule.startswith("CVE-") for rule, _ in ids(result))
    code, doc = _verify_cli(setup, "team/scan", "vuln")
    assert code == 0 and doc["statements"][0]["predicate"]["scanner"]["result"]["summary"] == printed["summary"]


def test_attest_refuses_what_it_cannot_attest_honestly(setup: Setup, tmp_path: Path) -> None:
    image = setup.image("team/refused")
    key = str(setup.keys / "ci.key")
    # no vulnerability database: the scan would claim nothing it checked; refused before anything is pushed
    r = run_cli("image", "scan", image, "--allow-insecure-registry", "--attest", "--key", key, env=PASSWORD,
                cwd=tmp_path)
    assert r.returncode == 2 and "--attest needs vulnerabilities checked" in r.stderr
    with pytest.raises(NotFoundError):
        setup.client.get_artifact_manifest("team/refused", tag_for(setup.built.manifest_digest, "att"))
    with pytest.raises(NotVerifiedError):
        verify_image_attestations(setup.client, setup.ref("team/refused"), [read_public_key(setup.keys / "ci.pub")])
    r = run_cli("image", "sbom", image, "--allow-insecure-registry", "--attest", env=PASSWORD)
    assert r.returncode == 2 and "--attest needs --key" in r.stderr
    r = run_cli("image", "sbom", "oci:/nonexistent:v1", "--attest", "--key", key, env=PASSWORD)
    assert r.returncode == 2 and "not a registry image" in r.stderr
    r = run_cli("image", "sbom", image, "--allow-insecure-registry", "--attest", "--key", key,
                env={"CLOUDWARD_PASSWORD": "wrong"})
    assert r.returncode == 2 and "Traceback" not in r.stderr
