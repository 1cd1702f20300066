"""Errors of the image seam, each naming the image and what is wrong with it.

A broken or hostile image is the user's input (exit 2); a registry that fails or
times out is an operational failure (exit 3). Callers catch ``CloudwardError``.
"""

from __future__ import annotations

from cloudward.core.errors import InputError, OperationalError


class ImageError(InputError):
    """The image is unreadable, malformed, hostile or not what it claims (exit 2)."""

    def __init__(self, image: str, message: str) -> None:
        self.image = image
        super().__init__(f"image {image}: {message}")


class DigestMismatchError(ImageError):
    """A manifest, config or blob did not hash to the digest that names it."""


class LimitExceededError(ImageError):
    """A layer broke a safety limit (size, entry count, compression ratio, path depth)."""


class RegistryError(OperationalError):
    """The registry failed (5xx, timeout, connection refused); exit 3."""

    def __init__(self, image: str, message: str) -> None:
        self.image = image
        super().__init__(f"image {image}: {message}")


class RegistryAuthError(ImageError):
    """The registry refused our credentials (401/403): fix the credentials (exit 2)."""


class NotFoundError(ImageError):
    """The repository, tag, manifest or blob does not exist (404)."""
