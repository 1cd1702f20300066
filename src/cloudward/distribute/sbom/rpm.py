"""rpm: the sqlite rpmdb (RPM ≥ 4.16: ``rpmdb.sqlite``), read from memory.

The database is loaded with ``sqlite3``'s ``deserialize`` (nothing written to
disk) and each ``Packages.blob`` is an rpm header, parsed here: an index of
(tag, type, offset, count) entries over a data store, big-endian, as
rpm's ``lib/header.c`` defines it. Berkeley DB and ndb rpmdbs are not read: no
maintained Python library reads them (docs/image.md).
"""

from __future__ import annotations

import logging
import sqlite3
import struct
from typing import IO

from cloudward.distribute.image import FileEntry
from cloudward.distribute.packages import Ecosystem, Package

log = logging.getLogger(__name__)
MAX_DB = 512 * 1024 * 1024
_PATHS = frozenset({"var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"})
NAME, VERSION, RELEASE, EPOCH, LICENSE, ARCH, SOURCERPM = 1000, 1001, 1002, 1003, 1014, 1022, 1044
_STRING, _INT32, _STRING_ARRAY, _I18NSTRING = 6, 4, 8, 9


def parse_header(blob: bytes) -> dict[int, str | int]:
    """The string and int32 tags of one rpm header blob (the region without the 8-byte magic)."""
    if len(blob) < 8:
        raise ValueError("header blob too short")
    il, dl = struct.unpack_from(">II", blob, 0)
    start = 8 + il * 16
    if il > 100_000 or start + dl > len(blob):
        raise ValueError("header index out of bounds")
    data = blob[start:start + dl]
    out: dict[int, str | int] = {}
    for i in range(il):
        tag, typ, off, count = struct.unpack_from(">iIiI", blob, 8 + i * 16)
        if tag not in (NAME, VERSION, RELEASE, EPOCH, LICENSE, ARCH, SOURCERPM) or not 0 <= off < dl:
            continue
        if typ in (_STRING, _I18NSTRING, _STRING_ARRAY):
            end = data.find(b"\0", off)
            out[tag] = data[off:end if end >= 0 else dl].decode("utf-8", "replace")
        elif typ == _INT32 and count >= 1 and off + 4 <= dl:
            out[tag] = struct.unpack_from(">i", data, off)[0]
    return out


def source_name_version(sourcerpm: str) -> tuple[str | None, str | None]:
    """``openssl-3.0.7-16.el9.src.rpm`` → (``openssl``, ``3.0.7-16.el9``)."""
    if not sourcerpm.endswith(".rpm"):
        return None, None
    stem = sourcerpm.removesuffix(".rpm").rsplit(".", 1)[0]  # drop .src/.nosrc
    parts = stem.rsplit("-", 2)
    if len(parts) != 3:
        return None, None
    return parts[0], f"{parts[1]}-{parts[2]}"


def packages_from_sqlite(data: bytes) -> list[Package]:
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(data)
        rows = conn.execute("SELECT blob FROM Packages").fetchall()
    finally:
        conn.close()
    out = []
    for (blob,) in rows:
        try:
            h = parse_header(bytes(blob))
        except (ValueError, struct.error) as e:
            log.warning("skipping an unreadable rpm header: %s", e)
            continue
        name, version, release = h.get(NAME), h.get(VERSION), h.get(RELEASE)
        if not isinstance(name, str) or not isinstance(version, str) or name == "gpg-pubkey":
            continue
        evr = f"{version}-{release}" if isinstance(release, str) else version
        epoch = h.get(EPOCH)
        if isinstance(epoch, int) and epoch > 0:
            evr = f"{epoch}:{evr}"
        src_name, src_version = source_name_version(str(h.get(SOURCERPM, "")))
        if src_version and isinstance(epoch, int) and epoch > 0:
            src_version = f"{epoch}:{src_version}"
        lic = h.get(LICENSE)
        arch = h.get(ARCH)
        out.append(Package(name=name, version=evr, ecosystem=Ecosystem.RPM, purl="", source_name=src_name,
                           source_version=src_version, licenses=(lic,) if isinstance(lic, str) and lic else (),
                           arch=arch if isinstance(arch, str) else None))
    return out


class RpmCataloger:
    name = "rpm"

    def wants(self, entry: FileEntry) -> bool:
        return entry.path in _PATHS and entry.size <= MAX_DB

    def analyze(self, entry: FileEntry, content: IO[bytes]) -> list[Package]:
        try:
            return packages_from_sqlite(content.read(MAX_DB))
        except sqlite3.DatabaseError as e:
            log.warning("%s in layer %s is not a readable sqlite rpmdb: %s", entry.display_path, entry.layer, e)
            return []
