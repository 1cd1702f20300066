"""Writing results: atomically to a file, or to standard output."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cloudward.core.errors import InputError
from cloudward.core.files import atomic_write


def write_output(text: str | bytes, output: str | None) -> None:
    """Write ``text`` to ``output`` (``None`` or ``-`` = stdout) without ever leaving half a file.

    Bytes are written as they are (UTF-8 from a renderer); text is encoded as UTF-8.
    """
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    if data and not data.endswith(b"\n"):
        data += b"\n"
    if output in (None, "-"):
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # a text-only stream (a test's StringIO)
            sys.stdout.write(data.decode("utf-8", "surrogateescape"))
            sys.stdout.flush()
        else:
            buffer.write(data)
            buffer.flush()
        return
    assert output is not None
    target = Path(output)
    if target.is_dir():
        raise InputError("is a directory; give a file name for --output", file=output)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"directory {str(parent)!r} does not exist; create it first", file=output)
    if target.exists() and not target.is_file():  # /dev/null, a FIFO: write in place
        with open(target, "wb") as fh:
            fh.write(data)
        return
    atomic_write(target, data)


def use_color(output: str | None) -> bool:
    """Colour only for a terminal, never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return output in (None, "-") and sys.stdout.isatty()
