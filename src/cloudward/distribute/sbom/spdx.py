"""SPDX 2.3 JSON, written here and validated in tests against the official schema.

spdx-tools would bring rdflib, ply, xmltodict and more for what is one JSON
document; the shape below follows the SPDX 2.3 specification (clauses 6 and 7,
and 11 for relationships): the image is a package the document DESCRIBES, which
CONTAINS every package; purls are PACKAGE-MANAGER external references.
Licences that are not valid SPDX expressions become ``NOASSERTION`` in
``licenseDeclared`` and are kept in ``licenseComments``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from license_expression import ExpressionError, get_spdx_licensing  # type: ignore[import-untyped]

from cloudward import __version__
from cloudward.distribute.sbom.model import Sbom

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")
NAMESPACE_BASE = "https://cloudward.dev/spdxdocs/"


def _spdx_license(text: str, licensing: Any) -> str | None:
    try:
        parsed = licensing.parse(text, validate=True, strict=True)
    except (ExpressionError, ValueError, TypeError):
        return None
    return str(parsed) if parsed is not None else None


def render_spdx(sbom: Sbom, now: dt.datetime | None = None, namespace_id: str | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    licensing = get_spdx_licensing()
    image_id = "SPDXRef-Image"
    image_pkg: dict[str, Any] = {
        "SPDXID": image_id, "name": sbom.image.name, "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
        "primaryPackagePurpose": "CONTAINER",
    }
    if sbom.image.manifest_digest:
        image_pkg["versionInfo"] = sbom.image.manifest_digest
        algo, _, hexpart = sbom.image.manifest_digest.partition(":")
        if algo == "sha256":
            image_pkg["checksums"] = [{"algorithm": "SHA256", "checksumValue": hexpart}]
    packages = [image_pkg]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                      "relatedSpdxElement": image_id}]
    for i, pkg in enumerate(sbom.packages):
        spdx_id = f"SPDXRef-Package-{i}-{_ID_UNSAFE.sub('-', pkg.name)[:60]}"
        declared = None
        if pkg.licenses:
            declared = _spdx_license(" AND ".join(f"({x})" for x in pkg.licenses), licensing)
        entry: dict[str, Any] = {
            "SPDXID": spdx_id, "name": pkg.name, "versionInfo": pkg.version, "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False, "licenseConcluded": "NOASSERTION", "licenseDeclared": declared or "NOASSERTION",
            "copyrightText": "NOASSERTION", "primaryPackagePurpose": "LIBRARY",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": pkg.purl}],
        }
        if pkg.licenses and declared is None:
            entry["licenseComments"] = "declared (not an SPDX expression): " + "; ".join(pkg.licenses)
        where = [f"layer {pkg.layer}" if pkg.layer else "", f"path {pkg.path}" if pkg.path else ""]
        if any(where):
            entry["sourceInfo"] = "found in " + ", ".join(w for w in where if w)
        if pkg.source_name and pkg.source_name != pkg.name:
            entry["summary"] = f"source package {pkg.source_name} {pkg.source_version or ''}".strip()
        packages.append(entry)
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS",
                              "relatedSpdxElement": spdx_id})
    safe_name = _ID_UNSAFE.sub("-", sbom.image.name)[:80]
    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": sbom.image.name,
        "documentNamespace": f"{NAMESPACE_BASE}{safe_name}-{namespace_id or uuid.uuid4()}",
        "creationInfo": {"created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "creators": [f"Tool: cloudward-{__version__}"]},
        "packages": packages,
        "relationships": relationships,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
