"""Classic scanner false positives and false negatives, on real advisory records where the sample has them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudward.core.severity import Severity
from cloudward.distribute.match import MatchOptions, VulnerabilityMatch, match
from cloudward.distribute.packages import Distro, Ecosystem, Package
from cloudward.distribute.vulndb import DistroStatus, VulnDB, import_paths
from tests.distribute.match.kit import SAMPLE, need_shared, osv, write_records


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> VulnDB:
    need_shared()
    path = tmp_path_factory.mktemp("db") / "vuln.db"
    import_paths(path, [str(SAMPLE / "osv" / "go"), str(SAMPLE / "osv" / "pypi"), str(SAMPLE / "osv" / "crates.io"),
                        str(SAMPLE / "ghsa"), str(SAMPLE / "debian" / "fixtures" / "vunnel" / "debian.json"),
                        str(SAMPLE / "alpine" / "secdb-2020" / "v3.11" / "main.json"),
                        str(SAMPLE / "alpine" / "secdb-2020" / "v3.10" / "main.json")])
    return VulnDB(path)


def pkg(eco: Ecosystem, name: str, version: str, distro: Distro | None = None, source: str | None = None) -> Package:
    return Package(name=name, version=version, ecosystem=eco, purl=f"pkg:generic/{name}@{version}",
                   source_name=source, distro=distro)


def ids(matches: list[VulnerabilityMatch]) -> set[str]:
    return {m.vulnerability_id for m in matches}


def records(matches: list[VulnerabilityMatch]) -> set[str]:
    return {r for m in matches for r in m.records}


def test_go_pseudo_versions(sample_db: VulnDB) -> None:
    """GO-2021-0238 is fixed in x/net pseudo-version 0.0.0-20210520170846-37e1c6afe023."""
    before = list(match([pkg(Ecosystem.GO, "golang.org/x/net", "v0.0.0-20210510120150-4163338589ed")], sample_db))
    after = list(match([pkg(Ecosystem.GO, "golang.org/x/net", "v0.0.0-20210614182718-04defd469f4e")], sample_db))
    assert "GO-2021-0238" in records(before)
    hit = next(m for m in before if "GO-2021-0238" in m.records)
    assert hit.vulnerability_id == "CVE-2021-33194"
    assert set(hit.aliases) == {"GO-2021-0238", "GHSA-83g2-8m93-v3w7"}
    assert hit.fixed_versions == ("0.0.0-20210520170846-37e1c6afe023",)
    assert "GO-2021-0238" not in records(after)


def test_withdrawn_advisory_is_not_reported(sample_db: VulnDB) -> None:
    found = list(match([pkg(Ecosystem.GO, "github.com/opencontainers/runc", "v1.1.0")], sample_db))
    assert "GO-2025-3543" not in records(found)
    assert "CVE-2025-27612" not in ids(found)
    assert found  # runc 1.1.0 has other, live advisories in the sample


def test_last_affected_is_inclusive(sample_db: VulnDB) -> None:
    assert "CVE-2013-6421" in ids(list(match([pkg(Ecosystem.RUBYGEMS, "sprout", "0.7.246")], sample_db)))
    assert not list(match([pkg(Ecosystem.RUBYGEMS, "sprout", "0.7.247")], sample_db))


def test_pypi_name_normalisation_and_ranges(sample_db: VulnDB) -> None:
    assert "CVE-2015-2296" in ids(list(match([pkg(Ecosystem.PYPI, "Requests", "2.5.3")], sample_db)))
    assert "CVE-2015-2296" not in ids(list(match([pkg(Ecosystem.PYPI, "requests", "2.6.0")], sample_db)))


def test_cvss_from_the_vector(sample_db: VulnDB) -> None:
    (m,) = match([pkg(Ecosystem.NPM, "plotly.js", "1.15.0")], sample_db)
    assert m.vulnerability_id == "CVE-2017-1000006"
    assert m.cvss[0].base_score == 6.1  # NVD's score for this CVSS 3.0 vector
    assert (m.severity, m.severity_source) == (Severity.MEDIUM, "cvss")


def test_tracker_statuses(sample_db: VulnDB) -> None:
    buster = Distro("debian", "10")
    (eol,) = match([pkg(Ecosystem.DEBIAN, "chromium", "89.0.4389.114-1~deb10u1", buster)], sample_db)
    assert eol.distro_status is DistroStatus.END_OF_LIFE and eol.fixed_versions == ()
    assert not list(match([pkg(Ecosystem.DEBIAN, "chromium", "89.0.4389.114-1~deb10u1", buster)], sample_db,
                          MatchOptions(ignore_unfixed=True)))
    bookworm = Distro("debian", "12")
    assert not list(match([pkg(Ecosystem.DEBIAN, "chromium", "98.0.4758.102-1", bookworm)], sample_db))
    (fixed,) = match([pkg(Ecosystem.DEBIAN, "chromium", "97.0.4692.99-1", bookworm)], sample_db)
    assert fixed.fixed_versions == ("98.0.4758.80-1",) and fixed.distro_status is DistroStatus.FIXED
    # fixed_version "0": the tracker says stretch was never affected
    assert not list(match([pkg(Ecosystem.DEBIAN, "prototypejs", "1.7.1-3", Distro("debian", "9"))], sample_db))


def test_alpine_release_scoping_and_origin(sample_db: VulnDB) -> None:
    """ansible CVE-2019-14904 is fixed in 2.9.3-r0 in Alpine 3.11's secdb, and absent from 3.10's."""
    sub = pkg(Ecosystem.ALPINE, "ansible-doc", "2.9.2-r0", Distro("alpine", "3.11.6"), source="ansible")
    found = list(match([sub], sample_db))
    hit = next(m for m in found if m.vulnerability_id == "CVE-2019-14904")
    assert hit.fixed_versions == ("2.9.3-r0",) and hit.matched_name == "ansible"
    older = list(match([pkg(Ecosystem.ALPINE, "ansible", "2.8.0-r0", Distro("alpine", "3.10.5"))], sample_db))
    assert "CVE-2019-14904" not in ids(older)


def _db(tmp_path: Path, recs: list[dict[str, object]]) -> VulnDB:
    write_records(tmp_path / "recs", recs)
    import_paths(tmp_path / "v.db", [str(tmp_path / "recs")])
    return VulnDB(tmp_path / "v.db")


def test_maven_qualifiers(tmp_path: Path) -> None:
    db = _db(tmp_path, [osv("GHSA-0000-0000-0001", "Maven", "org.example:lib",
                            [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}])])
    for version, affected in [("2.15.0-rc1", True), ("2.14.1", True), ("2.15.0.Final", False), ("2.15.0", False),
                              ("2.0-alpha1", False), ("2.0-beta9", True), ("2.15.0-SP1", False)]:
        got = bool(list(match([pkg(Ecosystem.MAVEN, "org.example:lib", version)], db)))
        assert got is affected, version


def test_tilde_prerelease_and_epoch_in_fix(tmp_path: Path) -> None:
    db = _db(tmp_path, [
        osv("DSA-9999-1", "Debian:12", "exampled", [{"introduced": "0"}, {"fixed": "2.0-1"}]),
        osv("DSA-9999-2", "Debian:12", "epochd", [{"introduced": "0"}, {"fixed": "1:1.0-1"}]),
    ])
    d12 = Distro("debian", "12")
    assert ids(list(match([pkg(Ecosystem.DEBIAN, "exampled", "2.0~rc1-1", d12)], db))) == {"DSA-9999-1"}
    assert not list(match([pkg(Ecosystem.DEBIAN, "exampled", "2.0-1", d12)], db))
    # the fix carries an epoch: 9.0-1 (epoch 0) is older than 1:1.0-1
    assert ids(list(match([pkg(Ecosystem.DEBIAN, "epochd", "9.0-1", d12)], db))) == {"DSA-9999-2"}
    assert not list(match([pkg(Ecosystem.DEBIAN, "epochd", "1:1.0-1", d12)], db))
    assert not list(match([pkg(Ecosystem.DEBIAN, "exampled", "1.0-1", Distro("debian", "11"))], db))


def test_aliases_merge_into_one_result(tmp_path: Path) -> None:
    db = _db(tmp_path, [
        osv("GHSA-0000-0000-0002", "PyPI", "demo", [{"introduced": "0"}, {"fixed": "1.1"}], aliases=["CVE-1900-0200"],
            severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]),
        osv("PYSEC-1900-1", "PyPI", "demo", [{"introduced": "0"}, {"fixed": "1.2"}], aliases=["CVE-1900-0200"]),
    ])
    (m,) = match([pkg(Ecosystem.PYPI, "demo", "1.0")], db)
    assert m.vulnerability_id == "CVE-1900-0200"
    assert m.aliases == ("GHSA-0000-0000-0002", "PYSEC-1900-1")
    assert m.fixed_versions == ("1.1", "1.2")
    assert (m.severity, m.cvss[0].base_score) == (Severity.CRITICAL, 9.8)


def test_limit_and_versions_list_and_multiple_ranges(tmp_path: Path) -> None:
    rec = osv("GHSA-0000-0000-0003", "npm", "lim", [{"introduced": "1.0.0"}, {"limit": "2.0.0"}],
              range_type="SEMVER", versions=["3.0.0-beta.1"])
    rec["affected"][0]["ranges"].append({"type": "SEMVER", "events": [{"introduced": "4.0.0"}, {"fixed": "4.2.0"}]})
    db = _db(tmp_path, [rec])
    for version, affected in [("0.9.0", False), ("1.5.0", True), ("2.0.0", False), ("3.0.0-beta.1", True),
                              ("3.0.0", False), ("4.1.9", True), ("4.2.0", False)]:
        assert bool(list(match([pkg(Ecosystem.NPM, "lim", version)], db))) is affected, version


def test_unreadable_installed_version_warns_instead_of_passing(tmp_path: Path) -> None:
    db = _db(tmp_path, [osv("PYSEC-1900-2", "PyPI", "demo", [{"introduced": "0"}, {"fixed": "1.1"}])])
    warnings: list[str] = []
    assert not list(match([pkg(Ecosystem.PYPI, "demo", "not a version!")], db, warn=warnings.append))
    assert len(warnings) == 1 and "demo" in warnings[0] and "PEP 440" in warnings[0]


def test_tracker_nodsa_postponed_ignored(tmp_path: Path) -> None:
    tracker = {"exampled": {f"CVE-1900-030{i}": {"releases": {"bookworm": dict(
        {"status": "open", "urgency": "low"}, **extra)}} for i, extra in enumerate([
            {}, {"nodsa": "Minor issue", "nodsa_reason": ""}, {"nodsa": "Minor", "nodsa_reason": "postponed"},
            {"nodsa": "Minor", "nodsa_reason": "ignored"}, {"status": "undetermined"}])}}
    (tmp_path / "t.json").write_text(json.dumps(tracker))
    import_paths(tmp_path / "v.db", [str(tmp_path / "t.json")])
    with VulnDB(tmp_path / "v.db") as db:
        found = {m.vulnerability_id: m.distro_status for m in match(
            [pkg(Ecosystem.DEBIAN, "exampled", "1.0-1", Distro("debian", "12"))], db)}
    assert found == {"CVE-1900-0300": DistroStatus.UNFIXED, "CVE-1900-0301": DistroStatus.NO_DSA,
                     "CVE-1900-0302": DistroStatus.POSTPONED, "CVE-1900-0303": DistroStatus.IGNORED,
                     "CVE-1900-0304": DistroStatus.UNDETERMINED}


def test_equal_packages_in_different_layers_each_get_their_own_matches(sample_db: VulnDB) -> None:
    """One library vendored twice is matched once internally but reported per copy, in package order."""
    def copy(layer: str) -> Package:
        return Package(name="golang.org/x/net", version="v0.0.0-20210510120150-4163338589ed", ecosystem=Ecosystem.GO,
                       purl="pkg:golang/golang.org/x/net@v0.0.0-20210510120150-4163338589ed", layer=layer)

    other = pkg(Ecosystem.PYPI, "not-in-the-sample", "1.0")
    found = list(match([copy("sha256:aaa"), other, copy("sha256:bbb")], sample_db))
    first = [m for m in found if m.package.layer == "sha256:aaa"]
    second = [m for m in found if m.package.layer == "sha256:bbb"]
    assert first and [m.vulnerability_id for m in first] == [m.vulnerability_id for m in second]
    assert "CVE-2021-33194" in ids(first)
    assert found == first + second  # package order is kept


def test_distro_not_affected_verdicts_are_kept_and_never_match(tmp_path: Path) -> None:
    """Alpine's secfixes "0" and the Debian tracker's fixed_version "0" are stored as not-affected, not dropped."""
    secdb = {"distroversion": "v3.19", "reponame": "main", "packages": [{"pkg": {"name": "busybox", "secfixes": {
        "0": ["CVE-2026-50001"], "1.36.1-r16": ["CVE-2026-50002"]}}}]}
    tracker = {"bash": {"CVE-2026-50003": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "0",
                                                                     "urgency": "unimportant"}}}}}
    (tmp_path / "main.json").write_text(json.dumps(secdb))
    (tmp_path / "tracker.json").write_text(json.dumps(tracker))
    import_paths(tmp_path / "v.db", [str(tmp_path / "main.json"), str(tmp_path / "tracker.json")])
    with VulnDB(tmp_path / "v.db") as db:
        stored = {(e.name, e.status) for entries in (db.candidates_by_name("Alpine", "3.19", ["busybox"]),
                                                      db.candidates_by_name("Debian", "12", ["bash"]))
                  for hits in entries.values() for _, e in hits}
        assert stored == {("busybox", DistroStatus.NOT_AFFECTED), ("busybox", DistroStatus.FIXED),
                          ("bash", DistroStatus.NOT_AFFECTED)}
        alpine = Distro("alpine", "3.19.1")
        found = list(match([pkg(Ecosystem.ALPINE, "busybox", "1.36.1-r15", alpine, source="busybox"),
                            pkg(Ecosystem.DEBIAN, "bash", "5.2.15-2+b2", Distro("debian", "12"), source="bash")], db))
    assert ids(found) == {"CVE-2026-50002"}
