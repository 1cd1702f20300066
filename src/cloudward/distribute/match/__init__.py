"""Matching packages against the vulnerability database, with VEX and filters.

``match(packages, db, options, vex)`` yields ``VulnerabilityMatch`` values;
``to_finding`` turns one into the core ``Finding`` every report renders.
"""

from cloudward.distribute.match.findings import to_finding
from cloudward.distribute.match.matcher import match
from cloudward.distribute.match.model import MatchOptions, VexSuppression, VulnerabilityMatch
from cloudward.distribute.match.severity import CvssScore
from cloudward.distribute.match.vex import VexIndex, cyclonedx_vex, load_vex

__all__ = ["CvssScore", "MatchOptions", "VexIndex", "VexSuppression", "VulnerabilityMatch", "cyclonedx_vex",
           "load_vex", "match", "to_finding"]
