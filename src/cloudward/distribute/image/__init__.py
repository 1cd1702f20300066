"""Reading container images without extracting them: sources, safe layer walking, the squashed view.

``open_image("oci:DIR:TAG")`` → ``Image``; ``walk_image(image, analyzers)`` →
``WalkResult`` (squashed view + analyzer hits). ``RegistryClient`` is the OCI
Distribution client other stages (signing) build on. See docs/image.md.
"""

from cloudward.distribute.image.auth import Credentials, default_auth_file, load_credentials
from cloudward.distribute.image.entries import EntryKind, FileEntry, WalkLimits
from cloudward.distribute.image.errors import (
    DigestMismatchError,
    ImageError,
    LimitExceededError,
    NotFoundError,
    RegistryAuthError,
    RegistryError,
)
from cloudward.distribute.image.model import (
    DEFAULT_PLATFORM,
    Descriptor,
    HistoryEntry,
    Image,
    ImageConfig,
    Layer,
    Manifest,
    Platform,
)
from cloudward.distribute.image.reference import ImageReference, RegistryRef, Transport, parse_reference
from cloudward.distribute.image.registry import RegistryClient
from cloudward.distribute.image.sources import OpenOptions, open_image
from cloudward.distribute.image.view import Analyzer, Hit, SquashedView, WalkResult
from cloudward.distribute.image.walk import walk_image

__all__ = [
    "DEFAULT_PLATFORM",
    "Analyzer",
    "Credentials",
    "Descriptor",
    "DigestMismatchError",
    "EntryKind",
    "FileEntry",
    "HistoryEntry",
    "Hit",
    "Image",
    "ImageConfig",
    "ImageError",
    "ImageReference",
    "Layer",
    "LimitExceededError",
    "Manifest",
    "NotFoundError",
    "OpenOptions",
    "Platform",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryError",
    "RegistryRef",
    "SquashedView",
    "Transport",
    "WalkLimits",
    "WalkResult",
    "default_auth_file",
    "load_credentials",
    "open_image",
    "parse_reference",
    "walk_image",
]
