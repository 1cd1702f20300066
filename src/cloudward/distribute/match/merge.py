"""From the advisory entries that hit one package to one result per vulnerability.

Hits whose records share an id or alias are one vulnerability (a GHSA and the
CVE it aliases, a Debian tracker record and the DSA of the same CVE). A distro
notice that fixes several vulnerabilities (``RHSA-2024:6220``, a DLA listing 44
kernel CVEs) arrives as one hit per vulnerability it covers, grouped by that
vulnerability alone — the notice's own id must not glue its CVEs together — and
reported with the notice among the aliases, as Trivy and Grype report Red Hat
and Debian data: per CVE, so CVE-based VEX statements and policies apply.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from cloudward.core.severity import Severity
from cloudward.distribute.match.model import VulnerabilityMatch
from cloudward.distribute.match.severity import CvssScore, best_cvss, score, word_severity
from cloudward.distribute.packages import Package
from cloudward.distribute.versions import InvalidVersion
from cloudward.distribute.vulndb.model import OPEN_STATUSES, DistroStatus
from cloudward.distribute.vulndb.store import AdvisoryInfo


class Hit:
    """One affected entry that matched: the record, what was compared, and the ids it groups by.

    ``keys`` are the ids that make two hits one vulnerability; ``covered`` is set when the
    record is a notice reported for one of the several vulnerabilities it fixes.
    """

    __slots__ = ("advisory", "covered", "distro_severity", "fixed", "keys", "name", "status", "version")

    def __init__(self, advisory: AdvisoryInfo, name: str, version: str, fixed: list[str],
                 status: DistroStatus | None, distro_severity: str | None, covered: str | None = None) -> None:
        self.advisory, self.name, self.version, self.fixed = advisory, name, version, fixed
        self.status, self.distro_severity, self.covered = status, distro_severity, covered
        self.keys: tuple[str, ...] = (covered,) if covered else (advisory.id, *advisory.aliases)

    def ids(self) -> tuple[str, ...]:
        """Every id this hit is reported under: its keys, and a covering notice's own id."""
        return (*self.keys, self.advisory.id) if self.covered else self.keys


class _Group:
    __slots__ = ("hits", "ids", "seq")

    def __init__(self, ids: set[str], hits: list[Hit], seq: int) -> None:
        self.ids, self.hits, self.seq = ids, hits, seq


def group(hits: list[Hit]) -> list[list[Hit]]:
    """Union hits that share a key.

    A hit that joins groups makes one group of them all, placed last (its hits
    after theirs); ``owner`` maps each id to its live group, so joining is a
    dictionary look-up per id rather than a scan of every group.
    """
    owner: dict[str, _Group] = {}
    live: dict[int, _Group] = {}  # by seq: insertion order = the order groups were last formed
    for seq, hit in enumerate(hits):
        ids = set(hit.keys)
        grp = _Group(ids, [hit], seq)
        joined = {g.seq: g for i in ids if (g := owner.get(i)) is not None}
        for key in sorted(joined):
            old = live.pop(key)
            grp.ids |= old.ids
            grp.hits = old.hits + grp.hits
        live[seq] = grp
        for i in grp.ids:
            owner[i] = grp
    return [g.hits for g in live.values()]


def group_keys(hits: list[Hit]) -> set[str]:
    """The ids records must name to lend this group severity scores."""
    return {k for h in hits for k in h.keys}


def needs_scores(hits: list[Hit]) -> bool:
    return not any(h.advisory.cvss for h in hits if not h.covered)


class Merged:
    """One merged vulnerability, before it is attached to the package(s) it was found in.

    A plain slotted holder rather than a package-less ``VulnerabilityMatch`` copied with
    ``dataclasses.replace``: replace costs twice a direct construction, per finding.
    """

    __slots__ = ("aliases", "cvss", "distro_severity", "distro_status", "fixed_versions", "matched_name",
                 "matched_version", "records", "references", "related", "severity", "severity_source", "summary",
                 "vulnerability_id")

    def __init__(self, vulnerability_id: str, aliases: tuple[str, ...], matched_name: str, matched_version: str,
                 fixed_versions: tuple[str, ...], severity: Severity, severity_source: str,
                 cvss: tuple[CvssScore, ...], distro_severity: str | None, distro_status: DistroStatus | None,
                 summary: str, references: tuple[str, ...], records: tuple[str, ...],
                 related: tuple[str, ...]) -> None:
        self.vulnerability_id, self.aliases = vulnerability_id, aliases
        self.matched_name, self.matched_version, self.fixed_versions = matched_name, matched_version, fixed_versions
        self.severity, self.severity_source, self.cvss = severity, severity_source, cvss
        self.distro_severity, self.distro_status = distro_severity, distro_status
        self.summary, self.references, self.records, self.related = summary, references, records, related

    def for_package(self, pkg: Package) -> VulnerabilityMatch:
        return VulnerabilityMatch(
            vulnerability_id=self.vulnerability_id, aliases=self.aliases, package=pkg, matched_name=self.matched_name,
            matched_version=self.matched_version, fixed_versions=self.fixed_versions, severity=self.severity,
            severity_source=self.severity_source, cvss=self.cvss, distro_severity=self.distro_severity,
            distro_status=self.distro_status, summary=self.summary, references=self.references, records=self.records,
            related=self.related)


def merge(hits: list[Hit], lenders: dict[str, list[AdvisoryInfo]], cmp: Callable[[str, str], int]) -> Merged:
    """One result for a group of hits: ids, fixed versions, status and severity."""
    ids: set[str] = set()
    for h in hits:
        ids.update(h.ids())
    primary = _primary(ids)
    first = hits[0]
    if len(hits) == 1 and not first.covered:  # the common case: one record, nothing to merge
        adv = first.advisory
        fixed = list(dict.fromkeys(first.fixed))
        status = first.status
        vectors = list(adv.cvss)
        db_word, distro_word, summary = adv.database_severity, first.distro_severity, adv.summary
        references = tuple(dict.fromkeys(adv.references))
    else:
        fixed, vectors, status, db_word, distro_word, summary, references = _combine(hits)
    if len(fixed) > 1:
        fixed.sort(key=_cmp_key(cmp))
    if fixed and status in OPEN_STATUSES:
        status = DistroStatus.FIXED
    if not vectors:  # borrow scores from other records of the same vulnerability (e.g. the CVE record)
        related = {a.id: a for i in group_keys(hits) for a in lenders.get(i, ())}
        for rid in sorted(related):
            vectors.extend(related[rid].cvss)
            db_word = db_word or related[rid].database_severity
    if not vectors:  # a notice's own scores rate the notice as a whole: the last resort for its CVEs
        for h in hits:
            if h.covered:
                vectors.extend(h.advisory.cvss)
                db_word = db_word or h.advisory.database_severity
    scores: list[CvssScore] = [s for v in dict.fromkeys(vectors) if (s := score(v)) is not None]
    severity, source = _severity(distro_word, scores, db_word)
    records = tuple(sorted({h.advisory.id for h in hits}))
    ids.discard(primary)
    related_ids = {r for h in hits for r in h.advisory.related} - ids - {primary}
    return Merged(
        vulnerability_id=primary, aliases=tuple(sorted(ids)), matched_name=first.name,
        matched_version=first.version, fixed_versions=tuple(fixed), severity=severity, severity_source=source,
        cvss=tuple(sorted(scores, key=lambda s: s.version, reverse=True)) if scores else (),
        distro_severity=distro_word, distro_status=status, summary=summary, references=references,
        records=records, related=tuple(sorted(related_ids)))


def _combine(hits: list[Hit]) -> tuple[list[str], list[str], DistroStatus | None, str | None, str | None, str,
                                       tuple[str, ...]]:
    """Fixed versions, own vectors, status, database and distro words, summary and references of several hits."""
    fixed: list[str] = []
    vectors: list[str] = []
    references: dict[str, None] = {}
    status: DistroStatus | None = None
    db_word = distro_word = None
    summary = ""
    for h in sorted(hits, key=lambda h: h.covered is not None):  # the vulnerability's own records first
        adv = h.advisory
        for f in h.fixed:
            if f not in fixed:
                fixed.append(f)
        if h.status is not None and (status is None or status is DistroStatus.FIXED):
            status = h.status  # the first non-"fixed" status, else the first
        if not h.covered:
            vectors.extend(adv.cvss)
            db_word = db_word or adv.database_severity
        distro_word = distro_word or h.distro_severity
        summary = summary or adv.summary
        references.update(dict.fromkeys(adv.references))
    return fixed, vectors, status, db_word, distro_word, summary, tuple(references)


def _primary(ids: set[str]) -> str:
    cves = [i for i in ids if i.startswith("CVE-")]
    if cves:
        return min(cves)
    return min(ids, key=lambda i: (i.startswith(("DEBIAN-", "ALPINE-")), i))


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
