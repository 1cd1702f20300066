"""OSV range evaluation against the schema's own algorithm, written out literally here.

The OSV schema (ossf/osv-schema, docs/schema.md "Evaluation") says: sort the
events by version with ``introduced: "0"`` first, walk them, ``introduced``
sets affected, ``fixed`` clears it at the fix, ``last_affected`` clears it
after; ``limit`` caps the range. The matcher avoids the sort for speed; this
test holds it to the literal sort-and-walk on random event lists, with
``packaging`` as the version order.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from cloudward.distribute.match.ranges import affects, in_range
from cloudward.distribute.versions import pep440
from cloudward.distribute.vulndb.model import Affected, Event, Range

_versions = st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 4), st.integers(0, 3))
_events = st.lists(st.one_of(
    st.builds(lambda v: Event("introduced", v), st.one_of(st.just("0"), _versions)),
    st.builds(lambda v: Event("fixed", v), _versions),
    st.builds(lambda v: Event("last_affected", v), _versions),
    st.builds(lambda v: Event("limit", v), st.one_of(st.just("*"), _versions)),
), min_size=1, max_size=6)


def spec_walk(version: str, events: tuple[Event, ...]) -> bool:
    v = Version(version)
    limits = [e.version for e in events if e.kind == "limit"]
    if limits and not any(lim == "*" or v < Version(lim) for lim in limits):
        return False
    ordered = sorted((e for e in events if e.kind != "limit"),
                     key=lambda e: (0, Version("0")) if e.kind == "introduced" and e.version == "0"
                     else (1, Version(e.version)))
    vulnerable = False
    for e in ordered:
        if e.kind == "introduced" and (e.version == "0" or v >= Version(e.version)):
            vulnerable = True
        elif (e.kind == "fixed" and v >= Version(e.version)) or (e.kind == "last_affected" and v > Version(e.version)):
            vulnerable = False
    return vulnerable


@settings(max_examples=3000)
@given(_versions, _events)
def test_in_range_agrees_with_the_schema_walk(version: str, events: list[Event]) -> None:
    inside, fixes = in_range(version, Range("ECOSYSTEM", tuple(events)), pep440.compare)
    assert inside == spec_walk(version, tuple(events)), (version, events)
    if inside:  # the fixes a report names: every fix above the installed version
        assert fixes == [e.version for e in events if e.kind == "fixed" and Version(version) < Version(e.version)]


def test_fixed_and_introduced_at_the_same_version_follow_listing_order() -> None:
    """Equal versions keep their listed order in the schema's stable sort: the later event wins."""
    reopened = Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", "1.0"), Event("introduced", "1.0")))
    closed = Range("ECOSYSTEM", (Event("introduced", "0"), Event("introduced", "1.0"), Event("fixed", "1.0")))
    assert in_range("1.5", reopened, pep440.compare)[0] is True
    assert in_range("1.5", closed, pep440.compare)[0] is False


def test_unreadable_introduced_opens_the_range() -> None:
    """An event we cannot parse must not turn into a silent "not affected"."""
    entry = Affected("PyPI", "", "demo", ranges=(Range("ECOSYSTEM", (Event("introduced", "not a version"),
                                                                     Event("fixed", "2.0"))),))
    assert affects("1.0", entry, pep440.compare) == (True, ["2.0"])
    assert affects("2.0", entry, pep440.compare) == (False, [])
