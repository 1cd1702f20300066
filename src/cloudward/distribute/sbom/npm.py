"""npm: ``node_modules/**/package.json`` of installed packages, and ``package-lock.json``.

A ``package.json`` counts only at a package root inside ``node_modules``
(``node_modules/NAME/package.json`` or ``node_modules/@SCOPE/NAME/package.json``);
others are projects or test fixtures. Lock files v1 (``dependencies``) and v2/v3
(``packages``) are read; a package both installed and locked is reported once per path.
"""

from __future__ import annotations

import logging
from typing import IO, Any

from cloudward.core import jsonsafe
from cloudward.distribute.image import FileEntry
from cloudward.distribute.packages import Ecosystem, Package

log = logging.getLogger(__name__)
MAX_JSON = 64 * 1024 * 1024


def _licenses(doc: dict[str, Any]) -> tuple[str, ...]:
    lic = doc.get("license")
    if isinstance(lic, str) and lic:
        return (lic,)
    if isinstance(lic, dict) and isinstance(lic.get("type"), str):
        return (lic["type"],)
    many = doc.get("licenses")
    if isinstance(many, list):
        return tuple(x["type"] for x in many if isinstance(x, dict) and isinstance(x.get("type"), str))
    return ()


def is_installed_manifest(path: str) -> bool:
    parts = path.split("/")
    if len(parts) < 3 or parts[-1] != "package.json":
        return False
    if parts[-3] == "node_modules":
        return not parts[-2].startswith("@")
    return len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@")


def parse_lock(doc: dict[str, Any]) -> list[Package]:
    out = []
    packages = doc.get("packages")
    if isinstance(packages, dict):
        for key, meta in packages.items():
            if not key or not isinstance(meta, dict) or "node_modules/" not in key or meta.get("link"):
                continue
            name = meta.get("name") or key.rsplit("node_modules/", 1)[-1]
            version = meta.get("version")
            if isinstance(version, str) and version:
                out.append(Package(name=str(name), version=version, ecosystem=Ecosystem.NPM, purl="",
                                   licenses=_licenses(meta)))
        return out
    stack = [doc.get("dependencies")]
    while stack:
        deps = stack.pop()
        if not isinstance(deps, dict):
            continue
        for name, meta in deps.items():
            if isinstance(meta, dict) and isinstance(meta.get("version"), str):
                out.append(Package(name=str(name), version=meta["version"], ecosystem=Ecosystem.NPM, purl=""))
                stack.append(meta.get("dependencies"))
    return out


class NpmCataloger:
    name = "npm"

    def wants(self, entry: FileEntry) -> bool:
        if entry.size > MAX_JSON:
            return False
        return is_installed_manifest(entry.path) or (
            entry.path.endswith("package-lock.json") and "node_modules/" not in entry.path)

    def analyze(self, entry: FileEntry, content: IO[bytes]) -> list[Package]:
        try:
            doc = jsonsafe.loads(content.read(MAX_JSON))
        except (ValueError, UnicodeDecodeError) as e:
            log.info("%s in layer %s is not valid JSON: %s", entry.display_path, entry.layer, e)
            return []
        if not isinstance(doc, dict):
            return []
        if entry.path.endswith("package-lock.json"):
            return parse_lock(doc)
        name, version = doc.get("name"), doc.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            return []
        return [Package(name=name, version=version, ecosystem=Ecosystem.NPM, purl="", licenses=_licenses(doc))]
