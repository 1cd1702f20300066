"""Every rule has hand-written pass and fail examples; the scanner must agree with them.

A fail file lists each expected finding of its rule as a comment line
``# expect: Kind/namespace/name $.json.path`` (Dockerfiles: ``# expect: line N``).
The expectations are written by hand from the specifications, so this test
pins rule id, resource and path of every finding, not just counts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cloudward.core.rules import PSSVersion, RuleRegistry, Target
from cloudward.core.settings import ScanSettings
from cloudward.develop import scan
from cloudward.rules import builtin_rules

DATA = Path(__file__).resolve().parents[1] / "data" / "rules"
RULES = list(builtin_rules())
_EXPECT = re.compile(r"^\s*#\s*expect:\s*(.+?)\s*$", re.MULTILINE)
_VERSION = re.compile(r"^\s*#\s*pss-version:\s*(\S+)\s*$", re.MULTILINE)


def _examples() -> list[tuple[str, Path]]:
    out = []
    for rule in RULES:
        d = DATA / rule.id
        if d.is_dir():
            out += [(rule.id, f) for f in sorted(d.iterdir()) if f.name.startswith(("pass", "fail"))]
    return out


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_has_pass_and_fail_examples(rule: object) -> None:
    rule_id = getattr(rule, "id")
    d = DATA / rule_id
    names = [f.name for f in d.iterdir()] if d.is_dir() else []
    assert any(n.startswith("fail") for n in names), f"{rule_id}: no fail example in {d}"
    assert any(n.startswith("pass") for n in names), f"{rule_id}: no pass example in {d}"


@pytest.mark.parametrize(("rule_id", "path"), _examples(), ids=lambda v: v if isinstance(v, str) else v.name)
def test_rule_example(rule_id: str, path: Path) -> None:
    rule = next(r for r in RULES if r.id == rule_id)
    text = path.read_text(encoding="utf-8")
    version = _VERSION.search(text)
    settings = ScanSettings(pss_version=PSSVersion.parse(version.group(1)) if version else PSSVersion())
    report = scan([str(path)], settings, RuleRegistry([rule]))
    assert not [p for p in report.problems if p.kind.value in ("input", "rule")], report.problems
    if rule.target in (Target.DOCKERFILE, Target.TEXT):
        got = sorted(f"line {f.location.line}" for f in report.findings)
    else:
        got = sorted(f"{f.resource.display() if f.resource else '?'} {f.location.json_path}" for f in report.findings)
    expected = sorted(_EXPECT.findall(text))
    if path.name.startswith("fail"):
        assert expected, f"{path} is a fail example without '# expect:' lines"
    assert got == expected
