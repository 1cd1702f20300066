"""OSV records (https://ossf.github.io/osv-schema/) into ``Advisory`` values.

We check the parts of the schema the matcher relies on — required fields, the
timestamp pattern, event names, the shape of ``affected`` — rather than running
a JSON-schema validator on every one of several hundred thousand records; a
record that fails is reported with its id and skipped, the rest are imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cloudward.distribute.versions import SCHEMES
from cloudward.distribute.vulndb.ecosystems import normalize_name, split_ecosystem
from cloudward.distribute.vulndb.model import Advisory, Affected, Event, Range

# The OSV schema's own timestamp pattern ($defs/timestamp).
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z")
_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
_RANGE_TYPES = ("ECOSYSTEM", "SEMVER", "GIT")


class RecordError(ValueError):
    """A record that violates the OSV schema; the message names the field."""


class UnknownEcosystem(ValueError):
    """An affected entry in an ecosystem we cannot order versions for."""


def _str(obj: Mapping[str, Any], key: str, where: str, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise RecordError(f"missing required field {where}{key}")
        return None
    if not isinstance(value, str):
        raise RecordError(f"field {where}{key} must be a string")
    return value


def _timestamp(obj: Mapping[str, Any], key: str, required: bool = False) -> str | None:
    value = _str(obj, key, "", required)
    if value is not None and not _TIMESTAMP.search(value):
        raise RecordError(f"field {key} is not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ): {value!r}")
    return value


def _list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"field {where}{key} must be an array")
    return value


def _severity_vectors(items: list[Any], where: str) -> list[str]:
    out = []
    for i, s in enumerate(items):
        if not isinstance(s, dict) or not isinstance(s.get("type"), str) or not isinstance(s.get("score"), str):
            raise RecordError(f"{where}severity[{i}] needs string 'type' and 'score'")
        if s["type"].startswith("CVSS_"):
            out.append(s["score"])
    return out


def _ranges(entry: Mapping[str, Any], where: str) -> tuple[Range, ...]:
    out = []
    for i, r in enumerate(_list(entry, "ranges", where)):
        rw = f"{where}ranges[{i}]."
        if not isinstance(r, dict):
            raise RecordError(f"{rw[:-1]} must be an object")
        rtype = _str(r, "type", rw, required=True)
        if rtype not in _RANGE_TYPES:
            raise RecordError(f"{rw}type must be one of {', '.join(_RANGE_TYPES)}, not {rtype!r}")
        events = []
        for j, e in enumerate(_list(r, "events", rw)):
            if not isinstance(e, dict) or len(e) != 1:
                raise RecordError(f"{rw}events[{j}] must be an object with exactly one of {', '.join(_EVENT_KINDS)}")
            ((kind, version),) = e.items()
            if kind not in _EVENT_KINDS or not isinstance(version, str):
                raise RecordError(f"{rw}events[{j}]: unknown event {kind!r} (use {', '.join(_EVENT_KINDS)})")
            events.append(Event(kind, version))
        if not events:
            raise RecordError(f"{rw}events must not be empty")
        if rtype != "GIT":
            out.append(Range(rtype, tuple(events)))
    return tuple(out)


def _distro_word(items: list[Any]) -> str | None:
    """Ubuntu's own priority, published as ``severity: [{"type": "Ubuntu", "score": "medium"}]``."""
    for s in items:
        if isinstance(s, dict) and s.get("type") == "Ubuntu" and isinstance(s.get("score"), str):
            return str(s["score"])
    return None


#: Id prefixes of distro notices, which list the CVEs they fix in ``related`` (Red Hat, Rocky, Alma,
#: Debian and Ubuntu notices; the OSV ``upstream`` field says the same thing where it is used).
NOTICE_PREFIXES = ("RHSA-", "RHBA-", "RHEA-", "RLSA-", "RLBA-", "RLEA-", "ALSA-", "ALBA-", "ALEA-", "DSA-", "DLA-",
                   "DTSA-", "USN-")


def _covered(rid: str, aliases: tuple[str, ...], upstream: list[str], related: tuple[str, ...]
             ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(aliases, covers): the upstream vulnerabilities of a distro record.

    OSV ``upstream`` names them (``UBUNTU-CVE-2024-6387`` → ``CVE-2024-6387``, ``DLA-3623-1`` → 44
    kernel CVEs); distro notices put their CVEs in ``related`` (``RHSA-2024:6220``). ``related`` of any
    other record means "see also" — a GHSA's incomplete-fix sibling — and is never followed. One
    upstream id is this record's vulnerability: it merges like an alias. Several are covered
    one by one. A record that already carries a CVE id or alias is that CVE's record.
    """
    ups = list(dict.fromkeys(u for u in upstream if u != rid))
    if rid.startswith(NOTICE_PREFIXES):
        ups += [r for r in related if r.startswith("CVE-") and r not in ups]
    ups = [u for u in ups if u not in aliases]
    if not ups or rid.startswith("CVE-") or any(a.startswith("CVE-") for a in aliases):
        return aliases, ()
    if len(ups) == 1:
        return (*aliases, ups[0]), ()
    return aliases, tuple(ups)


def _severity_word(db: Any) -> str | None:
    if isinstance(db, dict) and isinstance(db.get("severity"), str):
        return str(db["severity"])
    return None


def parse_record(data: Any, unknown: dict[str, int] | None = None) -> Advisory:
    """Convert one OSV record; ``RecordError`` if it violates the schema.

    Affected entries in ecosystems without a version scheme are dropped and
    counted in ``unknown`` (ecosystem → entries), so the caller can warn once.
    """
    if not isinstance(data, dict):
        raise RecordError("an OSV record must be a JSON object")
    rid = _str(data, "id", "", required=True)
    assert rid is not None
    if not rid.strip():
        raise RecordError("field id must not be empty")
    modified = _timestamp(data, "modified", required=True)
    assert modified is not None
    published = _timestamp(data, "published")
    withdrawn = _timestamp(data, "withdrawn")
    aliases = tuple(a for a in _list(data, "aliases", "") if isinstance(a, str))
    related = tuple(r for r in _list(data, "related", "") if isinstance(r, str))
    aliases, covers = _covered(rid, aliases, [u for u in _list(data, "upstream", "") if isinstance(u, str)], related)
    cvss = _severity_vectors(_list(data, "severity", ""), "")
    ubuntu_word = _distro_word(_list(data, "severity", ""))
    refs = tuple(r["url"] for r in _list(data, "references", "") if isinstance(r, dict)
                 and isinstance(r.get("url"), str))
    affected: list[Affected] = []
    for i, entry in enumerate(_list(data, "affected", "")):
        where = f"affected[{i}]."
        if not isinstance(entry, dict):
            raise RecordError(f"{where[:-1]} must be an object")
        pkg = entry.get("package")
        if pkg is None:
            continue  # affected entries without a package name only commits (GIT); nothing to match by name
        if not isinstance(pkg, dict):
            raise RecordError(f"{where}package must be an object")
        eco_text = _str(pkg, "ecosystem", f"{where}package.", required=True)
        name = _str(pkg, "name", f"{where}package.", required=True)
        assert eco_text is not None and name is not None
        versions = _list(entry, "versions", where)
        if not all(isinstance(v, str) for v in versions):
            raise RecordError(f"{where}versions must be an array of strings")
        ranges = _ranges(entry, where)
        cvss += _severity_vectors(_list(entry, "severity", where), where)
        base, release = split_ecosystem(eco_text)
        if base not in SCHEMES:
            if unknown is not None:
                unknown[base] = unknown.get(base, 0) + 1
            continue
        eco_specific = entry.get("ecosystem_specific")
        urgency = eco_specific.get("urgency") if isinstance(eco_specific, dict) else None
        if urgency is None and base == "Ubuntu":
            urgency = ubuntu_word
        affected.append(Affected(
            ecosystem=base, release=release, name=normalize_name(base, name), ranges=ranges,
            versions=tuple(versions), distro_severity=urgency if isinstance(urgency, str) else None,
            purl=pkg.get("purl") if isinstance(pkg.get("purl"), str) else None))
    return Advisory(id=rid, modified=modified, aliases=aliases, published=published, withdrawn=withdrawn,
                    summary=str(data.get("summary") or "")[:500], cvss=tuple(dict.fromkeys(cvss)),
                    database_severity=_severity_word(data.get("database_specific")), references=refs,
                    affected=tuple(affected), related=tuple(r for r in related if r not in aliases and r not in covers),
                    covers=covers)
