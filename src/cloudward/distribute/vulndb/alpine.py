"""Alpine secdb JSON (secdb.alpinelinux.org/v3.19/main.json).

Shape: ``{"distroversion": "v3.19", "packages": [{"pkg": {"name", "secfixes":
{fixed_version: [ids]}}}]}``. Names are origin (source) packages. A fix version
of ``0`` means the release was never affected. When an id is listed under
several versions, the lowest is the fix (later entries repeat it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cloudward.distribute.versions import InvalidVersion, apk
from cloudward.distribute.vulndb.ecosystems import normalize_release
from cloudward.distribute.vulndb.model import Advisory, Affected, DistroStatus, Event, Range

_ID = re.compile(r"^[A-Z][A-Z0-9]*-[0-9][0-9A-Za-z-]*$")


def looks_like_secdb(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("packages"), list) and "distroversion" in data


def convert(data: dict[str, Any], modified: str) -> Iterator[Advisory]:
    release = normalize_release("Alpine", str(data.get("distroversion") or ""))
    fixes: dict[tuple[str, str], str] = {}
    for item in data.get("packages") or []:
        pkg = item.get("pkg") if isinstance(item, dict) else None
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        secfixes = pkg.get("secfixes")
        if not isinstance(secfixes, dict):
            continue
        for version, ids in secfixes.items():
            if not isinstance(ids, list):
                continue
            for text in ids:
                for vid in str(text).split():
                    if not _ID.match(vid):
                        continue
                    key = (vid, pkg["name"])
                    old = fixes.get(key)
                    if old is None or _lower(str(version), old):
                        fixes[key] = str(version)
    by_id: dict[str, list[Affected]] = {}
    for (vid, name), version in fixes.items():
        if version == "0":  # never affected in this release: stored as that verdict, never matched
            entry = Affected(ecosystem="Alpine", release=release, name=name, status=DistroStatus.NOT_AFFECTED)
        else:
            rng = Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", version)))
            entry = Affected(ecosystem="Alpine", release=release, name=name, ranges=(rng,), status=DistroStatus.FIXED)
        by_id.setdefault(vid, []).append(entry)
    for vid, affected in by_id.items():
        yield Advisory(id=f"ALPINE-{vid}", modified=modified, aliases=(vid,) if vid.startswith("CVE-") else (),
                       references=(f"https://security.alpinelinux.org/vuln/{vid}",), affected=tuple(affected),
                       partial=True)


def _lower(a: str, b: str) -> bool:
    if a == "0" or b == "0":
        return a == "0"
    try:
        return apk.compare(a, b) < 0
    except InvalidVersion:
        return False
