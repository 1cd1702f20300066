"""The Debian sample: an old bookworm rootfs against fixes taken from real Debian changelogs.

The fixes (``bookworm-changelog-derived/fixes.tsv``) are written into the Debian
security tracker's JSON export format — the same file ``db import`` reads in real
use — with the lowest version that mentions each CVE as its fix (as Debian's
tracker records it). The expected (source, CVE) pairs were computed by the data's
author with ``dpkg --compare-versions``; we must find exactly those.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from debian.debian_support import version_compare

from cloudward.distribute.match import match
from cloudward.distribute.vulndb import VulnDB, import_paths
from tests.distribute.match.kit import OLD_ROOTFS, SAMPLE, dpkg_packages, need_shared


def tracker_json_from_fixes(target: Path, release: str = "bookworm") -> Path:
    lowest: dict[tuple[str, str], tuple[str, str]] = {}
    with open(SAMPLE / "debian" / "bookworm-changelog-derived" / "fixes.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            for cve in row["cves"].split():
                key = (row["source"], cve)
                old = lowest.get(key)
                if old is None or version_compare(row["fixed_version"], old[0]) < 0:
                    lowest[key] = (row["fixed_version"], row["urgency"])
    data: dict[str, dict[str, object]] = {}
    for (source, cve), (fixed, urgency) in lowest.items():
        data.setdefault(source, {})[cve] = {"releases": {release: {
            "status": "resolved", "repositories": {release: fixed}, "fixed_version": fixed, "urgency": urgency}}}
    target.write_text(json.dumps(data))
    return target


@pytest.fixture
def bookworm_db(tmp_path: Path) -> Path:
    need_shared()
    db = tmp_path / "vuln.db"
    import_paths(db, [str(tracker_json_from_fixes(tmp_path / "tracker.json"))])
    return db


def expected_pairs() -> set[tuple[str, str]]:
    lines = (OLD_ROOTFS / "expected-matches.tsv").read_text().splitlines()
    rows = csv.DictReader((ln for ln in lines if not ln.startswith("#")), delimiter="\t")
    return {(r["source"], r["cve"]) for r in rows}


def test_old_bookworm_rootfs_matches_exactly_the_expected_cves(bookworm_db: Path) -> None:
    packages = dpkg_packages(OLD_ROOTFS)
    with VulnDB(bookworm_db) as db:
        found = list(match(packages, db))
    pairs = {(m.matched_name, m.vulnerability_id) for m in found}
    assert pairs == expected_pairs()
    # every binary of a vulnerable source is reported (libc6 and libc-bin both come from glibc)
    glibc_binaries = {m.package.name for m in found if m.vulnerability_id == "CVE-2023-6246"}
    assert {"libc6", "libc-bin"} <= glibc_binaries
    one = next(m for m in found if m.vulnerability_id == "CVE-2024-0553")
    assert one.fixed_versions == ("3.7.9-2+deb12u2",)
    assert one.aliases == ("DEBIAN-CVE-2024-0553",)
    assert one.matched_version == "3.7.9-2+deb12u1"


def test_binary_epoch_is_not_compared_with_source_fix(tmp_path: Path) -> None:
    """util-linux binaries carry epoch 1 (1:2.38.1-5+deb12u1) but the source version has none.

    Comparing the binary version with a source fix would read 1:… as newer than any fix: a false negative.
    The advisory (synthetic id) is fixed in the real later bookworm version 2.38.1-5+deb12u3.
    """
    need_shared()
    tracker = {"util-linux": {"CVE-1900-0100": {"releases": {"bookworm": {
        "status": "resolved", "fixed_version": "2.38.1-5+deb12u3", "urgency": "low"}}}}}
    (tmp_path / "t.json").write_text(json.dumps(tracker))
    import_paths(tmp_path / "v.db", [str(tmp_path / "t.json")])
    packages = [p for p in dpkg_packages(OLD_ROOTFS) if p.source_name == "util-linux"]
    assert any(p.version.startswith("1:") for p in packages)
    with VulnDB(tmp_path / "v.db") as db:
        found = list(match(packages, db))
    assert {m.package.name for m in found} == {p.name for p in packages}
    assert {m.matched_version for m in found} == {"2.38.1-5+deb12u1"}
    assert all(m.severity.value == "low" and m.severity_source == "distro" for m in found)


def test_current_minbase_has_none_of_those(bookworm_db: Path) -> None:
    """The up-to-date minbase rootfs (same packages, newer versions) matches none of the old fixes."""
    packages = dpkg_packages(OLD_ROOTFS.parent / "debian-bookworm-minbase")
    with VulnDB(bookworm_db) as db:
        found = {(m.matched_name, m.vulnerability_id) for m in match(packages, db)}
    assert not (found & expected_pairs())


def test_release_scoping_debian_11_advisories_do_not_apply_to_12(tmp_path: Path) -> None:
    need_shared()
    db = tmp_path / "vuln.db"
    import_paths(db, [str(tracker_json_from_fixes(tmp_path / "tracker.json", release="bullseye"))])
    with VulnDB(db) as vdb:
        assert list(match(dpkg_packages(OLD_ROOTFS), vdb)) == []
