"""OS detection: os-release first, then alpine-release, debian_version and redhat-release."""

from __future__ import annotations

import re
import shlex
from typing import IO

from cloudward.distribute.image import FileEntry, WalkResult
from cloudward.distribute.packages import Distro

NAME = "os-release"
_PATHS = frozenset({"etc/os-release", "usr/lib/os-release", "etc/alpine-release", "etc/debian_version",
                    "etc/redhat-release", "etc/centos-release", "etc/system-release"})
_RH = re.compile(r"^(?P<name>.+?) release (?P<ver>[\d.]+)")


class OsReleaseAnalyzer:
    name = NAME

    def wants(self, entry: FileEntry) -> bool:
        return entry.path in _PATHS and entry.size < 65536

    def analyze(self, entry: FileEntry, content: IO[bytes]) -> list[str]:
        return [content.read(65536).decode("utf-8", "replace")]


def parse_os_release(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip("\"'")]
        out[key.strip()] = parts[0] if parts else ""
    return out


def detect_distro(result: WalkResult) -> Distro | None:
    """The image's OS, or ``None`` for scratch/distroless images without any release file."""
    for path in ("etc/os-release", "usr/lib/os-release"):
        hit = result.hit_for(NAME, path)
        if hit is not None:
            info = parse_os_release(str(hit.results[0]))
            if info.get("ID"):
                return Distro(info["ID"].lower(), info.get("VERSION_ID", ""), info.get("PRETTY_NAME"),
                              info.get("VERSION_CODENAME") or None)
    hit = result.hit_for(NAME, "etc/alpine-release")
    if hit is not None:
        return Distro("alpine", str(hit.results[0]).strip())
    hit = result.hit_for(NAME, "etc/debian_version")
    if hit is not None:
        version = str(hit.results[0]).strip()
        return Distro("debian", version.split(".")[0] if version[:1].isdigit() else version)
    for path in ("etc/redhat-release", "etc/centos-release", "etc/system-release"):
        hit = result.hit_for(NAME, path)
        if hit is not None:
            m = _RH.match(str(hit.results[0]).strip())
            if m:
                name = m.group("name").lower()
                ident = "centos" if "centos" in name else "rocky" if "rocky" in name else (
                    "almalinux" if "alma" in name else "fedora" if "fedora" in name else "rhel")
                return Distro(ident, m.group("ver").split(".")[0] if ident != "fedora" else m.group("ver"))
    return None
