"""The Debian security tracker's JSON export (security-tracker.debian.org/tracker/data/json).

Shape: source package → CVE (or TEMP-) id → ``releases`` → codename →
``{status, fixed_version, urgency, nodsa, nodsa_reason}``. Each id becomes one
``DEBIAN-<id>`` advisory (the id osv.dev uses for the same data) aliased to the
CVE, with one affected entry per (release, source package). The tracker's
verdicts are kept: ``fixed_version: "0"`` means not affected (stored, never
matched); an open entry is unfixed, no-dsa, postponed, ignored or end-of-life.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from cloudward.distribute.vulndb.ecosystems import DEBIAN_CODENAMES
from cloudward.distribute.vulndb.model import Advisory, Affected, DistroStatus, Event, Range

log = logging.getLogger(__name__)


def looks_like_tracker(data: Any) -> bool:
    """True for the tracker export: packages mapping to ids mapping to objects with ``releases``."""
    if not isinstance(data, dict) or not data:
        return False
    for _pkg, entries in list(data.items())[:5]:
        if not isinstance(entries, dict):
            return False
        for vid, body in list(entries.items())[:3]:
            if not isinstance(body, dict) or "releases" not in body or not isinstance(vid, str):
                return False
    return True


def _status(rel: dict[str, Any]) -> tuple[DistroStatus, str | None]:
    status = rel.get("status")
    fixed = rel.get("fixed_version")
    urgency = str(rel.get("urgency") or "")
    if status == "resolved":
        if fixed == "0":
            return DistroStatus.NOT_AFFECTED, None
        if isinstance(fixed, str) and fixed:
            return DistroStatus.FIXED, fixed
        return DistroStatus.NOT_AFFECTED, None
    if status == "undetermined":
        return DistroStatus.UNDETERMINED, None
    reason = str(rel.get("nodsa_reason") or "")
    if reason == "postponed":
        return DistroStatus.POSTPONED, None
    if reason == "ignored":
        return DistroStatus.IGNORED, None
    if rel.get("nodsa"):
        return DistroStatus.NO_DSA, None
    if urgency.startswith("end-of-life"):
        return DistroStatus.END_OF_LIFE, None
    return DistroStatus.UNFIXED, None


def _urgency(rel: dict[str, Any]) -> str | None:
    text = str(rel.get("urgency") or "").rstrip("*").strip()
    return None if text in ("", "not yet assigned", "end-of-life") else text


def convert(data: dict[str, Any], modified: str) -> Iterator[Advisory]:
    """Yield one partial advisory per tracker id; ``modified`` is the import time (the export has none)."""
    by_id: dict[str, list[Affected]] = {}
    descriptions: dict[str, str] = {}
    for package, entries in data.items():
        if not isinstance(entries, dict):
            continue
        for vid, body in entries.items():
            if not isinstance(body, dict):
                continue
            releases = body.get("releases")
            if not isinstance(releases, dict):
                continue
            if isinstance(body.get("description"), str):
                descriptions.setdefault(vid, body["description"])
            for codename, rel in releases.items():
                if not isinstance(rel, dict):
                    continue
                release = DEBIAN_CODENAMES.get(codename)
                if release is None:
                    log.debug("unknown Debian codename %r in %s/%s", codename, package, vid)
                    release = codename
                status, fixed = _status(rel)
                # not-affected verdicts are stored too: they never match, but they are this CVE's precise
                # record for the package, so a DLA listing the CVE cannot report it (see match/matcher.py)
                ranges: tuple[Range, ...] = ()
                if fixed is not None:
                    ranges = (Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", fixed))),)
                by_id.setdefault(vid, []).append(Affected(
                    ecosystem="Debian", release=release, name=package, ranges=ranges,
                    status=status, distro_severity=_urgency(rel)))
    for vid, affected in by_id.items():
        aliases = (vid,) if vid.startswith("CVE-") else ()
        yield Advisory(id=f"DEBIAN-{vid}", modified=modified, aliases=aliases, summary=descriptions.get(vid, "")[:500],
                       references=(f"https://security-tracker.debian.org/tracker/{vid}",),
                       affected=tuple(affected), partial=True)
