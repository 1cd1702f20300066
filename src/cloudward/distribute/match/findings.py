"""A vulnerability match as a core ``Finding``, so every report format (and the lead's image scan) renders it."""

from __future__ import annotations

from cloudward.core.model import Controls, Finding, Location, ResourceRef, Suppression, SuppressionSource
from cloudward.distribute.match.model import VulnerabilityMatch

_CONTROLS = Controls(nist_800_190=("4.1.1",))  # NIST SP 800-190 4.1.1: image vulnerabilities


def to_finding(m: VulnerabilityMatch, artifact: str) -> Finding:
    """``artifact`` is where the package was found: the SBOM file or the image reference."""
    pkg = m.package
    fixed = ", ".join(m.fixed_versions)
    status = f" ({m.distro_status.value})" if m.distro_status and not m.fixed_versions else ""
    message = (f"{pkg.name} {pkg.version} is affected by {m.vulnerability_id}"
               + (f"; fixed in {fixed}" if fixed else f"; no fix available{status}"))
    remediation = (f"Upgrade {m.matched_name} to {m.fixed_versions[0]} or later." if m.fixed_versions else
                   "No fixed version yet; mitigate, or record a VEX statement if the code is not reachable.")
    suppressed = None
    if m.suppressed is not None:
        suppressed = Suppression(SuppressionSource.VEX, m.suppressed.reason())
    extra = m.to_dict(layer=False)  # the core location carries the layer
    return Finding(
        rule_id=m.vulnerability_id, severity=m.severity, title=m.summary or m.vulnerability_id, message=message,
        location=Location(file=artifact, path=None, layer=pkg.layer, line=None),
        resource=ResourceRef(kind="Package", name=f"{pkg.name}@{pkg.version}"),
        controls=_CONTROLS, remediation=remediation, evidence=m.url, suppressed=suppressed, extra=extra)
