"""One frozen Settings object, built at the edge: flag > environment > config file > default.

The core never reads the environment: the CLI calls ``resolve_scan_settings``
with the parsed flags, ``os.environ`` and the config file, and passes the result
down. Every value remembers where it came from, for ``cloudward config show``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from cloudward.core.config import Config, Exception_
from cloudward.core.errors import ConfigError
from cloudward.core.model import PSSLevel
from cloudward.core.rules import PSSVersion
from cloudward.core.severity import Severity

ENV_PREFIX = "CLOUDWARD_"
DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class ScanSettings:
    """Everything a scan run needs besides its inputs."""

    fail_on: Severity = Severity.LOW
    pss: PSSLevel | None = None
    pss_version: PSSVersion = PSSVersion()
    inline_suppressions: bool = True
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    jobs: int = 0  # worker processes; 0 = one per core for large scans
    config: Config = Config()
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def exceptions(self) -> tuple[Exception_, ...]:
        return self.config.exceptions


def _bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not a boolean; use true or false")


def _size(text: str) -> int:
    t = text.strip().lower()
    for suffix, mult in (("kib", 1024), ("mib", 1024**2), ("gib", 1024**3), ("k", 1024), ("m", 1024**2),
                         ("g", 1024**3)):
        if t.endswith(suffix):
            return int(float(t[: -len(suffix)]) * mult)
    value = int(t)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _pss(text: str) -> PSSLevel:
    try:
        return PSSLevel(text.strip().lower())
    except ValueError:
        raise ValueError(f"{text!r} is not a Pod Security Standards level; use baseline or restricted") from None


def _jobs(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 (automatic) or a positive number of processes")
    return value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "jobs": _jobs,
    "fail_on": Severity.parse,
    "pss": _pss,
    "pss_version": PSSVersion.parse,
    "inline_suppressions": _bool,
    "max_file_size": _size,
}


def resolve_scan_settings(flags: Mapping[str, Any], env: Mapping[str, str], config: Config) -> ScanSettings:
    """Merge the layers; ``flags`` holds only options the user actually gave (as text or typed values)."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, parse in _PARSERS.items():
        flag = flags.get(name)
        env_name = ENV_PREFIX + name.upper()
        from_config = getattr(config, name, None)
        try:
            if flag is not None:
                values[name] = parse(flag) if isinstance(flag, str) else flag
                sources[name] = "flag --" + name.replace("_", "-")
            elif env.get(env_name):
                values[name] = parse(env[env_name])
                sources[name] = f"environment {env_name}"
            elif from_config is not None:
                values[name] = parse(from_config) if isinstance(from_config, str) else from_config
                sources[name] = f"config {config.source}"
            else:
                sources[name] = "default"
        except ValueError as e:
            where = sources.get(name) or (f"flag --{name.replace('_', '-')}" if flag is not None else
                                          f"environment {env_name}" if env.get(env_name) else
                                          f"config {config.source}")
            raise ConfigError(f"invalid {name.replace('_', '-')} from {where}: {e}") from None
    return ScanSettings(config=config, sources=sources, **values)
