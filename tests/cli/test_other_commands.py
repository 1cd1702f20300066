"""``cloudward rules list``, ``config show`` and the docs generated from them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cloudward.rules import builtin_rules
from tests.cli.conftest import ROOT, Run


def test_rules_list_json_has_every_rule_with_metadata(cli: Run) -> None:
    r = cli("rules", "list", "--format", "json")
    assert r.returncode == 0
    rules = json.loads(r.stdout)["rules"]
    assert [x["id"] for x in rules] == builtin_rules().ids()
    priv = next(x for x in rules if x["id"] == "pod.privileged")
    assert priv["controls"]["pss"] == {"level": "baseline", "control": "Privileged Containers"}
    assert priv["remediation"] and priv["description"]


def test_docs_rules_md_is_generated_from_the_registry(cli: Run) -> None:
    r = cli("rules", "list", "--format", "markdown")
    assert r.stdout == (ROOT / "docs" / "rules.md").read_text(), "run 'make docs' to regenerate docs/rules.md"


def test_config_show_names_sources(cli: Run, tmp_path: Path) -> None:
    (tmp_path / ".cloudward.yaml").write_text("fail_on: high\n")
    r = cli("config", "show", str(tmp_path), "--pss", "baseline", env={"CLOUDWARD_PSS_VERSION": "v1.29"})
    assert r.returncode == 0, r.stderr
    assert f"config file: {tmp_path / '.cloudward.yaml'}" in r.stdout
    assert re.search(r"^fail_on: high  \[config .*\.cloudward\.yaml\]$", r.stdout, re.M)
    assert "pss: baseline  [flag --pss]" in r.stdout
    assert "pss_version: v1.29  [environment CLOUDWARD_PSS_VERSION]" in r.stdout


def test_cli_reference_matches_help() -> None:
    """docs/cli.md quotes every command's --help; it must not drift from the code (make docs)."""
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gen_cli_doc
    finally:
        sys.path.pop(0)
    assert gen_cli_doc.render() == (ROOT / "docs" / "cli.md").read_text(), "run 'make docs' to regenerate docs/cli.md"


def test_no_command_is_a_usage_error(cli: Run) -> None:
    assert cli().returncode == 2
