"""Java archives: JAR/WAR/EAR ``pom.properties`` and ``MANIFEST.MF``, nested archives too.

Each ``META-INF/maven/G/A/pom.properties`` is one package; an archive without
one falls back to its manifest, then to its file name (``name-1.2.3.jar``).
Nested archives (``WEB-INF/lib``, ``BOOT-INF/lib``) are read in memory up to a
depth and a total size, so a zip bomb costs at most ``MAX_TOTAL`` bytes.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from typing import IO

from cloudward.distribute.image import FileEntry
from cloudward.distribute.packages import Ecosystem, Package

log = logging.getLogger(__name__)
ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".jpi", ".hpi", ".par", ".sar")
MAX_ARCHIVE = 512 * 1024 * 1024
MAX_NESTED = 64 * 1024 * 1024
MAX_TOTAL = 256 * 1024 * 1024
MAX_DEPTH = 3
_FILENAME = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+?)-(?P<version>\d[\w.+-]*?)(?:-sources|-bin)?\.[a-z]ar$")


def _props(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def _manifest(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if line.startswith(" ") and key:
            out[key] += line[1:]
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            out[key] = value.strip()
    return out


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_TOTAL

    def read(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
        if info.file_size > min(limit, self.left):
            return None
        with zf.open(info) as fh:
            data = fh.read(min(limit, self.left) + 1)
        self.left -= len(data)
        return data if len(data) <= limit else None


def scan_archive(fh: IO[bytes], where: str, depth: int, budget: _Budget) -> list[Package]:
    out: list[Package] = []
    with zipfile.ZipFile(fh) as zf:
        infos = zf.infolist()
        found_pom = False
        manifest: dict[str, str] = {}
        for info in infos:
            name = info.filename
            if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
                data = budget.read(zf, info, 1024 * 1024)
                props = _props(data.decode("utf-8", "replace")) if data else {}
                if props.get("groupId") and props.get("artifactId") and props.get("version"):
                    found_pom = True
                    out.append(Package(name=f"{props['groupId']}:{props['artifactId']}", version=props["version"],
                                       ecosystem=Ecosystem.MAVEN, purl="", path=where))
            elif name == "META-INF/MANIFEST.MF":
                data = budget.read(zf, info, 1024 * 1024)
                manifest = _manifest(data.decode("utf-8", "replace")) if data else {}
        if not found_pom:
            pkg = _from_manifest(manifest, where)
            if pkg is not None:
                out.append(pkg)
        if depth < MAX_DEPTH:
            for info in infos:
                if info.filename.lower().endswith(ARCHIVE_SUFFIXES) and not info.is_dir():
                    data = budget.read(zf, info, MAX_NESTED)
                    if data is None:
                        log.info("skipping nested archive %s!/%s: over the size budget", where, info.filename)
                        continue
                    try:
                        out += scan_archive(io.BytesIO(data), f"{where}!/{info.filename}", depth + 1, budget)
                    except (zipfile.BadZipFile, EOFError, ValueError) as e:
                        log.info("nested archive %s!/%s unreadable: %s", where, info.filename, e)
    return out


def _from_manifest(manifest: dict[str, str], where: str) -> Package | None:
    base = where.rsplit("/", 1)[-1]
    m = _FILENAME.match(base)
    title = manifest.get("Implementation-Title") or manifest.get("Bundle-SymbolicName", "").split(";")[0]
    version = manifest.get("Implementation-Version") or manifest.get("Bundle-Version")
    group = manifest.get("Implementation-Vendor-Id") or ""
    artifact = m.group("name") if m else title
    if not version and m:
        version = m.group("version")
    if not artifact or not version:
        return None
    if not group and "." in title and title.endswith("." + artifact):
        group = title[: -len(artifact) - 1]
    return Package(name=f"{group}:{artifact}" if group else artifact, version=version, ecosystem=Ecosystem.MAVEN,
                   purl="", path=where)


class JavaCataloger:
    name = "java"

    def wants(self, entry: FileEntry) -> bool:
        return entry.path.lower().endswith(ARCHIVE_SUFFIXES) and entry.size <= MAX_ARCHIVE

    def analyze(self, entry: FileEntry, content: IO[bytes]) -> list[Package]:
        try:
            return scan_archive(content, entry.display_path, 0, _Budget())
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
            log.info("%s in layer %s is not a readable archive: %s", entry.display_path, entry.layer, e)
            return []
