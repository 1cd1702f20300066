"""Go and Rust binaries: module build info embedded in ELF files.

Go (≥ 1.13) writes ``.go.buildinfo``: a 16-byte header (``\\xff Go buildinf:``,
pointer size, flags). Since Go 1.18 (flag 0x2) the version and module info follow
inline as varint-prefixed strings; before that, two pointers lead to Go string
headers, resolved through the ELF segments. The module info lists ``path``,
``mod`` and ``dep`` lines (``=>`` for replacements). Rust binaries built with
cargo-auditable carry ``.dep-v0``: zlib-compressed JSON of the crate graph.
ELF parsing is pyelftools'.
"""

from __future__ import annotations

import io
import logging
import struct
import zlib
from typing import IO, Any

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from cloudward.core import jsonsafe
from cloudward.distribute.image import FileEntry
from cloudward.distribute.packages import Ecosystem, Package

log = logging.getLogger(__name__)
MAGIC = b"\xff Go buildinf:"
MAX_BINARY = 512 * 1024 * 1024
MAX_DEP_JSON = 16 * 1024 * 1024


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data):
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            break
    raise ValueError("bad varint")


def _read_vaddr(elf: Any, addr: int, size: int) -> bytes:
    for seg in elf.iter_segments():
        start = seg["p_vaddr"]
        if start <= addr < start + seg["p_filesz"]:
            data: bytes = seg.data()
            off = addr - start
            return data[off:off + size]
    return b""


def read_go_buildinfo(elf: Any) -> tuple[str, str] | None:
    """(Go version, module info text) from ``.go.buildinfo``, or ``None``."""
    section = elf.get_section_by_name(".go.buildinfo")
    if section is None:
        return None
    data: bytes = section.data()
    if not data.startswith(MAGIC) or len(data) < 32:
        return None
    ptr_size, flags = data[14], data[15]
    if flags & 0x2:
        n, pos = _varint(data, 32)
        version = data[pos:pos + n].decode("utf-8", "replace")
        n, pos = _varint(data, pos + n)
        modinfo = data[pos:pos + n]
    else:
        endian = ">" if flags & 0x1 else "<"
        fmt = endian + ("Q" if ptr_size == 8 else "I")

        def go_string(addr: int) -> bytes:
            header = _read_vaddr(elf, addr, 2 * ptr_size)
            if len(header) < 2 * ptr_size:
                return b""
            ptr, length = struct.unpack(endian + ("QQ" if ptr_size == 8 else "II"), header)
            return _read_vaddr(elf, ptr, min(length, MAX_DEP_JSON))

        version = go_string(struct.unpack_from(fmt, data, 16)[0]).decode("utf-8", "replace")
        modinfo = go_string(struct.unpack_from(fmt, data, 16 + ptr_size)[0])
    if len(modinfo) >= 33 and modinfo[-17] == 0x0A:
        modinfo = modinfo[16:-16]
    return version, modinfo.decode("utf-8", "replace")


def go_packages(version: str, modinfo: str) -> list[Package]:
    out = []
    if version.startswith("go"):
        out.append(Package(name="stdlib", version="v" + version[2:].split(" ")[0].split("-")[0],
                           ecosystem=Ecosystem.GO, purl=""))
    last: Package | None = None
    for line in modinfo.splitlines():
        parts = line.split("\t")
        if parts[0] in ("mod", "dep") and len(parts) >= 3:
            last = None
            if parts[2] == "(devel)" or not parts[2]:
                continue
            last = Package(name=parts[1], version=parts[2], ecosystem=Ecosystem.GO, purl="")
            out.append(last)
        elif parts[0] == "=>" and len(parts) >= 3 and last is not None and parts[2]:
            out[-1] = Package(name=parts[1], version=parts[2], ecosystem=Ecosystem.GO, purl="")
            last = None
    return out


def rust_packages(elf: Any) -> list[Package]:
    section = elf.get_section_by_name(".dep-v0")
    if section is None:
        return []
    try:
        d = zlib.decompressobj()
        raw = d.decompress(section.data(), MAX_DEP_JSON)
        doc = jsonsafe.loads(raw)
    except (zlib.error, ValueError) as e:
        log.info("unreadable cargo-auditable data: %s", e)
        return []
    out = []
    for p in doc.get("packages") or []:
        if not isinstance(p, dict) or p.get("root") or p.get("kind") == "build" or p.get("source") == "local":
            continue
        if isinstance(p.get("name"), str) and isinstance(p.get("version"), str):
            out.append(Package(name=p["name"], version=p["version"], ecosystem=Ecosystem.CRATES_IO, purl=""))
    return out


class BinaryCataloger:
    name = "binary"

    def wants(self, entry: FileEntry) -> bool:
        return entry.executable and 1024 < entry.size <= MAX_BINARY

    def analyze(self, entry: FileEntry, content: IO[bytes]) -> list[Package]:
        if content.read(4) != b"\x7fELF":
            return []
        content.seek(0)
        try:
            elf = ELFFile(content if content.seekable() else io.BytesIO(content.read()))
            out: list[Package] = []
            info = read_go_buildinfo(elf)
            if info is not None:
                out += go_packages(*info)
            out += rust_packages(elf)
            return out
        except (ELFError, ValueError, struct.error, OSError) as e:
            log.info("%s in layer %s: unreadable ELF: %s", entry.display_path, entry.layer, e)
            return []
