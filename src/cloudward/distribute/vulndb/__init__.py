"""The local vulnerability database: OSV, Debian tracker and Alpine secdb data in one SQLite file.

``import_paths`` and ``update`` build a new file beside the old one and swap it
in; ``VulnDB`` reads it (read-only) for the matcher and ``cloudward db status``.
"""

from cloudward.distribute.vulndb.build import building
from cloudward.distribute.vulndb.importer import ImportSummary, import_paths
from cloudward.distribute.vulndb.model import OPEN_STATUSES, Advisory, Affected, DistroStatus, Event, Range
from cloudward.distribute.vulndb.schema import SCHEMA_VERSION
from cloudward.distribute.vulndb.store import AdvisoryInfo, DbStatus, SourceInfo, VulnDB, default_db_path
from cloudward.distribute.vulndb.update import DEFAULT_BASE_URL, DEFAULT_ECOSYSTEMS, UpdateResult, update

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_ECOSYSTEMS", "OPEN_STATUSES", "SCHEMA_VERSION", "Advisory", "AdvisoryInfo",
           "Affected", "DbStatus", "DistroStatus", "Event", "ImportSummary", "Range", "SourceInfo", "UpdateResult",
           "VulnDB", "building", "default_db_path", "import_paths", "update"]
