"""The public surfaces of the vulnerability packages, pinned."""

from __future__ import annotations

import cloudward.distribute.match
import cloudward.distribute.sbomread
import cloudward.distribute.versions
import cloudward.distribute.vulndb


def test_public_api_is_pinned() -> None:
    assert set(cloudward.distribute.vulndb.__all__) == {
        "DEFAULT_BASE_URL", "DEFAULT_ECOSYSTEMS", "OPEN_STATUSES", "SCHEMA_VERSION", "Advisory", "AdvisoryInfo",
        "Affected", "DbAge", "DbStatus", "DistroStatus", "Event", "ImportSummary", "Range", "SourceInfo",
        "UpdateResult", "VulnDB", "building", "default_db_path", "import_paths", "update"}
    assert set(cloudward.distribute.match.__all__) == {
        "CvssScore", "MatchOptions", "VexIndex", "VexSuppression", "VulnerabilityMatch", "cyclonedx_vex", "load_vex",
        "match", "to_finding"}
    assert set(cloudward.distribute.versions.__all__) == {"SCHEMES", "InvalidVersion", "VersionScheme", "compare",
                                                          "scheme_for"}
    assert set(cloudward.distribute.sbomread.__all__) == {"Sbom", "package_from_purl", "parse_sbom", "read_sbom"}


def test_every_public_name_resolves() -> None:
    """The writing side of vulndb is loaded on first use; every exported name must still be there."""
    for module in (cloudward.distribute.vulndb, cloudward.distribute.match, cloudward.distribute.versions,
                   cloudward.distribute.sbomread):
        for name in module.__all__:
            assert getattr(module, name) is not None, (module.__name__, name)
    from cloudward.distribute.vulndb import import_paths, update

    assert callable(import_paths) and callable(update)
