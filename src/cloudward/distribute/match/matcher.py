"""Matching packages against the database: distro scoping, source packages, alias merging.

For each package: look up the (ecosystem, release) its advisories are filed
under — Debian 12 advisories never apply to Debian 11 — by its own name and, for
distro packages, by its source package name compared at the *source* version
(a Debian binary ``1:2.38.1-5`` built from source ``2.38.1-5`` must be compared
without the binary's epoch). Matching records that share an id or alias are
merged into one result per package, reported under the CVE id when there is one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cloudward.core.severity import Severity
from cloudward.distribute.match.model import MatchOptions, VulnerabilityMatch
from cloudward.distribute.match.ranges import affects
from cloudward.distribute.match.severity import CvssScore, best_cvss, score, word_severity
from cloudward.distribute.match.vex import VexIndex
from cloudward.distribute.packages import Package
from cloudward.distribute.versions import SCHEMES, InvalidVersion, scheme_for
from cloudward.distribute.vulndb.ecosystems import DISTRO_ECOSYSTEMS, normalize_name, package_scope
from cloudward.distribute.vulndb.model import OPEN_STATUSES, DistroStatus
from cloudward.distribute.vulndb.store import AdvisoryInfo, VulnDB

log = logging.getLogger(__name__)

Warn = Callable[[str], None]


class _Hit:
    __slots__ = ("advisory", "distro_severity", "fixed", "name", "status", "version")

    def __init__(self, advisory: AdvisoryInfo, name: str, version: str, fixed: list[str],
                 status: DistroStatus | None, distro_severity: str | None) -> None:
        self.advisory, self.name, self.version, self.fixed = advisory, name, version, fixed
        self.status, self.distro_severity = status, distro_severity


def match(packages: Iterable[Package], db: VulnDB, options: MatchOptions | None = None,
          vex: VexIndex | None = None, warn: Warn | None = None) -> Iterator[VulnerabilityMatch]:
    """Yield every vulnerability of every package (VEX-suppressed ones marked, not dropped)."""
    options = options or MatchOptions()
    emit = warn or (lambda m: log.warning("%s", m))
    for pkg in packages:
        for m in _match_package(pkg, db, emit):
            if options.ignore_unfixed and not m.fixed_versions:
                continue
            if options.severities is not None and m.severity not in options.severities:
                continue
            if vex is not None:
                m = vex.apply(m)
            yield m


def _match_package(pkg: Package, db: VulnDB, warn: Warn) -> list[VulnerabilityMatch]:
    ecosystem, release = package_scope(pkg.ecosystem, pkg.distro)
    if ecosystem not in SCHEMES:
        return []
    cmp = scheme_for(ecosystem).compare
    lookups: dict[str, str] = {normalize_name(ecosystem, pkg.name): pkg.version}
    if pkg.source_name and ecosystem in DISTRO_ECOSYSTEMS:
        lookups.setdefault(normalize_name(ecosystem, pkg.source_name), pkg.source_version or pkg.version)
    for name, version in list(lookups.items()):
        try:
            cmp(version, version)
        except InvalidVersion as e:
            warn(f"{pkg.purl}: {e}; its vulnerabilities cannot be checked")
            del lookups[name]
    if not lookups:
        return []
    hits: list[_Hit] = []
    for adv_id, entry in db.candidates(ecosystem, release, lookups):
        found = lookups.get(entry.name)
        if found is None:
            continue
        version = found
        if entry.status is DistroStatus.NOT_AFFECTED:
            continue
        fixed: list[str] = []
        if entry.status in OPEN_STATUSES:
            hit = True
        else:
            hit, fixed = affects(version, entry, cmp)
        if not hit:
            continue
        adv = db.advisory(adv_id)
        if adv is None or adv.withdrawn:
            continue
        hits.append(_Hit(adv, entry.name, version, fixed, entry.status, entry.distro_severity))
    return [_merge(pkg, group, db, cmp) for group in _group(hits)]


def _group(hits: list[_Hit]) -> list[list[_Hit]]:
    """Union hits whose advisories share an id or alias."""
    groups: list[tuple[set[str], list[_Hit]]] = []
    for hit in hits:
        ids = {hit.advisory.id, *hit.advisory.aliases}
        joined = [g for g in groups if g[0] & ids]
        merged_ids, merged_hits = set(ids), [hit]
        for g in joined:
            merged_ids |= g[0]
            merged_hits = g[1] + merged_hits
            groups.remove(g)
        groups.append((merged_ids, merged_hits))
    return [g[1] for g in groups]


def _primary(ids: set[str]) -> str:
    cves = sorted(i for i in ids if i.startswith("CVE-"))
    if cves:
        return cves[0]
    return sorted(ids, key=lambda i: (i.startswith(("DEBIAN-", "ALPINE-")), i))[0]


def _merge(pkg: Package, group: list[_Hit], db: VulnDB, cmp: Callable[[str, str], int]) -> VulnerabilityMatch:
    ids: set[str] = set()
    for h in group:
        ids |= {h.advisory.id, *h.advisory.aliases}
    primary = _primary(ids)
    fixed: list[str] = []
    for h in group:
        for f in h.fixed:
            if f not in fixed:
                fixed.append(f)
    fixed.sort(key=_cmp_key(cmp))
    statuses = [h.status for h in group if h.status is not None]
    status = next((s for s in statuses if s is not DistroStatus.FIXED), statuses[0] if statuses else None)
    if fixed and status in OPEN_STATUSES:
        status = DistroStatus.FIXED
    vectors: list[str] = [v for h in group for v in h.advisory.cvss]
    db_word = next((h.advisory.database_severity for h in group if h.advisory.database_severity), None)
    if not vectors:  # borrow scores from other records of the same vulnerability (e.g. the CVE record)
        for rel in db.related(sorted(ids)):
            vectors.extend(rel.cvss)
            db_word = db_word or rel.database_severity
    scores: list[CvssScore] = [s for v in dict.fromkeys(vectors) if (s := score(v)) is not None]
    distro_word = next((h.distro_severity for h in group if h.distro_severity), None)
    severity, source = _severity(distro_word, scores, db_word)
    first = group[0]
    return VulnerabilityMatch(
        vulnerability_id=primary, aliases=tuple(sorted(ids - {primary})), package=pkg, matched_name=first.name,
        matched_version=first.version, fixed_versions=tuple(fixed), severity=severity, severity_source=source,
        cvss=tuple(sorted(scores, key=lambda s: s.version, reverse=True)), distro_severity=distro_word,
        distro_status=status, summary=next((h.advisory.summary for h in group if h.advisory.summary), ""),
        references=tuple(dict.fromkeys(r for h in group for r in h.advisory.references)),
        records=tuple(sorted({h.advisory.id for h in group})))


def _severity(distro_word: str | None, scores: list[CvssScore], db_word: str | None) -> tuple[Severity, str]:
    """The distribution's rating first (it knows its build), then CVSS, then the database's word."""
    distro = word_severity(distro_word)
    if distro is not None:
        return distro, "distro"
    best = best_cvss(scores)
    if best is not None:
        return best.severity, "cvss"
    word = word_severity(db_word)
    if word is not None:
        return word, "database"
    return Severity.MEDIUM, "unknown"


def _cmp_key(cmp: Callable[[str, str], int]) -> Callable[[str], Any]:
    def safe(a: str, b: str) -> int:
        try:
            return cmp(a, b)
        except InvalidVersion:
            return (a > b) - (a < b)

    return functools.cmp_to_key(safe)
