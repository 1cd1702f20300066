"""Packagist ordering, checked against composer/semver and PHP's own ``version_compare``.

The references are Debian's ``php-cli`` and ``php-composer-semver`` (installed by
``make install``); each hypothesis example sends a batch to one ``php`` process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudward.distribute.versions import InvalidVersion, composer, scheme_for

AUTOLOAD = Path("/usr/share/php/Composer/Semver/autoload.php")
needs_php = pytest.mark.skipif(shutil.which("php") is None or not AUTOLOAD.is_file(),
                               reason="Debian packages php-cli and php-composer-semver are not installed "
                                      "(make install)")

_num = st.integers(0, 12).map(str)
_word = st.sampled_from(["alpha", "a", "beta", "b", "RC", "rc", "p", "pl", "patch", "stable", "dev", "foo", "c"])
_sep = st.sampled_from(["", ".", "-", "_"])
composer_versions = st.builds(
    lambda v, parts, mod, dev, build: v + ".".join(parts) + mod + dev + build,
    st.sampled_from(["", "v", "V"]),
    st.lists(_num, min_size=1, max_size=5),
    st.one_of(st.just(""), st.builds(lambda s, w, n: s + w + n, _sep, _word,
                                     st.one_of(st.just(""), _num, st.builds(lambda a, b: f"{a}.{b}", _num, _num)))),
    st.sampled_from(["", "-dev", ".dev", "dev"]),
    st.sampled_from(["", "+build.5"]),
)
raw_versions = st.text("0123456789.-_+abdeprlcRC#~ ", min_size=1, max_size=10)


def _php(code: str, data: object) -> list[object]:
    out = subprocess.run(["php", "-r", code], input=json.dumps(data), capture_output=True, text=True, check=True,
                         timeout=60)
    result: list[object] = json.loads(out.stdout)
    return result


_NORMALIZE = (f'require "{AUTOLOAD}"; $p = new Composer\\Semver\\VersionParser(); $out = [];'
              'foreach (json_decode(stream_get_contents(STDIN)) as $v) {'
              '  try { $out[] = $p->normalize($v); } catch (Exception $e) { $out[] = null; } }'
              'echo json_encode($out);')
_VERSION_COMPARE = ('$out = []; foreach (json_decode(stream_get_contents(STDIN)) as $pair) {'
                    '  $out[] = version_compare($pair[0], $pair[1]); } echo json_encode($out);')


def _mine_normalized(v: str) -> str | None:
    try:
        return composer.normalize(v)
    except InvalidVersion:
        return None


@needs_php
@settings(max_examples=25, deadline=None)
@given(st.lists(composer_versions, min_size=40, max_size=40))
def test_normalize_matches_composer(versions: list[str]) -> None:
    expected = _php(_NORMALIZE, versions)
    assert [_mine_normalized(v) for v in versions] == expected


@needs_php
@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(raw_versions, raw_versions), min_size=40, max_size=40))
def test_version_compare_matches_php_on_any_text(pairs: list[tuple[str, str]]) -> None:
    expected = _php(_VERSION_COMPARE, pairs)
    assert [composer.version_compare(a, b) for a, b in pairs] == expected


@needs_php
@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(composer_versions, composer_versions), min_size=40, max_size=40))
def test_compare_is_composers_order(pairs: list[tuple[str, str]]) -> None:
    """Normalise both, then version_compare — what Composer's Comparator does (branches excluded)."""
    expected = _php(_NORMALIZE.replace("$out[] = $p->normalize($v);",
                                       "$out[] = version_compare($p->normalize($v[0]), $p->normalize($v[1]));"),
                    pairs)
    for (a, b), want in zip(pairs, expected, strict=True):
        if want is None or composer.normalize(a).startswith("dev-") or composer.normalize(b).startswith("dev-"):
            continue  # one of them is not a version Composer reads, or a branch
        assert composer.compare(a, b) == want, (a, b)


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("v1.2", "1.2.0", 0),                 # a leading v and missing parts normalise away
    ("1.0.0-beta2", "1.0.0", -1),         # pre-releases before the release
    ("1.0.0-RC1", "1.0.0-beta9", 1),
    ("1.0.0-dev", "1.0.0-alpha1", -1),    # dev below alpha
    ("1.0.0-patch1", "1.0.0", 1),         # p / pl / patch after the release
    ("1.0.0-pl2", "1.0.0-p2", 0),
    ("1.0.0a1", "1.0.0-alpha1", 0),
    ("5.4.10", "5.4.9", 1),               # numeric, not lexical
    ("2.1.x-dev", "2.1.5", 1),            # a numeric branch alias sorts as 2.1.9999999.9999999-dev
])
def test_composer_tricky_cases(a: str, b: str, expected: int) -> None:
    assert composer.compare(a, b) == expected
    assert scheme_for("Packagist").compare(a, b) == expected


@pytest.mark.parametrize("bad", ["dev-main", "master", "not-a-version"])
def test_branches_and_junk_are_not_comparable(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        composer.compare(bad, "1.0.0")
