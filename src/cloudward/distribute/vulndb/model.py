"""Advisories as the database stores them: OSV's shape plus the distributions' own statuses.

Every source (OSV JSON, the Debian tracker, Alpine secdb) is converted into
these values, so the matcher has one input model. ``Affected.status`` carries
a distribution's verdict (``unfixed``, ``no-dsa``…) that OSV cannot express.
"""

from __future__ import annotations

import dataclasses
import enum


class DistroStatus(enum.StrEnum):
    """A distribution's verdict for one package in one release, as its tracker words it."""

    FIXED = "fixed"
    UNFIXED = "unfixed"
    NO_DSA = "no-dsa"
    POSTPONED = "postponed"
    IGNORED = "ignored"
    END_OF_LIFE = "end-of-life"
    UNDETERMINED = "undetermined"
    NOT_AFFECTED = "not-affected"


#: Statuses that mean "affected, and no fixed version exists": --ignore-unfixed drops these.
OPEN_STATUSES = frozenset({DistroStatus.UNFIXED, DistroStatus.NO_DSA, DistroStatus.POSTPONED, DistroStatus.IGNORED,
                           DistroStatus.END_OF_LIFE, DistroStatus.UNDETERMINED})


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One OSV range event: ``kind`` is introduced, fixed, last_affected or limit."""

    kind: str
    version: str


@dataclasses.dataclass(frozen=True, slots=True)
class Range:
    """An OSV range of type ECOSYSTEM or SEMVER (GIT ranges name commits, not package versions)."""

    type: str
    events: tuple[Event, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Affected:
    """One package (in one distro release) that an advisory affects.

    ``ecosystem`` is the base name (``Debian``); ``release`` the distro release
    (``12``, ``3.19``) or ``""`` for language ecosystems; ``name`` is normalised
    for lookup (see ``ecosystems.normalize_name``).
    """

    ecosystem: str
    release: str
    name: str
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    status: DistroStatus | None = None
    distro_severity: str | None = None
    purl: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Advisory:
    """One vulnerability record with its ids, severities and affected packages.

    ``partial`` records (from distro feeds) merge into an existing record of the
    same id per (ecosystem, release, package) instead of replacing it, because a
    feed file covers one release at a time.

    A notice (``DSA-…``, ``RHSA-…``) fixes one or more vulnerabilities: one becomes an
    alias (the notice *is* that vulnerability's distro view); several go to ``covers``.
    """

    id: str
    modified: str
    aliases: tuple[str, ...] = ()
    published: str | None = None
    withdrawn: str | None = None
    summary: str = ""
    cvss: tuple[str, ...] = ()  # CVSS vectors (v2, v3.x, v4)
    database_severity: str | None = None  # e.g. GHSA's "HIGH", when no vector is given
    references: tuple[str, ...] = ()
    affected: tuple[Affected, ...] = ()
    partial: bool = False
    #: OSV ``related``: other vulnerabilities worth knowing about, not this one (shown, never merged).
    related: tuple[str, ...] = ()
    #: The vulnerabilities a distro *notice* fixes together (a DLA's ``upstream`` CVEs, an RHSA's
    #: ``related`` CVEs), when there are several: the matcher reports each of them on its own.
    covers: tuple[str, ...] = ()
