"""Tables of known tricky cases for the schemes without a reference implementation on this machine.

Each ascending list comes from the ecosystem's own documentation or test suite
(named per table), so a pass here means agreement with the ecosystem, not with
our own code.
"""

from __future__ import annotations

import itertools

import pytest

from cloudward.distribute.versions import InvalidVersion, compare, go, maven, nuget, rubygems, scheme_for, semver


def _assert_ascending(fn, versions: list[str]) -> None:  # type: ignore[no-untyped-def]
    for (i, a), (j, b) in itertools.combinations(enumerate(versions), 2):
        assert fn(a, b) == -1, f"{a} should sort before {b}"
        assert fn(b, a) == 1, f"{b} should sort after {a}"


# semver.org, section 11
SEMVER_SPEC = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
               "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1"]


def test_semver_spec_precedence() -> None:
    _assert_ascending(semver.compare, SEMVER_SPEC)
    assert semver.compare("1.0.0+build.1", "1.0.0+build.2") == 0
    assert semver.compare("v1.2.3", "1.2.3") == 0


# Go: pseudo-versions (go.dev/ref/mod#pseudo-versions) sit between the base release and the next one.
GO_ORDER = ["0.0.0-20191109021931-daa7c04131f5", "0.1.0", "1.2.3", "1.2.4-0.20191109021931-daa7c04131f5",
            "1.2.4-pre", "1.2.4-pre.0.20191109021931-daa7c04131f5", "1.2.4", "1.21.0-rc.2", "1.21.0", "1.21.3"]


def test_go_pseudo_versions_and_toolchains() -> None:
    _assert_ascending(go.compare, GO_ORDER)
    assert go.compare("v2.0.0+incompatible", "2.0.0") == 0
    assert go.compare("go1.21rc2", "1.21.0") == -1
    assert go.compare("go1.21.3", "v1.21.3") == 0
    assert go.compare("go1.22", "1.22.0") == 0


# Maven's ComparableVersionTest (VERSIONS_QUALIFIER and VERSIONS_NUMBER), ascending.
MAVEN_QUALIFIERS = ["1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11", "1-rc",
                    "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1",
                    "1-1-snapshot", "1-1", "1-2", "1-123"]
MAVEN_NUMBERS = ["2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
                 "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a",
                 "11b", "11c", "11m"]


def test_maven_qualifier_order() -> None:
    _assert_ascending(maven.compare, MAVEN_QUALIFIERS)


def test_maven_number_order() -> None:
    _assert_ascending(maven.compare, MAVEN_NUMBERS)


@pytest.mark.parametrize(("a", "b"), [("1", "1.0"), ("1", "1.0.0"), ("1", "1-0"), ("1", "1.ga"), ("1", "1-GA"),
                                      ("1", "1-final"), ("1", "1.RELEASE"), ("1a", "1-a"), ("1a", "1.0-a"),
                                      ("1cr", "1rc"), ("1m3", "1milestone3"), ("1A", "1a"), ("1b2", "1-beta-2")])
def test_maven_equal(a: str, b: str) -> None:
    assert maven.compare(a, b) == 0


def test_maven_qualifiers_are_not_lexical() -> None:
    # the classic false negative: reading "2.0.1-SNAPSHOT" or "2.17.0-rc1" as newer than the release
    assert maven.compare("2.17.0-rc1", "2.17.0") == -1
    assert maven.compare("2.15.0.Final", "2.15.0") == 0
    assert maven.compare("2.15.0-SP1", "2.15.0") == 1
    assert maven.compare("2.9.10.8", "2.9.10") == 1


# Gem::Version's own tests (test_gem_version.rb: test_spaceship, test_eql_eh, test_prerelease)
def test_rubygems_order() -> None:
    _assert_ascending(rubygems.compare, ["1.0.a", "1.0.a.2", "1.0.b1", "1.0", "1.0.1", "1.8.2.a", "1.8.2",
                                         "1.8.2.1", "5.a", "5.0.0.rc2", "5.0.0"])
    assert rubygems.compare("1.0", "1") == 0
    assert rubygems.compare("1.0.0.a.1.0", "1.0.0.a.1") == 0
    assert rubygems.compare("1.0.0-rc1", "1.0.0.pre.rc1") == 0
    with pytest.raises(InvalidVersion):
        rubygems.compare("junk", "1.0")


# NuGet.Versioning docs ("Version precedence") and its tests.
def test_nuget_order() -> None:
    _assert_ascending(nuget.compare, ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-beta.2",
                                      "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.0.1", "1.0.1", "1.1"])
    assert nuget.compare("1.0", "1.0.0.0") == 0
    assert nuget.compare("1.0.01", "1.0.1") == 0
    assert nuget.compare("1.0.0-BETA", "1.0.0-beta") == 0
    assert nuget.compare("1.0.0+abc", "1.0.0") == 0


def test_scheme_lookup_by_osv_ecosystem() -> None:
    assert scheme_for("Debian:12") is scheme_for("Debian")
    assert compare("Alpine:v3.19", "1.2.3-r1", "1.2.3-r0") == 1
    with pytest.raises(KeyError):
        scheme_for("Nonexistent")
