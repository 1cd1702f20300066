"""Go module version ordering: semantic versions with ``v``, pseudo-versions, ``+incompatible``.

Pseudo-versions (``v0.0.0-20191109021931-daa7c04131f5``,
``v1.2.4-0.20191109021931-daa7c04131f5``) are pre-releases by construction and
order correctly under SemVer; ``+incompatible`` is build metadata and does not
change the order. Toolchain versions (``go1.21rc2``, ``go1.22``) of the standard
library are mapped onto SemVer as the Go vulnerability database writes them.
"""

from __future__ import annotations

import functools
import re

from cloudward.distribute.versions import semver

name = "go"

_TOOLCHAIN = re.compile(r"^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta)(\d+))?$")


@functools.lru_cache(maxsize=65536)
def normalize(version: str) -> str:
    """Map ``go1.21rc2`` to ``1.21.0-rc.2`` and strip a leading ``v``; other versions are kept."""
    v = version.strip()
    m = _TOOLCHAIN.match(v)
    if m:
        major, minor, patch, kind, num = m.groups()
        out = f"{major}.{minor or 0}.{patch or 0}"
        return f"{out}-{kind}.{num}" if kind else out
    return v[1:] if v.startswith("v") else v


def compare(a: str, b: str) -> int:
    ka, kb = semver.parse(normalize(a)), semver.parse(normalize(b))
    return (ka > kb) - (ka < kb)
