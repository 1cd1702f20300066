"""Read one source as text, safely: size limit, binary detection, encodings."""

from __future__ import annotations

import codecs
import sys
from typing import BinaryIO

from cloudward.core.errors import InputError
from cloudward.develop.sources import Source

BINARY_SNIFF = 8192


class BinaryFile(Exception):
    """The file holds binary data; it is skipped, not an error."""


def read_source(source: str | Source, max_size: int, stdin: BinaryIO | None = None) -> str:
    """The text of ``source``; raises InputError (too big, undecodable) or BinaryFile."""
    src = source if isinstance(source, Source) else None
    display = src.display if src else str(source)
    try:
        if src is None or src.path is None:
            stream = stdin if stdin is not None else sys.stdin.buffer
            data = stream.read(max_size + 1)
        else:
            with open(src.path, "rb") as fh:
                data = fh.read(max_size + 1)
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror or e}", file=display) from e
    if len(data) > max_size:
        raise InputError(f"file is larger than the {max_size // (1024 * 1024)} MiB limit; raise it with "
                         "--max-file-size if the file is genuine", file=display)
    return decode(data, display)


def decode(data: bytes, display: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise InputError(f"invalid UTF-16 text at byte {e.start}", file=display) from e
    if b"\x00" in data[:BINARY_SNIFF]:
        raise BinaryFile(display)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); convert the file to "
                         "UTF-8, e.g. with iconv", file=display, line=line) from e
