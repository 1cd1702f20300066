"""Matching packages against the database: distro scoping, source packages, alias merging.

For each package: look up the (ecosystem, release) its advisories are filed
under — Debian 12 advisories never apply to Debian 11, Ubuntu FIPS builds are
judged by the FIPS streams — by its own name and, for distro packages, by its
source package name compared at the *source* version (a Debian binary
``1:2.38.1-5`` built from source ``2.38.1-5`` must be compared without the
binary's epoch). Matching records that share an id or alias are merged into one
result per package (``merge``), reported under the CVE id when there is one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from cloudward.distribute.match.merge import Hit, Merged, group, group_keys, merge, needs_scores
from cloudward.distribute.match.model import MatchOptions, VulnerabilityMatch
from cloudward.distribute.match.ranges import affects
from cloudward.distribute.match.vex import VexIndex
from cloudward.distribute.packages import Package
from cloudward.distribute.versions import SCHEMES, InvalidVersion, scheme_for
from cloudward.distribute.vulndb.ecosystems import DISTRO_ECOSYSTEMS, normalize_name, package_scope, release_chain
from cloudward.distribute.vulndb.model import OPEN_STATUSES, Affected, DistroStatus
from cloudward.distribute.vulndb.store import AdvisoryInfo, VulnDB

log = logging.getLogger(__name__)

Warn = Callable[[str], None]


class _Plan:
    """What to look up for one package: its ecosystem, the releases to consult, name → version to compare at.

    ``releases`` has one entry except for Ubuntu product lines (``20.04/fips-updates``
    before ``20.04/fips``); ``key`` is everything the result depends on but the
    package itself: packages with equal keys have the same vulnerabilities.
    """

    __slots__ = ("cmp", "ecosystem", "key", "lookups", "package", "releases")

    def __init__(self, package: Package, ecosystem: str, releases: tuple[str, ...], lookups: dict[str, str],
                 cmp: Callable[[str, str], int]) -> None:
        self.package, self.ecosystem, self.releases, self.lookups, self.cmp = package, ecosystem, releases, lookups, cmp
        self.key = (ecosystem, releases, *sorted(lookups.items()))


Candidates = dict[str, list[tuple[AdvisoryInfo, Affected]]]


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
        for release in plan.releases:
            wanted.setdefault((plan.ecosystem, release), set()).update(plan.lookups)
    found = {scope: db.candidates_by_name(scope[0], scope[1], names) for scope, names in wanted.items()}
    by_key: dict[tuple[object, ...], list[list[Hit]]] = {}
    for plan in plans:
        if plan.key not in by_key:
            by_key[plan.key] = group(_hits(plan, _candidates(plan, found)))
    borrow = {i for groups in by_key.values() for hits in groups if needs_scores(hits) for i in group_keys(hits)}
    lenders = db.lenders(borrow) if borrow else {}
    merged: dict[tuple[object, ...], list[Merged]] = {}
    for plan in plans:
        results = merged.get(plan.key)
        if results is None:
            results = merged[plan.key] = [merge(hits, lenders, plan.cmp) for hits in by_key[plan.key]]
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
    releases = release_chain(ecosystem, release, pkg.name, pkg.source_name, pkg.version)
    return _Plan(pkg, ecosystem, releases, lookups, cmp) if lookups else None


def _candidates(plan: _Plan, found: dict[tuple[str, str], Candidates]) -> Candidates:
    """The entries of the first release in the plan's chain that files any entry under the package's names."""
    for release in plan.releases:
        cands = found[(plan.ecosystem, release)]
        if any(entry.release == release for name in plan.lookups for _, entry in cands.get(name, ())):
            return cands
    return found[(plan.ecosystem, plan.releases[0])]


def _hits(plan: _Plan, found: Candidates) -> list[Hit]:
    """The entries that affect the package; a notice covering several vulnerabilities hits once for each.

    A covered vulnerability is left out when the package has a record *of that
    vulnerability* among its candidates — matching or not: the per-CVE record (a
    Debian tracker entry, an Ubuntu CVE record) is precise where a notice listing
    many CVEs under one fixed version is not.
    """
    hits: list[Hit] = []
    noticed = False
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
                hits.append(Hit(adv, name, version, fixed, entry.status, entry.distro_severity))
                noticed = noticed or bool(adv.covers)
    if not noticed:
        return hits
    precise = {i for name in plan.lookups for adv, _ in found.get(name, ()) if not adv.covers
               for i in (adv.id, *adv.aliases)}
    out: list[Hit] = []
    for h in hits:
        if not h.advisory.covers:
            out.append(h)
            continue
        out.extend(Hit(h.advisory, h.name, h.version, h.fixed, h.status, h.distro_severity, covered=vid)
                   for vid in h.advisory.covers if vid not in precise)
    return out
