"""Distro notices that fix several vulnerabilities, OSV ``related``, and Ubuntu's product lines.

Record shapes follow the feeds: Red Hat's converter puts an RHSA's CVEs in ``related``
(ossf/osv-schema ``tools/redhat``); Debian's DLA/DSA records list theirs in ``upstream``
(``DLA-3623-1`` in ../shared/vulndata-sample lists 44); a GHSA's ``related`` names a sibling
vulnerability (an incomplete fix), not itself; Ubuntu files FIPS, FIPS-updates and Realtime
fixes under ``Ubuntu:Pro:FIPS-updates:20.04:LTS``-style ecosystems. Ids past 2026 are synthetic.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cloudward.distribute.match import VulnerabilityMatch, load_vex, match
from cloudward.distribute.packages import Distro, Ecosystem, Package
from cloudward.distribute.vulndb import VulnDB, import_paths
from cloudward.distribute.vulndb.osv import parse_record
from cloudward.report.jsonreport import json_schema
from tests.distribute.match.kit import osv, write_records
from tests.distribute.vulndb.clikit import run

HIGH_SCOPE = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8, critical
LOW_IMPACT = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"  # 5.3, medium

RHSA_TWO = {  # one notice, two CVEs, the notice's own (overall) score
    "schema_version": "1.6.7", "id": "RHSA-2026:9005", "related": ["CVE-2026-40011", "CVE-2026-40012"],
    "modified": "2026-09-10T00:00:00Z", "summary": "Red Hat Security Advisory: curl security update",
    "severity": [{"type": "CVSS_V3", "score": LOW_IMPACT}],
    "affected": [{"package": {"name": "curl", "ecosystem": "Red Hat:enterprise_linux:9::baseos",
                              "purl": "pkg:rpm/redhat/curl"},
                  "ranges": [{"type": "ECOSYSTEM",
                              "events": [{"introduced": "0"}, {"fixed": "0:7.76.1-29.el9_4.1"}]}]}],
}
CVE_40012 = {  # the CVE's own record (NVD-style): a score, no affected packages
    "schema_version": "1.6.0", "id": "CVE-2026-40012", "modified": "2026-09-09T00:00:00Z",
    "severity": [{"type": "CVSS_V3", "score": HIGH_SCOPE}], "affected": []}
DLA = {  # a DLA fixing two CVEs in one upload
    "schema_version": "1.6.0", "id": "DLA-9999-1", "modified": "2026-09-11T00:00:00Z",
    "upstream": ["CVE-2026-40031", "CVE-2026-40032"], "summary": "libxml2 security update",
    "affected": [{"package": {"name": "libxml2", "ecosystem": "Debian:11"},
                  "ranges": [{"type": "ECOSYSTEM",
                              "events": [{"introduced": "0"}, {"fixed": "2.9.10+dfsg-6.7+deb11u5"}]}]}],
}
TRACKER = {"libxml2": {"CVE-2026-40031": {"description": "fixed earlier, in a point release",
                                          "releases": {"bullseye": {"status": "resolved", "urgency": "medium",
                                                                    "fixed_version": "2.9.10+dfsg-6.7+deb11u3"}}}},
           "libxslt": {"CVE-2026-40051": {"description": "the vulnerable code is not built in Debian",
                                          "releases": {"bullseye": {"status": "resolved", "urgency": "unimportant",
                                                                    "fixed_version": "0"}}}}}
DLA_XSLT = {  # a notice that also names a CVE the tracker says never affected this package
    "schema_version": "1.6.0", "id": "DLA-9999-2", "modified": "2026-09-11T00:00:00Z",
    "upstream": ["CVE-2026-40051", "CVE-2026-40052"], "summary": "libxslt security update",
    "affected": [{"package": {"name": "libxslt", "ecosystem": "Debian:11"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.34-4+deb11u2"}]}]}],
}
GHSA = {  # "related" is a sibling vulnerability: shown, never merged or expanded
    **osv("GHSA-aaaa-bbbb-cccc", "PyPI", "fancylib", [{"introduced": "0"}, {"fixed": "2.0"}],
          aliases=["CVE-2026-40041"]), "related": ["CVE-2026-40042"]}
UBUNTU_LINES = {
    "schema_version": "1.6.3", "id": "UBUNTU-CVE-2026-40020", "upstream": ["CVE-2026-40020"],
    "modified": "2026-09-12T00:00:00Z", "severity": [{"type": "Ubuntu", "score": "high"}],
    "affected": [
        {"package": {"ecosystem": "Ubuntu:20.04:LTS", "name": "openssl"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1f-1ubuntu2.23"}]}]},
        {"package": {"ecosystem": "Ubuntu:Pro:FIPS:20.04:LTS", "name": "openssl"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1f-1ubuntu2.fips.2.1"}]}]},
        {"package": {"ecosystem": "Ubuntu:Pro:FIPS-updates:20.04:LTS", "name": "openssl"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1f-1ubuntu2.fips.2.9"}]}]},
        {"package": {"ecosystem": "Ubuntu:Pro:22.04:LTS:Realtime:Kernel", "name": "linux-realtime"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.15.0-1040.45"}]}]},
    ],
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> VulnDB:
    tmp = tmp_path_factory.mktemp("notices")
    (tmp / "tracker.json").write_text(json.dumps(TRACKER))
    path = tmp / "vuln.db"
    import_paths(path, [str(write_records(tmp / "osv", [RHSA_TWO, CVE_40012, DLA, DLA_XSLT, GHSA, UBUNTU_LINES])),
                        str(tmp / "tracker.json")])
    return VulnDB(path)


def found(matches: list[VulnerabilityMatch]) -> dict[str, VulnerabilityMatch]:
    return {m.vulnerability_id: m for m in matches}


CURL = Package(name="curl", version="7.76.1-29.el9_4", ecosystem=Ecosystem.REDHAT,
               purl="pkg:rpm/redhat/curl@7.76.1-29.el9_4?arch=x86_64&distro=rhel-9.4", distro=Distro("rhel", "9.4"))


def test_a_notice_fixing_two_cves_is_reported_per_cve_with_the_notice_as_alias(db: VulnDB) -> None:
    hits = found(list(match([CURL], db)))
    assert set(hits) == {"CVE-2026-40011", "CVE-2026-40012"}
    for m in hits.values():
        assert m.aliases == ("RHSA-2026:9005",) and m.records == ("RHSA-2026:9005",)
        assert m.fixed_versions == ("0:7.76.1-29.el9_4.1",)
    # the CVE's own score rates it; the notice's overall score only rates a CVE with none
    assert (hits["CVE-2026-40012"].severity.value, hits["CVE-2026-40012"].cvss[0].base_score) == ("critical", 9.8)
    assert (hits["CVE-2026-40011"].severity.value, hits["CVE-2026-40011"].cvss[0].base_score) == ("medium", 5.3)
    assert not list(match([dataclasses.replace(CURL, version="7.76.1-29.el9_4.1")], db))


def test_a_vex_statement_on_one_cve_of_a_notice_suppresses_only_that_cve(db: VulnDB, tmp_path: Path) -> None:
    (tmp_path / "vex.json").write_text(json.dumps({
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "t",
        "timestamp": "2026-09-20T00:00:00Z", "version": 1,
        "statements": [{"vulnerability": {"name": "CVE-2026-40011"}, "products": [{"@id": "pkg:rpm/redhat/curl"}],
                        "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}))
    hits = found(list(match([CURL], db, vex=load_vex(tmp_path / "vex.json"))))
    assert hits["CVE-2026-40011"].suppressed is not None
    assert hits["CVE-2026-40012"].suppressed is None


def test_the_per_cve_record_decides_over_the_notice_that_lists_it(db: VulnDB) -> None:
    """The tracker says CVE-2026-40031 was fixed in +deb11u3; the DLA's +deb11u5 covers only the other CVE."""
    pkg = Package(name="libxml2", version="2.9.10+dfsg-6.7+deb11u4", ecosystem=Ecosystem.DEBIAN,
                  purl="pkg:deb/debian/libxml2@2.9.10+dfsg-6.7+deb11u4?distro=debian-11", source_name="libxml2",
                  distro=Distro("debian", "11"))
    hits = found(list(match([pkg], db)))
    assert set(hits) == {"CVE-2026-40032"}
    assert hits["CVE-2026-40032"].aliases == ("DLA-9999-1",)
    assert hits["CVE-2026-40032"].fixed_versions == ("2.9.10+dfsg-6.7+deb11u5",)
    older = Package(name="libxml2", version="2.9.10+dfsg-6.7+deb11u2", ecosystem=Ecosystem.DEBIAN,
                    purl="pkg:deb/debian/libxml2@2.9.10+dfsg-6.7+deb11u2", distro=Distro("debian", "11"))
    both = found(list(match([older], db)))
    assert set(both) == {"CVE-2026-40031", "CVE-2026-40032"}
    # one result for CVE-2026-40031: the tracker record and the DLA never both report it
    assert both["CVE-2026-40031"].fixed_versions == ("2.9.10+dfsg-6.7+deb11u3",)
    assert both["CVE-2026-40031"].aliases == ("DEBIAN-CVE-2026-40031",)


def test_a_tracker_not_affected_verdict_overrides_the_notice(db: VulnDB) -> None:
    pkg = Package(name="libxslt1.1", version="1.1.34-4+deb11u1", ecosystem=Ecosystem.DEBIAN,
                  purl="pkg:deb/debian/libxslt1.1@1.1.34-4+deb11u1?distro=debian-11", source_name="libxslt",
                  distro=Distro("debian", "11"))
    assert set(found(list(match([pkg], db)))) == {"CVE-2026-40052"}


def test_related_of_an_ordinary_record_is_shown_not_merged(db: VulnDB) -> None:
    pkg = Package(name="FancyLib", version="1.5", ecosystem=Ecosystem.PYPI, purl="pkg:pypi/fancylib@1.5")
    (m,) = list(match([pkg], db))
    assert (m.vulnerability_id, m.aliases, m.related) == ("CVE-2026-40041", ("GHSA-aaaa-bbbb-cccc",),
                                                          ("CVE-2026-40042",))


def ubuntu(name: str, version: str, source: str, source_version: str, release: str) -> Package:
    return Package(name=name, version=version, ecosystem=Ecosystem.UBUNTU, purl=f"pkg:deb/ubuntu/{name}@{version}",
                   source_name=source, source_version=source_version, distro=Distro("ubuntu", release))


@pytest.mark.parametrize(("record", "aliases", "covers", "related"), [
    ({"id": "RHSA-1", "related": ["CVE-1"]}, ("CVE-1",), (), ()),  # one CVE: the notice is its distro view
    ({"id": "RHSA-2", "related": ["CVE-1", "CVE-2", "RHBA-9"]}, (), ("CVE-1", "CVE-2"), ("RHBA-9",)),
    ({"id": "DLA-3", "upstream": ["CVE-1", "CVE-2"], "related": ["CVE-3"]}, (), ("CVE-1", "CVE-2", "CVE-3"), ()),
    ({"id": "UBUNTU-CVE-4", "upstream": ["CVE-4"], "related": ["USN-1-1"]}, ("CVE-4",), (), ("USN-1-1",)),
    ({"id": "GHSA-5", "aliases": ["CVE-5"], "related": ["CVE-6"]}, ("CVE-5",), (), ("CVE-6",)),
    ({"id": "GO-6", "related": ["CVE-7", "CVE-8"]}, (), (), ("CVE-7", "CVE-8")),  # not a notice: see-also only
    ({"id": "CVE-9", "upstream": ["CVE-10", "CVE-11"]}, (), (), ()),  # a CVE record is that CVE's record
])
def test_which_ids_a_record_is_and_covers(record: dict[str, Any], aliases: tuple[str, ...], covers: tuple[str, ...],
                                          related: tuple[str, ...]) -> None:
    adv = parse_record({"modified": "2026-01-01T00:00:00Z", **record})
    assert (adv.aliases, adv.covers, adv.related) == (aliases, covers, related)


def test_fips_fixes_never_judge_the_ordinary_build() -> None:
    """A FIPS version sorts above every ordinary one: filed under the base release, the certified
    FIPS fix would have flagged the fully patched ordinary openssl."""
    rec = parse_record(UBUNTU_LINES)
    assert [(a.release, a.name) for a in rec.affected] == [
        ("20.04", "openssl"), ("20.04/fips", "openssl"), ("20.04/fips-updates", "openssl"),
        ("22.04/realtime", "linux-realtime")]


def test_ubuntu_product_lines(db: VulnDB) -> None:
    patched = ubuntu("libssl1.1", "1.1.1f-1ubuntu2.23", "openssl", "1.1.1f-1ubuntu2.23", "20.04")
    assert not list(match([patched], db))
    old = found(list(match([ubuntu("libssl1.1", "1.1.1f-1ubuntu2.22", "openssl", "1.1.1f-1ubuntu2.22", "20.04")],
                           db)))
    assert old["CVE-2026-40020"].fixed_versions == ("1.1.1f-1ubuntu2.23",)
    # a FIPS build is judged by FIPS-updates (whose fix a certified system can take), not by the base release
    fips = found(list(match([ubuntu("libssl1.1", "1.1.1f-1ubuntu2.fips.2.8", "openssl", "1.1.1f-1ubuntu2.fips.2.8",
                                    "20.04")], db)))
    assert fips["CVE-2026-40020"].fixed_versions == ("1.1.1f-1ubuntu2.fips.2.9",)
    assert not list(match([ubuntu("libssl1.1", "1.1.1f-1ubuntu2.fips.2.9", "openssl", "1.1.1f-1ubuntu2.fips.2.9",
                                  "20.04")], db))
    # the realtime kernel by the Realtime line of its release
    rt = ubuntu("linux-image-5.15.0-1039-realtime", "5.15.0-1039.44", "linux-realtime", "5.15.0-1039.44", "22.04")
    assert found(list(match([rt], db)))["CVE-2026-40020"].fixed_versions == ("5.15.0-1040.45",)
    assert not list(match([ubuntu("linux-image-5.15.0-1039-realtime", "5.15.0-1039.44", "linux-realtime",
                                  "5.15.0-1039.44", "20.04")], db))


def test_json_report_of_notices_validates(db: VulnDB, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Through ``sbom scan``: per-CVE findings, empty and non-empty id lists, ``related``, schema-valid."""
    comps: list[dict[str, Any]] = [
        {"type": "library", "name": "curl", "version": "7.76.1-29.el9_4", "purl": CURL.purl},
        {"type": "library", "name": "fancylib", "version": "1.5", "purl": "pkg:pypi/fancylib@1.5"}]
    (tmp_path / "bom.json").write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6",
                                                   "components": comps}))
    capsys.readouterr()
    assert run(["sbom", "scan", str(tmp_path / "bom.json"), "--db", str(db.path), "--format", "json",
                "--max-db-age", "100000"]) == 1
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, json_schema())
    got = {(f["vulnerability_id"], tuple(f["aliases"]), tuple(f["related"])) for f in doc["findings"]}
    assert got == {("CVE-2026-40011", ("RHSA-2026:9005",), ()), ("CVE-2026-40012", ("RHSA-2026:9005",), ()),
                   ("CVE-2026-40041", ("GHSA-aaaa-bbbb-cccc",), ("CVE-2026-40042",))}
