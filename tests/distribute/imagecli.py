"""Run ``cloudward image …`` in a subprocess as users do, until the lead registers it in cli/main.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_RUNNER = (
    "import sys\n"
    "import cloudward.cli.main as m\n"
    "from cloudward.cli import image_cmd\n"
    "if not hasattr(m, 'image_cmd'):\n"
    "    orig = m.config_cmd.add_parser\n"
    "    class _Both:\n"
    "        @staticmethod\n"
    "        def add_parser(sub):\n"
    "            orig(sub)\n"
    "            image_cmd.add_parser(sub)\n"
    "    m.config_cmd = _Both\n"
    "sys.exit(m.main(sys.argv[1:]))\n"
)


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDWARD_", "REGISTRY_AUTH"))}
    # The default vulnerability database ($XDG_CACHE_HOME/cloudward/vuln.db) never comes from the developer's machine.
    full.update({"NO_COLOR": "1", "PYTHONPATH": str(ROOT / "src"), "HOME": str(cwd or ROOT),
                 "XDG_CACHE_HOME": str(Path(cwd or ROOT) / ".no-such-cache")})
    full.update(env or {})
    return subprocess.run([sys.executable, "-c", _RUNNER, *args], capture_output=True, text=True, env=full,
                          cwd=cwd or ROOT, timeout=300)
