"""``cloudward scan`` end to end: inputs, formats, exit codes, and errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import ROOT, Run

EXAMPLES = ROOT / "examples"

PRIVILEGED_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            privileged: true
"""

CLEAN_SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: prod\nspec:\n  type: ClusterIP\n"


def _findings(stdout: str) -> list[dict[str, object]]:
    data = json.loads(stdout)
    assert isinstance(data["findings"], list)
    return data["findings"]


def test_examples_json_report_pins_the_privileged_container(cli: Run) -> None:
    r = cli("scan", "examples", "--format", "json")
    assert r.returncode == 1, r.stderr
    findings = _findings(r.stdout)
    priv = [f for f in findings if f["rule_id"] == "pod.privileged"]
    assert priv == [f for f in priv if f["file"] == "examples/k8s/shop-frontend.yaml"]
    assert len(priv) == 1
    assert priv[0]["line"] == 38
    assert priv[0]["json_path"] == "$.spec.template.spec.containers[0].securityContext.privileged"
    assert priv[0]["resource"] == {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
                                   "name": "frontend"}
    assert priv[0]["suppressed"] is False
    assert priv[0]["controls"]["pss"]["level"] == "baseline"
    # the config file in examples/ accepts one finding with a reason: reported, but suppressed
    secrets = [(f["resource"]["name"], f["suppressed"]) for f in findings if f["rule_id"] == "rbac.secrets-read"]
    assert secrets == [("ci-deployer", False), ("debugger", True)]
    # the Dockerfile's final stage has no USER: reported at its FROM line
    user = [f for f in findings if f["rule_id"] == "dockerfile.user-root"]
    assert [(f["file"], f["line"]) for f in user] == [("examples/docker/Dockerfile", 9)]


def test_hardened_example_passes_restricted(cli: Run) -> None:
    r = cli("scan", "examples/k8s/payments-hardened.yaml", "--pss", "restricted", "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _findings(r.stdout) == []


def test_stdin_like_helm_template_output(cli: Run) -> None:
    r = cli("scan", "-", "--format", "json", "--pss", "baseline", stdin=PRIVILEGED_DEPLOYMENT)
    assert r.returncode == 1
    (f,) = _findings(r.stdout)
    assert (f["rule_id"], f["file"], f["line"]) == ("pod.privileged", "<stdin>", 13)


def test_stdin_dockerfile_is_recognised(cli: Run) -> None:
    r = cli("scan", "-", "--format", "json", stdin="# build\nFROM alpine:3.20\nRUN apk add curl\n")
    assert any(f["rule_id"] == "dockerfile.user-root" for f in _findings(r.stdout))


def test_exit_codes(cli: Run, tmp_path: Path) -> None:
    clean = tmp_path / "clean.yaml"
    clean.write_text(CLEAN_SERVICE)
    bad = tmp_path / "bad.yaml"
    bad.write_text(PRIVILEGED_DEPLOYMENT)
    assert cli("scan", str(clean), "--fail-on", "info").returncode == 0
    assert cli("scan", str(bad), "--pss", "baseline").returncode == 1
    assert cli("scan", str(bad), "--pss", "baseline", "--fail-on", "critical").returncode == 1  # privileged = critical
    assert cli("scan", str(bad), "--pss", "restricted", "--fail-on", "critical",
               env={"CLOUDWARD_FAIL_ON": "low"}).returncode == 1
    assert cli("scan", "--bogus-flag").returncode == 2
    assert cli("scan", str(tmp_path / "missing.yaml")).returncode == 2


def test_malformed_input_is_one_line_error_and_rest_still_scanned(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "a-broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n")
    (tmp_path / "b-good.yaml").write_text(PRIVILEGED_DEPLOYMENT)
    (tmp_path / "c-binary.yaml").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "d-latin1.yaml").write_bytes(b"kind: ConfigMap\ndata:\n  a: caf\xe9\n")
    r = cli("scan", str(tmp_path), "--format", "json")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("cloudward: error:")]
    assert len(errors) == 2
    assert errors[0].startswith(f"cloudward: error: {tmp_path / 'a-broken.yaml'}:5:")
    assert "d-latin1.yaml:3: not UTF-8" in errors[1]
    assert any(f["rule_id"] == "pod.privileged" for f in _findings(r.stdout))


def test_output_file_is_written_and_reports_parse(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    r = cli("scan", "examples", "--format", "sarif", "--output", str(out))
    assert r.returncode == 1 and r.stdout == ""
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0"
    assert cli("scan", "examples", "--output", str(tmp_path / "no" / "dir" / "r.json")).returncode == 2


def test_invalid_config_is_an_input_error_with_line(cli: Run, tmp_path: Path) -> None:
    cfg = tmp_path / ".cloudward.yaml"
    cfg.write_text("rules:\n  disable:\n    - pod.no-such-rule\n")
    (tmp_path / "m.yaml").write_text(CLEAN_SERVICE)
    r = cli("scan", str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.strip() == (f"cloudward: error: {cfg}:3: unknown rule id 'pod.no-such-rule' in rules.disable; "
                                "see 'cloudward rules list'")


def test_no_inline_suppressions_flag(cli: Run, tmp_path: Path) -> None:
    text = PRIVILEGED_DEPLOYMENT.replace("  namespace: prod\n", "  namespace: prod\n  annotations:\n"
                                         "    cloudward.io/ignore: pod.privileged\n")
    f = tmp_path / "s.yaml"
    f.write_text(text)
    priv = [x for x in _findings(cli("scan", str(f), "--format", "json", "--pss", "baseline").stdout)]
    assert [x["suppressed"] for x in priv] == [True]
    r = cli("scan", str(f), "--format", "json", "--pss", "baseline", "--no-inline-suppressions")
    assert [x["suppressed"] for x in _findings(r.stdout)] == [False]
    assert r.returncode == 1


def test_table_output_is_readable(cli: Run) -> None:
    r = cli("scan", "examples/k8s/shop-frontend.yaml")
    assert r.returncode == 1
    assert "examples/k8s/shop-frontend.yaml" in r.stdout
    assert "pod.privileged" in r.stdout and "Deployment/shop/frontend" in r.stdout
    assert "\x1b[" not in r.stdout  # NO_COLOR and not a terminal


def test_table_does_not_repeat_the_file_as_dockerfile_resource(cli: Run) -> None:
    r = cli("scan", "examples/docker/Dockerfile")
    rows = [line for line in r.stdout.splitlines() if "dockerfile.user-root" in line]
    assert len(rows) == 1
    assert rows[0].split()[:4] == ["9", "HIGH", "dockerfile.user-root", "Dockerfile"]


def test_a_50_mb_manifest_is_scanned_in_bounded_memory(tmp_path: Path) -> None:
    """A 50 MB stream of dashboard ConfigMaps: memory stays far below the input's expanded size."""
    import os
    import subprocess
    import sys

    panels = ",".join(f'{{"id": {i}, "title": "panel {i}"}}' for i in range(2000))
    doc = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dash-{n}\n  namespace: monitoring\n"
           "data:\n  dashboard.json: '{{\"panels\": [" + panels.replace("{", "{{").replace("}", "}}") + "]}}'\n---\n")
    big = tmp_path / "big.yaml"
    with big.open("w") as fh:
        n = 0
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(doc.format(n=n))
            n += 1
    proc = subprocess.Popen([sys.executable, "-m", "cloudward", "scan", str(big), "--format", "json", "--output",
                             str(tmp_path / "r.json")], env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["resources_scanned"] == n
    assert usage.ru_maxrss < 400 * 1024, f"peak RSS {usage.ru_maxrss // 1024} MB"
