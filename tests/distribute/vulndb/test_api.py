"""The public surfaces of the vulnerability packages, pinned."""

from __future__ import annotations

import cloudward.distribute.match
import cloudward.distribute.sbomread
import cloudward.distribute.versions
import cloudward.distribute.vulndb


def test_public_api_is_pinned() -> None:
    assert set(cloudward.distribute.vulndb.__all__) == {
        "DEFAULT_BASE_URL", "DEFAULT_ECOSYSTEMS", "OPEN_STATUSES", "SCHEMA_VERSION", "Advisory", "AdvisoryInfo",
        "Affected", "DbStatus", "DistroStatus", "Event", "ImportSummary", "Range", "SourceInfo", "UpdateResult",
        "VulnDB", "building", "default_db_path", "import_paths", "update"}
    assert set(cloudward.distribute.match.__all__) == {
        "CvssScore", "MatchOptions", "VexIndex", "VexSuppression", "VulnerabilityMatch", "cyclonedx_vex", "load_vex",
        "match", "to_finding"}
    assert set(cloudward.distribute.versions.__all__) == {"SCHEMES", "InvalidVersion", "VersionScheme", "compare",
                                                          "scheme_for"}
    assert set(cloudward.distribute.sbomread.__all__) == {"Sbom", "package_from_purl", "parse_sbom", "read_sbom"}
