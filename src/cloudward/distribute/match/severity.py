"""Severity from CVSS vectors (scored by the ``cvss`` library) and from distributions' own ratings."""

from __future__ import annotations

import dataclasses
import functools
import logging

from cloudward.core.severity import Severity

log = logging.getLogger(__name__)

_WORDS = {"critical": Severity.CRITICAL, "high": Severity.HIGH, "important": Severity.HIGH,
          "moderate": Severity.MEDIUM, "medium": Severity.MEDIUM, "low": Severity.LOW,
          "negligible": Severity.LOW, "unimportant": Severity.LOW, "none": Severity.INFO}


@dataclasses.dataclass(frozen=True, slots=True)
class CvssScore:
    """One CVSS vector with its base score, as the specification computes it."""

    version: str  # "2.0", "3.0", "3.1", "4.0"
    vector: str
    base_score: float
    severity: Severity

    def to_dict(self) -> dict[str, object]:
        return {"version": self.version, "vector": self.vector, "base_score": self.base_score,
                "severity": self.severity.value}


def word_severity(word: str | None) -> Severity | None:
    """A distribution's or database's severity word (Debian urgency, GHSA, Ubuntu priority) as ours."""
    if not word:
        return None
    return _WORDS.get(word.strip().rstrip("*").lower())


def _from_score(score: float) -> Severity:
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


@functools.lru_cache(maxsize=16384)
def score(vector: str) -> CvssScore | None:
    """Score a CVSS v2, v3.x or v4.0 vector; ``None`` (logged) for a vector the library rejects."""
    from cvss import CVSS2, CVSS3, CVSS4  # type: ignore[import-untyped]
    from cvss.exceptions import CVSSError  # type: ignore[import-untyped]

    try:
        if vector.startswith("CVSS:4.0/"):
            c4 = CVSS4(vector)
            return CvssScore("4.0", vector, float(c4.base_score), _from_score(float(c4.base_score)))
        if vector.startswith("CVSS:3."):
            c3 = CVSS3(vector)
            base = float(c3.scores()[0])
            return CvssScore(vector[5:8], vector, base, _from_score(base))
        c2 = CVSS2(vector)
        base = float(c2.scores()[0])
        return CvssScore("2.0", vector, base, _from_score(base))
    except (CVSSError, ValueError, KeyError) as e:
        log.debug("unreadable CVSS vector %r: %s", vector, e)
        return None


def best_cvss(scores: list[CvssScore]) -> CvssScore | None:
    """The score a report leads with: the newest CVSS version, then the highest score."""
    if not scores:
        return None
    return max(scores, key=lambda s: (s.version, s.base_score))
