"""The result of a successful verification: what was checked, by which key, with which claims."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Verified:
    """What was verified, for the report: the subject, the key that signed it, and the claims checked."""

    subject: str
    key: str  # fingerprint of the verifying key, or the certificate identity for keyless
    claims: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"subject": self.subject, "key": self.key, "claims": dict(self.claims)}
