"""Run the real ``cloudward`` CLI in a subprocess, as users and CI do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli() -> Run:
    def run(*args: str, stdin: str | None = None, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDWARD_")}
        full_env.update({"COLUMNS": "100", "NO_COLOR": "1", "PYTHONPATH": str(ROOT / "src")})
        full_env.update(env or {})
        return subprocess.run([sys.executable, "-m", "cloudward", *args], input=stdin, capture_output=True,
                              text=True, cwd=cwd or ROOT, env=full_env, timeout=120)

    return run
