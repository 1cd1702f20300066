"""JSON and YAML nested thousands of levels deep, wherever a command reads input it does not control.

The standard library's JSON decoder raises ``RecursionError`` at such depths, which
no ``except ValueError`` catches (``cloudward.core.jsonsafe`` turns it into a
``JSONDecodeError``); libyaml's composer segfaults (``cloudward.core.yamlsafe``
refuses the nesting first). Each case runs the real CLI in a subprocess, so a
crash is a failed assertion here rather than a crashed test run: one line, exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudward.core import jsonsafe
from tests.cli.conftest import Run

DEEP = "[" * 20000 + "]" * 20000


def test_jsonsafe_turns_deep_nesting_into_a_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        jsonsafe.loads(DEEP)
    with pytest.raises(json.JSONDecodeError):  # ordinary bad JSON is unchanged
        jsonsafe.loads('{"a": }')
    assert jsonsafe.loads(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


def _no_traceback(r: object) -> str:
    err: str = getattr(r, "stderr")
    assert "Traceback" not in err and "RecursionError" not in err, err
    return err


def test_sbom_vex_and_db_import(cli: Run, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    r = cli("sbom", "scan", str(deep), "--db", str(tmp_path / "none.db"))
    assert r.returncode == 2 and "nested too deeply" in _no_traceback(r) and str(deep) in r.stderr
    r = cli("db", "import", str(deep), "--db", str(tmp_path / "v.db"))
    assert r.returncode == 2 and "nested too deeply" in _no_traceback(r)
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}))
    r = cli("sbom", "scan", str(bom), "--vex", str(deep), "--db", str(tmp_path / "none.db"))
    assert r.returncode == 2 and "nested too deeply" in _no_traceback(r)


def test_manifest_dockerfile_and_audit_log(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN " + DEEP + "\nUSER app\n")
    r = cli("scan", str(tmp_path / "deep.json"), str(tmp_path / "Dockerfile"), "--format", "json")
    _no_traceback(r)
    assert r.returncode in (1, 2), r.stderr  # the manifest is an input problem; the Dockerfile is still scanned
    report = json.loads(r.stdout)
    assert any(p["file"] == str(tmp_path / "deep.json") for p in report["problems"])
    (tmp_path / "audit.log").write_text(DEEP + "\n")
    r = cli("detect", "audit", str(tmp_path / "audit.log"), "--format", "json")
    _no_traceback(r)
    assert "skipped: not a JSON object" in r.stderr + r.stdout


def test_image_layout_and_registry_auth_file(cli: Run, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    layout.mkdir()
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(DEEP)
    r = cli("image", "sbom", f"oci:{layout}")
    assert r.returncode == 2 and "nested too deeply" in _no_traceback(r) and r.stderr.count("\n") == 1
    auth = tmp_path / "auth.json"
    auth.write_text('{"auths": ' + DEEP + "}")
    r = cli("image", "sbom", "docker://127.0.0.1:1/app:1", env={"REGISTRY_AUTH_FILE": str(auth)})
    assert r.returncode == 2 and "nested too deeply" in _no_traceback(r) and str(auth) in r.stderr


DEEP_YAML = "x: " + "[" * 200000 + "]" * 200000 + "\n"
POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: x}]}\n"


def test_deep_yaml_config_rules_and_policy_files(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / ".cloudward.yaml").write_text("exceptions: " + DEEP_YAML[3:])
    r = cli("scan", str(tmp_path / "pod.yaml"), cwd=tmp_path)
    assert r.returncode == 2 and "nested deeper than 500 levels" in _no_traceback(r)
    assert f"{tmp_path / '.cloudward.yaml'}:1" in r.stderr
    (tmp_path / ".cloudward.yaml").unlink()
    (tmp_path / "rules.yaml").write_text("- " + DEEP_YAML)
    (tmp_path / "audit.log").write_text("")
    r = cli("detect", "audit", str(tmp_path / "audit.log"), "--rules", str(tmp_path / "rules.yaml"))
    assert r.returncode == 2 and "nested deeper than 500 levels" in _no_traceback(r)
    (tmp_path / "policy.yaml").write_text("version: 1\npolicies: " + DEEP_YAML[3:])
    r = cli("verify", "127.0.0.1:1/app:1", "--policy", str(tmp_path / "policy.yaml"))
    assert r.returncode == 2 and "nested deeper than 500 levels" in _no_traceback(r)


def test_alias_bombs_in_config_and_rules(cli: Run, tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / ".cloudward.yaml").write_text(bomb)
    r = cli("scan", str(tmp_path / "pod.yaml"), cwd=tmp_path)
    assert r.returncode == 2 and "alias bomb" in _no_traceback(r)
