"""Errors of the signing seam.

A signature that does not verify is a *result*, not a crash: ``NotVerifiedError``
carries exit code 1 (like a finding at or above the threshold), so a pipeline can
tell "the artifact is not trusted" (1) from "your key file is broken" (2) and
"the registry is down" (3). Messages never contain key material or passwords.
"""

from __future__ import annotations

from cloudward.core.errors import CloudwardError, InputError


class KeyFileError(InputError):
    """A key file is missing, truncated, of the wrong type, or the password is wrong (exit 2)."""


class NotVerifiedError(CloudwardError):
    """Verification ran and failed: tampered payload, wrong key, revoked key, missing signature (exit 1)."""

    exit_code = 1

    def __init__(self, subject: str, reason: str) -> None:
        self.subject = subject
        self.reason = reason
        super().__init__(f"{subject}: not verified: {reason}")


class LayerRejected(Exception):
    """One signature layer did not verify; the message is the reason. Callers aggregate these into a verdict."""
