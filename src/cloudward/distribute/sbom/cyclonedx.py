"""CycloneDX 1.6 JSON through cyclonedx-python-lib (the CycloneDX project's own library).

The image is ``metadata.component`` (type container); every package is a library
component with its purl, licences, and ``cloudward:layer``/``cloudward:path``
properties saying where it was found (the ``aquasecurity:trivy:*`` convention).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from cloudward import __version__
from cloudward.distribute.sbom.model import Sbom


def _bom_ref(purl: str, path: str | None, seen: set[str]) -> str:
    ref = purl
    if ref in seen:
        ref = f"{purl}#{hashlib.sha256((path or '').encode()).hexdigest()[:12]}"
    seen.add(ref)
    return ref


def render_cyclonedx(sbom: Sbom, now: dt.datetime | None = None) -> str:
    factory = LicenseFactory()
    image_props = [Property(name="cloudward:image:layer", value=d) for d in sbom.image.layers]
    if sbom.distro:
        image_props.append(Property(name="cloudward:os", value=f"{sbom.distro.id} {sbom.distro.version_id}"))
    hashes = []
    if sbom.image.manifest_digest and sbom.image.manifest_digest.startswith("sha256:"):
        hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=sbom.image.manifest_digest[7:]))
    root = Component(name=sbom.image.name, type=ComponentType.CONTAINER, bom_ref="image",
                     version=sbom.image.manifest_digest or None, hashes=hashes, properties=image_props)
    bom = Bom()
    bom.metadata.component = root
    bom.metadata.timestamp = now or dt.datetime.now(dt.UTC)
    bom.metadata.tools.components.add(Component(name="cloudward", version=__version__,
                                                type=ComponentType.APPLICATION))
    seen: set[str] = set()
    for pkg in sbom.packages:
        props = []
        if pkg.layer:
            props.append(Property(name="cloudward:layer", value=pkg.layer))
        if pkg.path:
            props.append(Property(name="cloudward:path", value=pkg.path))
        if pkg.source_name:
            props.append(Property(name="cloudward:source:name", value=pkg.source_name))
        if pkg.source_version:
            props.append(Property(name="cloudward:source:version", value=pkg.source_version))
        props.append(Property(name="cloudward:ecosystem", value=pkg.ecosystem.value))
        kwargs: dict[str, Any] = {}
        if pkg.licenses:
            kwargs["licenses"] = [_license(factory, lic) for lic in pkg.licenses]
        component = Component(name=pkg.name, version=pkg.version, type=ComponentType.LIBRARY,
                              purl=PackageURL.from_string(pkg.purl), bom_ref=_bom_ref(pkg.purl, pkg.path, seen),
                              properties=props, **kwargs)
        bom.components.add(component)
        bom.register_dependency(root, [component])
    return JsonV1Dot6(bom).output_as_string(indent=2)


def _license(factory: LicenseFactory, text: str) -> Any:
    """An SPDX id or expression when it parses as one, else a named licence."""
    try:
        return factory.make_from_string(text)
    except ValueError:
        from cyclonedx.model.license import DisjunctiveLicense

        return DisjunctiveLicense(name=text)
