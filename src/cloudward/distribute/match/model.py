"""What the matcher returns: one vulnerability of one package, with every id it is known by."""

from __future__ import annotations

import dataclasses
from typing import Any

from cloudward.core.severity import Severity
from cloudward.distribute.match.severity import CvssScore
from cloudward.distribute.packages import Package
from cloudward.distribute.vulndb.model import DistroStatus


@dataclasses.dataclass(frozen=True, slots=True)
class VexSuppression:
    """Why a VEX document says this match does not need action."""

    status: str  # not_affected, fixed (OpenVEX) / not_affected, resolved, false_positive (CycloneDX)
    justification: str | None
    detail: str | None
    document: str

    def reason(self) -> str:
        parts = [f"VEX {self.status}"]
        if self.justification:
            parts.append(f"({self.justification})")
        if self.detail:
            parts.append(f": {self.detail}")
        return " ".join(parts) + f" [{self.document}]"


@dataclasses.dataclass(frozen=True, slots=True)
class MatchOptions:
    """Filters applied while matching (``--ignore-unfixed``, ``--severity``)."""

    ignore_unfixed: bool = False
    severities: frozenset[Severity] | None = None  # None = all


@dataclasses.dataclass(frozen=True, slots=True)
class VulnerabilityMatch:
    """One vulnerability in one package.

    ``vulnerability_id`` prefers the CVE id; ``aliases`` are every other id of
    the merged advisories (GHSA, DSA, DEBIAN-CVE…) and of the distro notices that
    fix it among others (RHSA, DLA). ``matched_name`` and
    ``matched_version`` are what was compared: a Debian binary package is
    matched through its source package and source version.
    """

    vulnerability_id: str
    aliases: tuple[str, ...]
    package: Package
    matched_name: str
    matched_version: str
    fixed_versions: tuple[str, ...]
    severity: Severity
    severity_source: str  # distro, cvss, database, unknown
    cvss: tuple[CvssScore, ...]
    distro_severity: str | None
    distro_status: DistroStatus | None
    summary: str
    references: tuple[str, ...]
    records: tuple[str, ...]  # ids of the database records that matched
    related: tuple[str, ...] = ()  # OSV "related" ids of those records: see also, not this vulnerability
    suppressed: VexSuppression | None = None

    @property
    def url(self) -> str:
        vid = self.vulnerability_id
        if vid.startswith(("CVE-", "GHSA-", "GO-", "PYSEC-", "RUSTSEC-")):
            return f"https://osv.dev/vulnerability/{vid}"
        return self.references[0] if self.references else f"https://osv.dev/vulnerability/{vid}"

    def to_dict(self, *, layer: bool = True) -> dict[str, Any]:
        """The vulnerability fields of a JSON finding (``layer=False``: the core location carries it)."""
        pkg = self.package
        sup = self.suppressed
        out: dict[str, Any] = {
            "vulnerability_id": self.vulnerability_id,
            "aliases": list(self.aliases),
            "package": {"name": pkg.name, "version": pkg.version, "purl": pkg.purl,
                        "ecosystem": pkg.ecosystem.value, "matched_name": self.matched_name,
                        "matched_version": self.matched_version},
            "fixed_versions": list(self.fixed_versions),
            "severity_source": self.severity_source,
            "cvss": [c.to_dict() for c in self.cvss],
            "distro_severity": self.distro_severity,
            "distro_status": self.distro_status.value if self.distro_status else None,
            "layer": pkg.layer,
            "url": self.url,
            "records": list(self.records),
            "related": list(self.related),
            "vex": ({"status": sup.status, "justification": sup.justification, "detail": sup.detail,
                     "document": sup.document} if sup else None),
        }
        if not layer:
            del out["layer"]
        return out
