"""Alpine apk: ``/lib/apk/db/installed`` (one block per package; ``o:`` is the origin/source)."""

from __future__ import annotations

from typing import IO

from cloudward.distribute.image import FileEntry
from cloudward.distribute.packages import Ecosystem, Package

MAX_DB = 128 * 1024 * 1024


def parse_installed(text: str) -> list[Package]:
    out = []
    block: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if block.get("P") and block.get("V"):
                lic = block.get("L")
                out.append(Package(name=block["P"], version=block["V"], ecosystem=Ecosystem.ALPINE, purl="",
                                   source_name=block.get("o") or block["P"], source_version=block["V"],
                                   licenses=(lic,) if lic else (), arch=block.get("A")))
            block = {}
        elif len(line) > 2 and line[1] == ":":
            block.setdefault(line[0], line[2:])
    return out


class ApkCataloger:
    name = "apk"

    def wants(self, entry: FileEntry) -> bool:
        return entry.path == "lib/apk/db/installed" and entry.size <= MAX_DB

    def analyze(self, entry: FileEntry, content: IO[bytes]) -> list[Package]:
        return parse_installed(content.read(MAX_DB).decode("utf-8", "replace"))
