"""Python: installed distributions (``*.dist-info/METADATA``, ``*.egg-info``) and lock files.

Core metadata is RFC 822 (the email header format), read with ``email.parser``.
``requirements.txt`` contributes exactly pinned lines (``name==version``);
``poetry.lock`` every locked package (TOML, read with ``tomllib``).
"""

from __future__ import annotations

import email.parser
import logging
import re
import tomllib
from typing import IO

from cloudward.distribute.image import FileEntry
from cloudward.distribute.packages import Ecosystem, Package

log = logging.getLogger(__name__)
MAX_META = 16 * 1024 * 1024
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*"
                  r"(?:;.*)?(?:#.*)?$")
_LICENSE_CLASSIFIER = "License :: OSI Approved :: "


def parse_metadata(text: str) -> Package | None:
    msg = email.parser.HeaderParser().parsestr(text)
    name, version = msg.get("Name"), msg.get("Version")
    if not name or not version:
        return None
    licenses: list[str] = []
    expr = msg.get("License-Expression")
    if expr:
        licenses.append(expr.strip())
    else:
        lic = msg.get("License")
        if lic and "\n" not in lic.strip() and len(lic) < 100 and lic.strip().upper() != "UNKNOWN":
            licenses.append(lic.strip())
        elif not lic or lic.strip().upper() == "UNKNOWN" or "\n" in lic.strip():
            licenses += [c[len(_LICENSE_CLASSIFIER):] for c in msg.get_all("Classifier") or []
                         if c.startswith(_LICENSE_CLASSIFIER)]
    return Package(name=str(name).strip(), version=str(version).strip(), ecosystem=Ecosystem.PYPI, purl="",
                   licenses=tuple(licenses))


def parse_requirements(text: str) -> list[Package]:
    out = []
    for line in text.splitlines():
        m = _PIN.match(line)
        if m:
            out.append(Package(name=m.group(1), version=m.group(2), ecosystem=Ecosystem.PYPI, purl=""))
    return out


def parse_poetry_lock(text: str) -> list[Package]:
    doc = tomllib.loads(text)
    out = []
    for p in doc.get("package") or []:
        if isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("version"), str):
            out.append(Package(name=p["name"], version=p["version"], ecosystem=Ecosystem.PYPI, purl=""))
    return out


class PythonCataloger:
    name = "python"

    def wants(self, entry: FileEntry) -> bool:
        if entry.size > MAX_META:
            return False
        p = entry.path
        base = p.rsplit("/", 1)[-1]
        if base == "METADATA":
            return p.endswith(".dist-info/METADATA")
        if base == "PKG-INFO":
            return p.endswith(".egg-info/PKG-INFO")
        if base.endswith(".egg-info"):
            return True  # a single-file egg-info (distutils)
        return base in ("requirements.txt", "poetry.lock")

    def analyze(self, entry: FileEntry, content: IO[bytes]) -> list[Package]:
        text = content.read(MAX_META).decode("utf-8", "replace")
        base = entry.path.rsplit("/", 1)[-1]
        try:
            if base == "requirements.txt":
                return parse_requirements(text)
            if base == "poetry.lock":
                return parse_poetry_lock(text)
        except tomllib.TOMLDecodeError as e:
            log.warning("%s in layer %s is not valid TOML: %s", entry.display_path, entry.layer, e)
            return []
        pkg = parse_metadata(text)
        return [pkg] if pkg else []
