"""dpkg, rpm and PEP 440 ordering, checked against the reference implementations on this machine."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from debian.debian_support import version_compare as debian_compare
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from cloudward.distribute.versions import InvalidVersion, apk, dpkg, pep440, rpm


def sign(n: int) -> int:
    return (n > 0) - (n < 0)


_up = st.text("0123456789.+~abzAZ", min_size=0, max_size=8)
_rev = st.text("0123456789.+~abz", min_size=1, max_size=6)
debian_versions = st.builds(
    lambda e, d, u, r: (f"{e}:" if e is not None else "") + d + u + (f"-{r}" if r else ""),
    st.one_of(st.none(), st.integers(0, 3)), st.sampled_from("0123456789"), _up, st.one_of(st.none(), _rev))


@settings(max_examples=2000)
@given(debian_versions, debian_versions)
def test_dpkg_matches_python_debian(a: str, b: str) -> None:
    assert sign(dpkg.compare(a, b)) == sign(debian_compare(a, b)), (a, b)


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not installed")
@settings(max_examples=60, deadline=None)
@given(debian_versions, debian_versions)
def test_dpkg_matches_dpkg_itself(a: str, b: str) -> None:
    lt = subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0
    eq = subprocess.run(["dpkg", "--compare-versions", a, "eq", b], check=False).returncode == 0
    expected = -1 if lt else 0 if eq else 1
    assert sign(dpkg.compare(a, b)) == expected, (a, b)


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("1.0~rc1", "1.0", -1),                          # tilde sorts before the end
    ("1.0~~", "1.0~", -1),
    ("1:2.38.1-5+deb12u1", "2.38.1-5+deb12u3", 1),  # an epoch beats everything
    ("252.39-1~deb12u2", "252.39-1", -1),            # backports-style revision
    ("1:2.66-4+deb12u3+b1", "1:2.66-4+deb12u3", 1),  # binNMU
    ("2.36-9+deb12u10", "2.36-9+deb12u3", 1),        # numeric, not lexical
    ("1.0a", "1.0+", -1),                            # letters before non-letters
    ("1.0", "1.0-0", 0),
])
def test_dpkg_tricky_cases(a: str, b: str, expected: int) -> None:
    assert dpkg.compare(a, b) == expected
    assert sign(debian_compare(a, b)) == expected


@pytest.mark.parametrize("bad", ["", "a1.0", "1:", "x:1.0", "1.0-", "1.0 beta"])
def test_dpkg_rejects_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        dpkg.compare(bad, "1.0")


_rpm_part = st.text("0123456789abzAZ.~^_+", min_size=1, max_size=8)
rpm_versions = st.builds(
    lambda e, v, r: (f"{e}:" if e is not None else "") + v + (f"-{r}" if r else ""),
    st.one_of(st.none(), st.integers(0, 2)), _rpm_part, st.one_of(st.none(), _rpm_part))


def _rpm_reference(pairs: list[tuple[str, str]]) -> list[int]:
    script = "".join(f'print(rpm.vercmp("{a}", "{b}")); print(" ")\n' for a, b in pairs)
    out = subprocess.run(["rpm", "--eval", f"%{{lua:\n{script}}}"], capture_output=True, text=True, check=True)
    return [int(x) for x in out.stdout.split()]


@pytest.mark.skipif(shutil.which("rpm") is None, reason="Debian package 'rpm' is not installed (make install)")
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(rpm_versions, rpm_versions), min_size=30, max_size=60))
def test_rpm_matches_rpm_itself(pairs: list[tuple[str, str]]) -> None:
    expected = _rpm_reference(pairs)
    got = [sign(rpm.compare(a, b)) for a, b in pairs]
    assert got == [sign(x) for x in expected], [p for p, g, e in zip(pairs, got, expected, strict=True) if g != e]


@pytest.mark.skipif(shutil.which("rpm") is None, reason="Debian package 'rpm' is not installed (make install)")
def test_rpm_tricky_cases_agree_with_rpm() -> None:
    cases = [("1.0~rc1", "1.0", -1), ("1.0^git1", "1.0", 1), ("1.0^git1", "1.0.1", -1), ("1.0~rc1^git1", "1.0~rc1", 1),
             ("1:3.0.7-16.el9", "3.0.9-1.el9", 1), ("3.0.7-16.el9", "3.0.7-16.el9_2", -1), ("1.0a", "1.0", 1),
             ("1.0", "1.a", 1), ("2.0.010", "2.0.9", 1), ("1.0-1", "1.0-1", 0), ("5.1.8-6.el9_1", "5.1.8-6.el9", 1),
             # a present release, even "~" or empty, sorts after a missing one (found by the property test)
             ("0", "0-~", -1), ("1.0", "1.0-", -1), ("1.0-~", "1.0", 1), ("1.0~", "1.0-~", -1)]
    assert [sign(x) for x in _rpm_reference([(a, b) for a, b, _ in cases])] == [e for _, _, e in cases]
    assert [rpm.compare(a, b) for a, b, _ in cases] == [e for _, _, e in cases]


pep440_versions = st.builds(
    lambda ep, rel, pre, post, dev: (f"{ep}!" if ep else "") + ".".join(map(str, rel)) + pre + post + dev,
    st.one_of(st.none(), st.integers(1, 2)), st.lists(st.integers(0, 12), min_size=1, max_size=4),
    st.sampled_from(["", "a1", "b2", "rc1", "rc10", ".alpha3", "-preview1"]),
    st.sampled_from(["", ".post1", "-1", "post2"]), st.sampled_from(["", ".dev0", ".dev3"]))


@settings(max_examples=1000)
@given(pep440_versions, pep440_versions)
def test_pep440_matches_packaging(a: str, b: str) -> None:
    va, vb = Version(a), Version(b)
    assert pep440.compare(a, b) == (va > vb) - (va < vb)


def test_pep440_normalisation_and_errors() -> None:
    assert pep440.compare("1.0", "1.0.0") == 0
    assert pep440.compare("1.0rc1", "1.0") == -1
    assert pep440.compare("1.0.post1", "1.0") == 1
    assert pep440.compare("1!0.1", "2.0") == 1
    with pytest.raises(InvalidVersion):
        pep440.compare("not-a-version", "1.0")


@pytest.mark.parametrize(("a", "b", "expected"), [
    # from apk-tools test/version.data
    ("1.2.3-r1", "1.2.3-r0", 1), ("1.2.3_rc1", "1.2.3", -1), ("1.2.3_p1", "1.2.3", 1),
    ("1.2.3a", "1.2.3", 1), ("1.2.3a", "1.2.4", -1), ("1.02", "1.2", -1), ("1.2.3_alpha", "1.2.3_beta", -1),
    ("1.2.3_beta", "1.2.3_pre", -1), ("1.2.3_pre", "1.2.3_rc", -1), ("1.2.3_rc", "1.2.3", -1),
    ("1.2.3", "1.2.3_cvs", -1), ("1.2.3_cvs", "1.2.3_svn", -1), ("1.2.3_svn", "1.2.3_git", -1),
    ("1.2.3_git", "1.2.3_hg", -1), ("1.2.3_hg", "1.2.3_p", -1), ("1.2.3_rc1", "1.2.3_rc2", -1),
    ("1.2.3_git20230717-r4", "1.2.3-r5", 1), ("1.2.4_git20230717-r4", "1.2.4-r4", 1),
    ("1.2.4_rc1-r4", "1.2.4-r0", -1), ("2.0", "1.99.99", 1), ("1.0.0", "1.0", 1), ("1.36.1-r15", "1.36.1-r2", 1),
])
def test_apk_known_cases(a: str, b: str, expected: int) -> None:
    assert apk.compare(a, b) == expected
    assert apk.compare(b, a) == -expected


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3-x1", "1.2_foo", "1.2A"])
def test_apk_rejects_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        apk.compare(bad, "1.0")
