"""Settings precedence: flag > environment > config file > default, with provenance."""

from __future__ import annotations

import pytest

from cloudward.core.config import parse_config
from cloudward.core.errors import ConfigError
from cloudward.core.model import PSSLevel
from cloudward.core.rules import PSSVersion
from cloudward.core.settings import DEFAULT_MAX_FILE_SIZE, resolve_scan_settings
from cloudward.core.severity import Severity

CFG = parse_config("fail_on: medium\npss: baseline\nmax_file_size: 1000\n", "cfg.yaml")


def test_defaults() -> None:
    s = resolve_scan_settings({}, {}, parse_config("", "e.yaml"))
    assert s.fail_on is Severity.LOW and s.pss is None and s.pss_version == PSSVersion()
    assert s.max_file_size == DEFAULT_MAX_FILE_SIZE and s.inline_suppressions is True
    assert s.sources["fail_on"] == "default"


def test_precedence_flag_env_config() -> None:
    s = resolve_scan_settings({"fail_on": "critical"}, {"CLOUDWARD_FAIL_ON": "high", "CLOUDWARD_PSS": "restricted"},
                              CFG)
    assert s.fail_on is Severity.CRITICAL and s.sources["fail_on"] == "flag --fail-on"
    assert s.pss is PSSLevel.RESTRICTED and s.sources["pss"] == "environment CLOUDWARD_PSS"
    assert s.max_file_size == 1000 and s.sources["max_file_size"] == "config cfg.yaml"


def test_sizes_accept_units() -> None:
    assert resolve_scan_settings({"max_file_size": "2MiB"}, {}, CFG).max_file_size == 2 * 1024 * 1024


@pytest.mark.parametrize(("flags", "env", "fragment"), [
    ({"fail_on": "bad"}, {}, "flag --fail-on"),
    ({}, {"CLOUDWARD_PSS_VERSION": "1.30"}, r"environment CLOUDWARD_PSS_VERSION"),
    ({"pss": "strict"}, {}, "baseline or restricted"),
])
def test_invalid_values_name_their_source(flags: dict[str, str], env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        resolve_scan_settings(flags, env, CFG)


def test_pss_version_parsing() -> None:
    assert PSSVersion.parse("v1.25").at_least(25) and not PSSVersion.parse("v1.24").at_least(25)
    assert PSSVersion.parse("latest").at_least(99)
    with pytest.raises(ValueError, match=r"v1\.N"):
        PSSVersion.parse("1.25")
