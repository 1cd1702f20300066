"""CycloneDX (1.4–1.6) and SPDX 2.x JSON documents into ``Package`` values.

Read ours and other tools' (Syft, Trivy, cdxgen): packages are recognised by
their purl; the source package and layer come from purl qualifiers or the
tools' well-known properties. Anything else is refused with an error saying what
was expected.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cloudward.core import jsonsafe
from cloudward.core.errors import InputError
from cloudward.distribute.packages import Package
from cloudward.distribute.sbomread.purls import package_from_purl

MAX_SBOM = 512 << 20

_SOURCE_NAME = ("aquasecurity:trivy:SrcName", "syft:metadata:source", "cloudward:source:name", "cloudward:source_name",
                "cdx:source:name")
_SOURCE_VERSION = ("aquasecurity:trivy:SrcVersion", "syft:metadata:sourceVersion", "cloudward:source:version",
                   "cloudward:source_version")
_LAYER = ("aquasecurity:trivy:LayerDiffID", "syft:location:0:layerID", "cloudward:layer")


@dataclasses.dataclass(frozen=True, slots=True)
class Sbom:
    """What a scan needs of an SBOM: its format, packages, and the raw document (for embedded VEX)."""

    format: str  # "CycloneDX 1.6", "SPDX-2.3"
    packages: tuple[Package, ...]
    document: dict[str, Any]
    skipped: int  # components without a purl we can match


def _props(obj: dict[str, Any]) -> dict[str, str]:
    return {str(p.get("name")): str(p.get("value")) for p in obj.get("properties") or []
            if isinstance(p, dict) and p.get("name") is not None}


def _first(props: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((props[k] for k in keys if props.get(k)), None)


def _source_version(props: dict[str, str]) -> str | None:
    """The source package's full version.

    Trivy splits it like its database does: ``SrcVersion`` is the upstream part,
    ``SrcRelease`` the Debian revision or rpm release, ``SrcEpoch`` the epoch
    (aquasecurity/trivy's CycloneDX encoder: ``binutils`` → SrcVersion ``2.30``,
    SrcRelease ``93.el8``). Comparing ``2.30`` alone with a fix ``2.30-94.el8``
    would call every package vulnerable.
    """
    version = _first(props, _SOURCE_VERSION)
    if version and version == props.get("aquasecurity:trivy:SrcVersion"):
        release, epoch = props.get("aquasecurity:trivy:SrcRelease"), props.get("aquasecurity:trivy:SrcEpoch")
        if release:
            version = f"{version}-{release}"
        if epoch and epoch != "0":
            version = f"{epoch}:{version}"
    return version


def _cdx_components(items: list[Any]) -> Iterator[dict[str, Any]]:
    for c in items:
        if isinstance(c, dict):
            yield c
            yield from _cdx_components(c.get("components") or [])


def _cyclonedx(doc: dict[str, Any]) -> Sbom:
    pkgs, skipped = [], 0
    comps = list(_cdx_components(doc.get("components") or []))
    for c in comps:
        purl = c.get("purl")
        props = _props(c)
        pkg = package_from_purl(str(purl), version=c.get("version"), layer=_first(props, _LAYER),
                                source=(_first(props, _SOURCE_NAME), _source_version(props))) if purl else None
        if pkg is None:
            skipped += 1
        else:
            pkgs.append(pkg)
    return Sbom(f"CycloneDX {doc.get('specVersion', '?')}", tuple(pkgs), doc, skipped)


def _spdx(doc: dict[str, Any]) -> Sbom:
    pkgs, skipped = [], 0
    for p in doc.get("packages") or []:
        if not isinstance(p, dict):
            continue
        purls = [r.get("referenceLocator") for r in p.get("externalRefs") or []
                 if isinstance(r, dict) and r.get("referenceType") == "purl"]
        pkg = package_from_purl(str(purls[0]), version=p.get("versionInfo")) if purls else None
        if pkg is None:
            skipped += 1
        else:
            pkgs.append(pkg)
    return Sbom(str(doc.get("spdxVersion")), tuple(pkgs), doc, skipped)


def parse_sbom(doc: Any, where: str) -> Sbom:
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        return _cyclonedx(doc)
    if isinstance(doc, dict) and str(doc.get("spdxVersion", "")).startswith("SPDX-2."):
        return _spdx(doc)
    if isinstance(doc, dict) and ("@context" in doc and "spdx.org/rdf/3" in str(doc["@context"])):
        raise InputError("SPDX 3 documents are not supported yet; export SPDX 2.3 JSON or CycloneDX JSON", file=where)
    raise InputError("not a CycloneDX or SPDX JSON SBOM (no 'bomFormat: CycloneDX' or 'spdxVersion: SPDX-2.x'); "
                     "produce one with 'cloudward sbom', syft or trivy", file=where)


def read_sbom(path: str | Path) -> Sbom:
    """Read a CycloneDX or SPDX JSON SBOM file."""
    where = str(path)
    p = Path(path)
    try:
        if p.stat().st_size > MAX_SBOM:
            raise InputError(f"SBOM is larger than {MAX_SBOM >> 20} MiB; refusing it", file=where)
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read SBOM: {e.strerror or e}; check the path", file=where) from e
    try:
        doc = jsonsafe.loads(raw)
    except UnicodeDecodeError as e:
        raise InputError("SBOM is not UTF-8 JSON; only CycloneDX and SPDX JSON are read", file=where) from e
    except json.JSONDecodeError as e:
        raise InputError(f"SBOM is not valid JSON: {e.msg}", file=where, line=e.lineno, column=e.colno) from e
    return parse_sbom(doc, where)
