"""Software bills of materials: catalog an image's packages and write CycloneDX 1.6 / SPDX 2.3.

``generate_sbom(image)`` walks the image once with every cataloger;
``catalog(image, result)`` builds the SBOM from a walk that already ran (so
``image scan`` shares one pass with the secret and malware scanners).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from cloudward.distribute.image import Analyzer, Image, WalkLimits, WalkResult, walk_image
from cloudward.distribute.sbom.catalog import default_catalogers, finish
from cloudward.distribute.sbom.cyclonedx import render_cyclonedx
from cloudward.distribute.sbom.model import ImageInfo, Sbom
from cloudward.distribute.sbom.osrelease import detect_distro
from cloudward.distribute.sbom.spdx import render_spdx
from cloudward.distribute.sbom.table import render_sbom_table

__all__ = ["ImageInfo", "Sbom", "SbomFormat", "catalog", "default_catalogers", "generate_sbom", "render_sbom"]


class SbomFormat(enum.StrEnum):
    CYCLONEDX_JSON = "cyclonedx-json"
    SPDX_JSON = "spdx-json"
    TABLE = "table"


def catalog(image: Image, result: WalkResult) -> Sbom:
    distro = detect_distro(result)
    info = ImageInfo(image.name, image.manifest_digest, image.config_digest,
                     str(image.platform) if image.platform else None, result.layers if image.layers else ())
    return Sbom(info, distro, tuple(finish(result, distro)))


def generate_sbom(image: Image, extra: Sequence[Analyzer] = (), limits: WalkLimits | None = None) -> Sbom:
    result = walk_image(image, [*default_catalogers(), *extra], limits)
    return catalog(image, result)


def render_sbom(sbom: Sbom, fmt: SbomFormat | str) -> str:
    fmt = SbomFormat(fmt)
    if fmt is SbomFormat.CYCLONEDX_JSON:
        return render_cyclonedx(sbom)
    if fmt is SbomFormat.SPDX_JSON:
        return render_spdx(sbom)
    return render_sbom_table(sbom)
