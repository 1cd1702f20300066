"""VEX: OpenVEX 0.2.0 documents and CycloneDX VEX (``vulnerabilities[].analysis``).

A statement that a vulnerability is ``not_affected`` or ``fixed`` for a product
(CycloneDX: ``not_affected``, ``resolved``, ``false_positive``) suppresses the
match: it is still reported, marked suppressed, with the justification. Products
are matched by purl; a statement's version-less purl covers every version, and a
statement without products (or naming only the image) covers every package.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from cloudward.core import jsonsafe
from cloudward.core.errors import InputError
from cloudward.distribute.match.model import VexSuppression, VulnerabilityMatch

_OPENVEX_SUPPRESS = {"not_affected", "fixed"}
_CDX_SUPPRESS = {"not_affected", "resolved", "resolved_with_pedigree", "false_positive"}


def _purl_base(purl: str) -> str:
    """``pkg:deb/debian/openssl@3.0.11-1?arch=amd64`` → ``pkg:deb/debian/openssl``."""
    return purl.split("?", 1)[0].split("#", 1)[0].split("@", 1)[0]


def _purl_version(purl: str) -> str:
    return purl.split("?", 1)[0].split("#", 1)[0].split("@", 1)[1] if "@" in purl else purl


@dataclasses.dataclass(frozen=True, slots=True)
class VexStatement:
    vulnerability_ids: frozenset[str]
    products: tuple[str, ...]  # purls; empty = every package
    suppression: VexSuppression | None  # None = the statement says affected / under investigation

    def covers(self, purl: str) -> bool:
        if not self.products:
            return True
        for p in self.products:
            if not p.startswith("pkg:"):
                continue
            if p == purl or (_purl_base(p) == _purl_base(purl)
                             and ("@" not in p or _purl_version(p) == _purl_version(purl))):
                return True
        return not any(p.startswith("pkg:") for p in self.products)


@dataclasses.dataclass(frozen=True, slots=True)
class VexIndex:
    """Statements from one or more VEX documents; later statements win."""

    statements: tuple[VexStatement, ...] = ()

    def merged(self, other: VexIndex) -> VexIndex:
        return VexIndex(self.statements + other.statements)

    def apply(self, m: VulnerabilityMatch) -> VulnerabilityMatch:
        ids = {m.vulnerability_id, *m.aliases}
        verdict: VexStatement | None = None
        for st in self.statements:
            if st.vulnerability_ids & ids and st.covers(m.package.purl):
                verdict = st
        if verdict is None or verdict.suppression is None:
            return m
        return dataclasses.replace(m, suppressed=verdict.suppression)


def _openvex(doc: dict[str, Any], where: str) -> VexIndex:
    out = []
    statements = doc.get("statements")
    if not isinstance(statements, list):
        raise InputError("OpenVEX document has no 'statements' array", file=where)
    ordered = sorted(enumerate(statements), key=lambda p: (str(p[1].get("timestamp") or doc.get("timestamp") or ""),
                                                           p[0]) if isinstance(p[1], dict) else ("", p[0]))
    for i, st in ordered:
        if not isinstance(st, dict) or not isinstance(st.get("vulnerability"), dict) or "status" not in st:
            raise InputError(f"statements[{i}] needs 'vulnerability' and 'status'", file=where)
        vuln = st["vulnerability"]
        ids = {str(vuln.get("name") or "")} | {str(a) for a in vuln.get("aliases") or []}
        products: list[str] = []
        for prod in st.get("products") or []:
            if not isinstance(prod, dict):
                continue
            subs = [s.get("@id") for s in prod.get("subcomponents") or [] if isinstance(s, dict)]
            ident = prod.get("identifiers") or {}
            products.extend(str(s) for s in subs if s)
            if not subs:
                products.append(str(ident.get("purl") or prod.get("@id") or ""))
        status = str(st["status"])
        supp = None
        if status in _OPENVEX_SUPPRESS:
            supp = VexSuppression(status, st.get("justification"), st.get("impact_statement") or
                                  st.get("status_notes"), where)
        out.append(VexStatement(frozenset(i for i in ids if i), tuple(p for p in products if p), supp))
    return VexIndex(tuple(out))


def cyclonedx_vex(doc: dict[str, Any], where: str, refs: dict[str, str] | None = None) -> VexIndex:
    """Statements from a CycloneDX BOM's ``vulnerabilities``; ``refs`` maps bom-refs to purls."""
    refs = dict(refs or {})
    for comp in doc.get("components") or []:
        if isinstance(comp, dict) and comp.get("bom-ref") and comp.get("purl"):
            refs[str(comp["bom-ref"])] = str(comp["purl"])
    out = []
    for vuln in doc.get("vulnerabilities") or []:
        if not isinstance(vuln, dict) or not isinstance(vuln.get("analysis"), dict):
            continue
        ids = {str(vuln.get("id") or "")} | {str(r.get("id")) for r in vuln.get("references") or []
                                             if isinstance(r, dict) and r.get("id")}
        products = []
        for aff in vuln.get("affects") or []:
            ref = str(aff.get("ref") or "") if isinstance(aff, dict) else ""
            ref = ref.split("#", 1)[1] if ref.startswith("urn:cdx:") and "#" in ref else ref
            products.append(refs.get(ref, ref))
        analysis = vuln["analysis"]
        state = str(analysis.get("state") or "")
        supp = None
        if state in _CDX_SUPPRESS:
            supp = VexSuppression(state, analysis.get("justification"), analysis.get("detail"), where)
        out.append(VexStatement(frozenset(i for i in ids if i), tuple(p for p in products if p), supp))
    return VexIndex(tuple(out))


def load_vex(path: str | Path) -> VexIndex:
    """Read an OpenVEX or CycloneDX VEX file; ``InputError`` for anything else."""
    where = str(path)
    try:
        doc = jsonsafe.loads(Path(path).read_bytes())
    except OSError as e:
        raise InputError(f"cannot read VEX document: {e.strerror or e}", file=where) from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"VEX document is not valid JSON ({e})", file=where) from e
    if isinstance(doc, dict) and str(doc.get("@context", "")).startswith("https://openvex.dev/ns"):
        return _openvex(doc, where)
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        return cyclonedx_vex(doc, where)
    raise InputError("not a VEX document: expected OpenVEX (@context https://openvex.dev/ns/...) or CycloneDX "
                     "with 'vulnerabilities'", file=where)
