"""Reading SBOMs (CycloneDX and SPDX JSON, ours and other tools') back into ``Package`` values."""

from cloudward.distribute.sbomread.purls import package_from_purl
from cloudward.distribute.sbomread.readers import Sbom, parse_sbom, read_sbom

__all__ = ["Sbom", "package_from_purl", "parse_sbom", "read_sbom"]
