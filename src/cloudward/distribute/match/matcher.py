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
from cloudward.distribute.vulndb.model import OPEN_STATUSES, Affected, DistroStatus
from cloudward.distribute.vulndb.store import AdvisoryInfo, VulnDB

log = logging.getLogger(__name__)

Warn = Callable[[str], None]


class _Hit:
    __slots__ = ("advisory", "distro_severity", "fixed", "name", "status", "version")

    def __init__(self, advisory: AdvisoryInfo, name: str, version: str, fixed: list[str],
                 status: DistroStatus | None, distro_severity: str | None) -> None:
        self.advisory, self.name, self.version, self.fixed = advisory, name, version, fixed
        self.status, self.distro_severity = status, distro_severity


class _Plan:
    """What to look up for one package: its (ecosystem, release) and name → version to compare at.

    ``key`` is everything the result depends on but the package itself: packages with
    equal keys have the same vulnerabilities.
    """

    __slots__ = ("cmp", "ecosystem", "key", "lookups", "package", "release")

    def __init__(self, package: Package, ecosystem: str, release: str, lookups: dict[str, str],
                 cmp: Callable[[str, str], int]) -> None:
        self.package, self.ecosystem, self.release, self.lookups, self.cmp = package, ecosystem, release, lookups, cmp
        self.key = (ecosystem, release, *sorted(lookups.items()))


def match(packages: Iterable[Package], db: VulnDB, options: MatchOptions | None = None,
          vex: VexIndex | None = None, warn: Warn | None = None) -> Iterator[VulnerabilityMatch]:
    """Yield every vulnerability of every package (VEX-suppressed ones marked, not dropped).

    The database is read in batches — one indexed query per (ecosystem, release)
    for every package name in it, one for the records that lend severities to
    matches without their own — rather than per package. Packages that compare
    the same names at the same versions (one library vendored in many places of
    an image) are matched once. Results come in package order.
    """
    options = options or MatchOptions()
    emit = warn or (lambda m: log.warning("%s", m))
    plans = [plan for pkg in packages if (plan := _plan(pkg, emit)) is not None]
    wanted: dict[tuple[str, str], set[str]] = {}
    for plan in plans:
        wanted.setdefault((plan.ecosystem, plan.release), set()).update(plan.lookups)
    found = {scope: db.candidates_by_name(scope[0], scope[1], names) for scope, names in wanted.items()}
    by_key: dict[tuple[object, ...], list[list[_Hit]]] = {}
    for plan in plans:
        if plan.key not in by_key:
            by_key[plan.key] = _group(_hits(plan, found[(plan.ecosystem, plan.release)]))
    borrow = {i for groups in by_key.values() for group in groups
              if not any(h.advisory.cvss for h in group) for i in _ids(group)}
    lenders = db.related_many(borrow) if borrow else {}
    merged: dict[tuple[object, ...], list[_Merged]] = {}
    for plan in plans:
        results = merged.get(plan.key)
        if results is None:
            results = merged[plan.key] = [_merge(group, lenders, plan.cmp) for group in by_key[plan.key]]
        for r in results:
            if options.ignore_unfixed and not r.fixed_versions:
                continue
            if options.severities is not None and r.severity not in options.severities:
                continue
            m = r.for_package(plan.package)
            if vex is not None:
                m = vex.apply(m)
            yield m


def _plan(pkg: Package, warn: Warn) -> _Plan | None:
    ecosystem, release = package_scope(pkg.ecosystem, pkg.distro)
    if ecosystem not in SCHEMES:
        return None
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
    return _Plan(pkg, ecosystem, release, lookups, cmp) if lookups else None


def _hits(plan: _Plan, found: dict[str, list[tuple[AdvisoryInfo, Affected]]]) -> list[_Hit]:
    hits: list[_Hit] = []
    for name in sorted(plan.lookups):
        version = plan.lookups[name]
        for adv, entry in found.get(name, ()):
            if entry.status is DistroStatus.NOT_AFFECTED:
                continue
            fixed: list[str] = []
            if entry.status in OPEN_STATUSES:
                hit = True
            else:
                hit, fixed = affects(version, entry, plan.cmp)
            if hit:
                hits.append(_Hit(adv, name, version, fixed, entry.status, entry.distro_severity))
    return hits


def _ids(group: list[_Hit]) -> set[str]:
    ids: set[str] = set()
    for h in group:
        ids.add(h.advisory.id)
        ids.update(h.advisory.aliases)
    return ids


class _Group:
    __slots__ = ("hits", "ids", "seq")

    def __init__(self, ids: set[str], hits: list[_Hit], seq: int) -> None:
        self.ids, self.hits, self.seq = ids, hits, seq


def _group(hits: list[_Hit]) -> list[list[_Hit]]:
    """Union hits whose advisories share an id or alias.

    A hit that joins groups makes one group of them all, placed last (its hits
    after theirs); ``owner`` maps each id to its live group, so joining is a
    dictionary look-up per id rather than a scan of every group.
    """
    owner: dict[str, _Group] = {}
    live: dict[int, _Group] = {}  # by seq: insertion order = the order groups were last formed
    for seq, hit in enumerate(hits):
        ids = {hit.advisory.id, *hit.advisory.aliases}
        group = _Group(ids, [hit], seq)
        joined = {g.seq: g for i in ids if (g := owner.get(i)) is not None}
        for key in sorted(joined):
            old = live.pop(key)
            group.ids |= old.ids
            group.hits = old.hits + group.hits
        live[seq] = group
        for i in group.ids:
            owner[i] = group
    return [g.hits for g in live.values()]


def _primary(ids: set[str]) -> str:
    cves = [i for i in ids if i.startswith("CVE-")]
    if cves:
        return min(cves)
    return min(ids, key=lambda i: (i.startswith(("DEBIAN-", "ALPINE-")), i))


class _Merged:
    """One merged vulnerability, before it is attached to the package(s) it was found in."""

    __slots__ = ("aliases", "cvss", "distro_severity", "distro_status", "fixed_versions", "matched_name",
                 "matched_version", "records", "references", "severity", "severity_source", "summary",
                 "vulnerability_id")

    def __init__(self, vulnerability_id: str, aliases: tuple[str, ...], matched_name: str, matched_version: str,
                 fixed_versions: tuple[str, ...], severity: Severity, severity_source: str,
                 cvss: tuple[CvssScore, ...], distro_severity: str | None, distro_status: DistroStatus | None,
                 summary: str, references: tuple[str, ...], records: tuple[str, ...]) -> None:
        self.vulnerability_id, self.aliases = vulnerability_id, aliases
        self.matched_name, self.matched_version, self.fixed_versions = matched_name, matched_version, fixed_versions
        self.severity, self.severity_source, self.cvss = severity, severity_source, cvss
        self.distro_severity, self.distro_status = distro_severity, distro_status
        self.summary, self.references, self.records = summary, references, records

    def for_package(self, pkg: Package) -> VulnerabilityMatch:
        return VulnerabilityMatch(
            vulnerability_id=self.vulnerability_id, aliases=self.aliases, package=pkg, matched_name=self.matched_name,
            matched_version=self.matched_version, fixed_versions=self.fixed_versions, severity=self.severity,
            severity_source=self.severity_source, cvss=self.cvss, distro_severity=self.distro_severity,
            distro_status=self.distro_status, summary=self.summary, references=self.references, records=self.records)


def _merge(group: list[_Hit], lenders: dict[str, list[AdvisoryInfo]], cmp: Callable[[str, str], int]) -> _Merged:
    ids = _ids(group)
    primary = _primary(ids)
    first = group[0]
    if len(group) == 1:  # the common case: one record, nothing to merge
        adv = first.advisory
        fixed = list(dict.fromkeys(first.fixed))
        status = first.status
        vectors = list(adv.cvss)
        db_word, distro_word, summary = adv.database_severity, first.distro_severity, adv.summary
        references = tuple(dict.fromkeys(adv.references))
    else:
        fixed, vectors, status, db_word, distro_word, summary, references = _combine(group)
    if len(fixed) > 1:
        fixed.sort(key=_cmp_key(cmp))
    if fixed and status in OPEN_STATUSES:
        status = DistroStatus.FIXED
    if not vectors:  # borrow scores from other records of the same vulnerability (e.g. the CVE record)
        related = {a.id: a for i in ids for a in lenders.get(i, ())}
        for rid in sorted(related):
            vectors.extend(related[rid].cvss)
            db_word = db_word or related[rid].database_severity
    scores: list[CvssScore] = [s for v in dict.fromkeys(vectors) if (s := score(v)) is not None]
    severity, source = _severity(distro_word, scores, db_word)
    records = tuple(sorted({h.advisory.id for h in group}))
    ids.discard(primary)
    return _Merged(
        vulnerability_id=primary, aliases=tuple(sorted(ids)), matched_name=first.name,
        matched_version=first.version, fixed_versions=tuple(fixed), severity=severity, severity_source=source,
        cvss=tuple(sorted(scores, key=lambda s: s.version, reverse=True)) if scores else (),
        distro_severity=distro_word, distro_status=status, summary=summary, references=references,
        records=records)


def _combine(group: list[_Hit]) -> tuple[list[str], list[str], DistroStatus | None, str | None, str | None, str,
                                          tuple[str, ...]]:
    """Fixed versions, vectors, status, database and distro words, summary and references of several hits."""
    fixed: list[str] = []
    vectors: list[str] = []
    references: dict[str, None] = {}
    status: DistroStatus | None = None
    db_word = distro_word = None
    summary = ""
    for h in group:
        adv = h.advisory
        for f in h.fixed:
            if f not in fixed:
                fixed.append(f)
        if h.status is not None and (status is None or status is DistroStatus.FIXED):
            status = h.status  # the first non-"fixed" status, else the first
        vectors.extend(adv.cvss)
        db_word = db_word or adv.database_severity
        distro_word = distro_word or h.distro_severity
        summary = summary or adv.summary
        references.update(dict.fromkeys(adv.references))
    return fixed, vectors, status, db_word, distro_word, summary, tuple(references)


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
