"""The built-in pack: at least 30 rules, each tagged with ATT&CK techniques, each with a hit and a near miss."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cloudward.runtime import detect, load_rules_args
from tests.runtime.conftest import build_event, load_cases

CASES = load_cases()
_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")


@pytest.fixture(scope="module")
def ruleset() -> Any:
    return load_rules_args([])


def test_pack_size_and_attack_tags(ruleset: Any) -> None:
    assert len(ruleset.rules) >= 30
    for r in ruleset.rules:
        techniques = [t for t in r.definition.tags if _TECHNIQUE.match(t)]
        assert techniques, f"{r.name} has no ATT&CK technique tag"
        assert r.definition.desc


def test_every_rule_has_cases(ruleset: Any) -> None:
    assert {c["rule"] for c in CASES} == {r.name for r in ruleset.rules}


@pytest.mark.parametrize("case", CASES, ids=[c["rule"] for c in CASES])
def test_hit_fires_and_near_miss_does_not(ruleset: Any, case: dict[str, Any]) -> None:
    hit = [a.rule for a in detect([build_event(case["hit"])], ruleset)]
    miss = [a.rule for a in detect([build_event(case["miss"])], ruleset)]
    assert case["rule"] in hit
    assert case["rule"] not in miss


def test_builtin_can_be_combined_with_falco_rules(falco_k8s_rules: Any) -> None:
    rs = load_rules_args(["builtin", str(falco_k8s_rules)])
    names = {r.name for r in rs.rules}
    assert "Exec Into Pod" in names and "Attach/Exec Pod" in names
