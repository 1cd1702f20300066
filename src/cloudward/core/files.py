"""Writing files so that nothing is ever half-written: temp file beside the target, fsync, rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cloudward.core.errors import InputError


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically: readers see the old file or the new one, never a mix.

    The temporary file lives in the same directory (a rename is atomic only within
    one filesystem) and is fsynced before the rename, so a crash cannot leave an
    empty file behind a successful-looking rename.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or Path("."))
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_user_file(path: Path, what: str, *, max_size: int, hint: str,
                   error: type[InputError] = InputError) -> bytes:
    """A user-named file's bytes, refusing huge ones; every failure is one line naming the file.

    ``what`` names the file in messages ("key file", "rules file"); ``hint`` says
    what to give instead when the path is missing or a directory.
    """
    try:
        size = path.stat().st_size
        if size > max_size:
            raise error(f"{what} is {size} bytes, over the {max_size} byte limit; is this the right file?",
                        file=str(path))
        return path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} not found; {hint}", file=str(path)) from None
    except IsADirectoryError:
        raise error(f"is a directory; {hint}", file=str(path)) from None
    except OSError as e:
        raise error(f"cannot read {what}: {e.strerror or e}", file=str(path)) from None
