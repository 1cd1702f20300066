"""``scan_image``: one walk of an image feeding catalogers, secret and malware scanners, then hardening rules
and vulnerability matching of the packages found.

Findings use the core model: ``Location(file=<path in the image>, line, layer=<layer
digest>)`` and the resource ``Image/<reference>``; image-config findings are at
``<image config …>`` with no layer. Vulnerability findings come from
``match.to_finding``: the file is the image reference, the layer the package's.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import IO, Any

from cloudward.core.config import Config
from cloudward.core.model import Finding, Location, Problem, ProblemKind, ResourceRef, Suppression, SuppressionSource
from cloudward.core.report import ScanReport
from cloudward.core.rules import Rule, RuleContext
from cloudward.core.severity import Severity
from cloudward.distribute.image import FileEntry, Image, WalkLimits, walk_image
from cloudward.distribute.imagescan.attest import SCANNER_URI, vuln_predicate
from cloudward.distribute.imagescan.rules import HARDENING_RULES, MALWARE_RULES, SECRET_RULE_META, ImageFacts
from cloudward.distribute.imagescan.vulns import VulnerabilitiesNotChecked, VulnerabilityCheck, match_packages
from cloudward.distribute.malware import MalwareAnalyzer, MalwareMatch
from cloudward.distribute.match import VulnerabilityMatch
from cloudward.distribute.sbom import Sbom, catalog, default_catalogers
from cloudward.distribute.secrets import SecretMatch, find_secrets

__all__ = ["SCANNER_URI", "ImageScanResult", "SecretAnalyzer", "VulnerabilitiesNotChecked", "VulnerabilityCheck",
           "all_image_rules", "scan_image", "vuln_predicate"]

log = logging.getLogger(__name__)
MAX_TEXT = 10 * 1024 * 1024
_SKIP_PREFIXES = ("usr/share/doc/", "usr/share/man/", "usr/share/locale/", "usr/share/i18n/", "usr/share/zoneinfo/",
                  "usr/share/mime/", "usr/lib/locale/", "var/lib/dpkg/info/", "usr/share/perl", "usr/lib/x86_64-linux")
_SKIP_SUFFIXES = (".so", ".pyc", ".mo", ".png", ".jpg", ".gif", ".ico", ".gz", ".zip", ".jar", ".whl", ".a")


def all_image_rules() -> tuple[Rule, ...]:
    return HARDENING_RULES + SECRET_RULE_META + MALWARE_RULES


class SecretAnalyzer:
    """Text files of every layer through ``find_secrets`` (binary files are skipped by a NUL check)."""

    name = "secrets"

    def wants(self, entry: FileEntry) -> bool:
        p = entry.path
        return (entry.is_file and 0 < entry.size <= MAX_TEXT and not p.startswith(_SKIP_PREFIXES)
                and not p.endswith(_SKIP_SUFFIXES))

    def analyze(self, entry: FileEntry, content: IO[bytes]) -> list[SecretMatch]:
        data = content.read(MAX_TEXT)
        if b"\0" in data[:8192]:
            return []
        return list(find_secrets(data.decode("utf-8", "replace"), entry.display_path))


@dataclasses.dataclass(frozen=True, slots=True)
class ImageScanResult:
    """The report, the SBOM of the same walk, and the vulnerability matches (empty when not checked)."""

    report: ScanReport
    sbom: Sbom
    matches: tuple[VulnerabilityMatch, ...] = ()
    vulnerabilities_checked: bool = False


def scan_image(image: Image, *, config: Config | None = None, malware: MalwareAnalyzer | None = None,
               limits: WalkLimits | None = None,
               vulnerabilities: VulnerabilityCheck | VulnerabilitiesNotChecked | None = None) -> ImageScanResult:
    """Scan ``image``; ``vulnerabilities`` says how (or why not) to check its packages' vulnerabilities.

    ``None`` leaves vulnerabilities out silently (library callers that only want the
    other checks); the CLI always passes one of the two values.
    """
    analyzers: list[Any] = [*default_catalogers(), SecretAnalyzer(), malware or MalwareAnalyzer()]
    result = walk_image(image, analyzers, limits)
    resource = ResourceRef("Image", image.name)
    rules = {r.id: r for r in all_image_rules()}
    findings: list[Finding] = []
    problems: list[Problem] = []

    def add(rule_id: str, message: str, file: str, line: int | None, layer: str | None,
            severity: Severity | None = None, evidence: str | None = None) -> None:
        rule = rules[rule_id]
        findings.append(Finding(rule.id, severity or rule.severity, rule.title, message,
                                Location(file, line, layer=layer), resource, rule.controls, rule.remediation,
                                evidence))

    visible_ids = {id(h.entry) for h in result.visible("secrets")}
    for hit in result.all_hits("secrets"):
        gone = "" if id(hit.entry) in visible_ids else " (deleted or replaced in a later layer, still in the image)"
        for m in hit.results:
            assert isinstance(m, SecretMatch)
            add(m.rule_id, f"{m.title} {m.redacted}{gone}", m.path, m.line, hit.entry.layer, m.severity,
                m.line_text.strip())
    for where, texts in (("Env", image.config.env), ("Labels", tuple(f"{k}={v}" for k, v in image.config.labels)),
                         ("history", tuple(h.created_by for h in image.config.history))):
        for i, text in enumerate(texts):
            for m in find_secrets(text, f"<image config {where}>"):
                add(m.rule_id, f"{m.title} {m.redacted} in the image config ({where})", f"<image config {where}>",
                    i + 1, None, m.severity, m.line_text.strip())
    for hit in result.all_hits("malware"):
        for mm in hit.results:
            assert isinstance(mm, MalwareMatch)
            rid = "malware.known-bad-hash" if mm.kind == "sha256" else "malware.yara"
            sev = Severity.parse(mm.severity) if mm.severity in {s.value for s in Severity} else None
            add(rid, f"{mm.description} ({mm.name})", hit.entry.display_path, None, hit.entry.layer, sev)
    facts = ImageFacts(image.config, result.view)
    ctx = RuleContext()
    for rule in HARDENING_RULES:
        if image.rootfs is not None and rule.id in ("image.user-root", "image.no-healthcheck"):
            continue  # a bare rootfs has no config to judge
        try:
            for v in rule.check(facts, ctx):
                file, layer = _where(v.subject)
                add(rule.id, v.message, file, v.line, layer)
        except Exception as e:  # noqa: BLE001 - a crashing rule is reported, never a silent pass
            problems.append(Problem(ProblemKind.RULE, f"rule crashed: {type(e).__name__}: {e}", rule_id=rule.id,
                                    resource=resource))
    if config is not None:
        findings = _apply_exceptions(findings, config)
    sbom = catalog(image, result)
    matches: list[VulnerabilityMatch] = []
    if isinstance(vulnerabilities, VulnerabilityCheck):
        matches, vuln_findings, vuln_problems = match_packages(sbom.packages, vulnerabilities, image.name)
        findings += vuln_findings
        problems += vuln_problems
    elif isinstance(vulnerabilities, VulnerabilitiesNotChecked):
        problems.append(vulnerabilities.problem(image.name))
    report = ScanReport(tuple(findings), tuple(problems), tuple(rules.values()), files_scanned=len(result.view),
                        resources_scanned=1)
    return ImageScanResult(report, sbom, tuple(matches), isinstance(vulnerabilities, VulnerabilityCheck))


def _where(subject: object) -> tuple[str, str | None]:
    """A hardening violation's subject → (path in the image, layer digest)."""
    if isinstance(subject, FileEntry):
        return subject.display_path, subject.layer
    if isinstance(subject, tuple) and len(subject) == 2:
        return str(subject[0]), str(subject[1]) if subject[1] else None
    if isinstance(subject, str):
        return subject, None
    return "<image config>", None


def _apply_exceptions(findings: Sequence[Finding], config: Config) -> list[Finding]:
    """``.cloudward.yaml`` ``exceptions`` with ``rule`` + ``path`` (paths relative to the image root) allow-list."""
    import datetime as dt

    today = dt.date.today()
    out = []
    for f in findings:
        for ex in config.exceptions:
            if not ex.expired(today) and ex.matches(f.rule_id, "Image", None, f.resource.name if f.resource else None,
                                                    f.location.file.lstrip("/"), None):
                f = dataclasses.replace(f, suppressed=Suppression(SuppressionSource.CONFIG, ex.reason, ex.expires))
                break
        out.append(f)
    return out
