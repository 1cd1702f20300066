"""The local vulnerability database: OSV, Debian tracker and Alpine secdb data in one SQLite file.

``import_paths`` and ``update`` build a new file beside the old one and swap it
in; ``VulnDB`` reads it (read-only) for the matcher and ``cloudward db status``.

The writing side (``building``, ``import_paths`` and ``ImportSummary``) is
imported on first use (PEP 562), and ``update`` imports its HTTP, zip and
hashing machinery when called: a scan only reads, and loading the writers cost
every ``sbom scan`` ~30 ms of start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cloudward.distribute.vulndb.model import OPEN_STATUSES, Advisory, Affected, DistroStatus, Event, Range
from cloudward.distribute.vulndb.schema import SCHEMA_VERSION
from cloudward.distribute.vulndb.store import AdvisoryInfo, DbAge, DbStatus, SourceInfo, VulnDB, default_db_path
from cloudward.distribute.vulndb.update import DEFAULT_BASE_URL, DEFAULT_ECOSYSTEMS, UpdateResult, update

if TYPE_CHECKING:
    from cloudward.distribute.vulndb.build import building
    from cloudward.distribute.vulndb.importer import ImportSummary, import_paths

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_ECOSYSTEMS", "OPEN_STATUSES", "SCHEMA_VERSION", "Advisory", "AdvisoryInfo",
           "Affected", "DbAge", "DbStatus", "DistroStatus", "Event", "ImportSummary", "Range", "SourceInfo",
           "UpdateResult", "VulnDB", "building", "default_db_path", "import_paths", "update"]

_LAZY = {"building": "build", "ImportSummary": "importer", "import_paths": "importer"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
