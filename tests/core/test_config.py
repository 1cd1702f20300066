"""The policy file: parsing, validation errors with file:line, exception matching."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cloudward.core.config import find_config, load_config, parse_config
from cloudward.core.errors import ConfigError
from cloudward.core.model import PSSLevel
from cloudward.core.severity import Severity

FULL = """\
fail_on: high
pss: restricted
pss_version: v1.29
inline_suppressions: false
rules:
  disable: [pod.image-digest]
  severity:
    pod.resources-limits: critical
exclude:
  - "charts/*/tests/**"
exceptions:
  - rule: pod.privileged
    kind: DaemonSet
    namespace: kube-system
    name: "cilium*"
    reason: CNI needs host networking privileges
    expires: 2027-01-31
  - rules: ["rbac.*"]
    path: "rbac/**"
    reason: reviewed by security team
"""


def test_full_config_parses() -> None:
    cfg = parse_config(FULL, "c.yaml")
    assert cfg.fail_on is Severity.HIGH
    assert cfg.pss is PSSLevel.RESTRICTED
    assert cfg.pss_version == "v1.29"
    assert cfg.inline_suppressions is False
    assert cfg.disable == {"pod.image-digest"}
    assert dict(cfg.severity) == {"pod.resources-limits": Severity.CRITICAL}
    assert cfg.line_of("pod.resources-limits") == 8
    first, second = cfg.exceptions
    assert first.expires == dt.date(2027, 1, 31) and first.origin == "c.yaml:12"
    assert first.matches("pod.privileged", "DaemonSet", "kube-system", "cilium-agent", "x.yaml", None)
    assert not first.matches("pod.privileged", "DaemonSet", "default", "cilium-agent", "x.yaml", None)
    assert not first.matches("pod.host-path", "DaemonSet", "kube-system", "cilium-agent", "x.yaml", None)
    assert second.matches("rbac.wildcard-verbs", "Role", "a", "b", "rbac/roles.yaml", None)
    assert not second.matches("rbac.wildcard-verbs", "Role", "a", "b", "apps/roles.yaml", None)


def test_expiry_is_inclusive() -> None:
    (exc, _) = parse_config(FULL, "c.yaml").exceptions
    assert not exc.expired(dt.date(2027, 1, 31))
    assert exc.expired(dt.date(2027, 2, 1))


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("fail_on: severe\n", 1, "unknown severity"),
    ("rules:\n  disabel: [x]\n", 2, "unknown key 'disabel'"),
    ("exceptions:\n  - rule: pod.privileged\n", 2, "needs a 'reason'"),
    ("exceptions:\n  - reason: because\n", 2, "needs 'rule'"),
    ("exceptions:\n  - rule: a.b\n    reason: r\n    expires: next week\n", 4, "YYYY-MM-DD"),
    ("pss: strict\n", 1, "not one of"),
    ("inline_suppressions: maybe\n", 1, "true or false"),
    ("rules: [a]\n", 1, "must be a mapping"),
    ("fail_on: [high\n", 2, "invalid YAML"),
    ("pss: baseline\nfail_on: hi\x1agh\n", 2, "is not allowed"),  # a control character: libyaml's reader refuses it
])
def test_invalid_config_names_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(text, "bad.yaml")
    assert e.value.file == "bad.yaml"
    assert e.value.line == line
    assert fragment in str(e.value)
    assert str(e.value).startswith(f"bad.yaml:{line}")


def test_empty_config_is_valid() -> None:
    assert parse_config("", "e.yaml").exceptions == ()


def test_config_is_found_upward_and_excludes_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / ".cloudward.yaml").write_text("exclude: ['charts/*/tests/**', '*.generated.yaml']\n")
    deep = tmp_path / "charts" / "app" / "tests"
    deep.mkdir(parents=True)
    found = find_config(deep)
    assert found == tmp_path / ".cloudward.yaml"
    cfg = load_config(found)
    assert cfg.excluded(deep / "t.yaml")
    assert cfg.excluded(tmp_path / "x" / "a.generated.yaml")
    assert not cfg.excluded(tmp_path / "charts" / "app" / "templates" / "d.yaml")
