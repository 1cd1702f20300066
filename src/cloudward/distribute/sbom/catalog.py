"""The cataloger seam: analyzers that turn files into packages, and the pass that finishes them.

A cataloger is an ``Analyzer`` (``wants`` by path/mode/size, ``analyze`` content →
``Package`` values). It cannot know the distro while layers stream by, so it
leaves ``purl`` empty for OS packages; ``finish`` then sets distro, ecosystem,
purl, layer and path from the hit and the detected OS.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from cloudward.distribute.image import Analyzer, WalkResult
from cloudward.distribute.packages import Distro, Ecosystem, Package
from cloudward.distribute.sbom.purls import os_ecosystem, purl_for

log = logging.getLogger(__name__)


def default_catalogers() -> list[Analyzer]:
    """Every built-in cataloger, in one place (no registration at import time)."""
    from cloudward.distribute.sbom.apk import ApkCataloger
    from cloudward.distribute.sbom.binaries import BinaryCataloger
    from cloudward.distribute.sbom.dpkg import DpkgCataloger
    from cloudward.distribute.sbom.java import JavaCataloger
    from cloudward.distribute.sbom.npm import NpmCataloger
    from cloudward.distribute.sbom.osrelease import OsReleaseAnalyzer
    from cloudward.distribute.sbom.python import PythonCataloger
    from cloudward.distribute.sbom.rpm import RpmCataloger

    return [OsReleaseAnalyzer(), DpkgCataloger(), ApkCataloger(), RpmCataloger(), PythonCataloger(),
            NpmCataloger(), JavaCataloger(), BinaryCataloger()]


CATALOGER_NAMES = ("dpkg", "apk", "rpm", "python", "npm", "java", "binary")


def finish(result: WalkResult, distro: Distro | None, names: Sequence[str] = CATALOGER_NAMES) -> list[Package]:
    """Packages from the files still visible in the final filesystem, with purls and locations."""
    out: list[Package] = []
    seen: set[tuple[str, str | None]] = set()
    for name in names:
        for hit in result.visible(name):
            for pkg in hit.results:
                assert isinstance(pkg, Package)
                eco = pkg.ecosystem
                if eco in (Ecosystem.DEBIAN, Ecosystem.ALPINE, Ecosystem.RPM):
                    eco = os_ecosystem(eco, distro)
                done = dataclasses.replace(pkg, ecosystem=eco, layer=hit.entry.layer,
                                           path=pkg.path or hit.entry.display_path,
                                           distro=distro if eco not in _LANG else None)
                done = dataclasses.replace(done, purl=purl_for(done, distro))
                key = (done.purl, done.path)
                if key in seen:
                    continue
                seen.add(key)
                out.append(done)
    out.sort(key=lambda p: (p.ecosystem.value, p.name, p.version, p.path or ""))
    return out


_LANG = frozenset({Ecosystem.PYPI, Ecosystem.NPM, Ecosystem.GO, Ecosystem.MAVEN, Ecosystem.CRATES_IO,
                   Ecosystem.RUBYGEMS, Ecosystem.NUGET, Ecosystem.PACKAGIST})
