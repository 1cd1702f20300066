"""What the walker sees in a layer: one ``FileEntry`` per tar member, plus safety limits."""

from __future__ import annotations

import dataclasses
import enum
import stat


class EntryKind(enum.Enum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    OTHER = "other"  # devices, fifos


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class FileEntry:
    """A file as one layer put it: ``path`` is relative to the image root (``etc/os-release``).

    ``layer`` is the digest of the layer that wrote it (``dir:`` sources use the
    directory name); identity matters: the squashed view keeps the very entry of
    the topmost layer, so ``view.get(p) is entry`` says the entry is still visible.
    """

    path: str
    kind: EntryKind
    size: int
    mode: int
    uid: int
    gid: int
    layer: str
    layer_index: int
    linkname: str | None = None

    @property
    def is_file(self) -> bool:
        return self.kind is EntryKind.FILE

    @property
    def executable(self) -> bool:
        return self.kind is EntryKind.FILE and bool(self.mode & 0o111)

    @property
    def setuid(self) -> bool:
        return self.kind is EntryKind.FILE and bool(self.mode & (stat.S_ISUID | stat.S_ISGID))

    @property
    def world_writable(self) -> bool:
        sticky_dir = self.kind is EntryKind.DIR and bool(self.mode & stat.S_ISVTX)
        return self.kind in (EntryKind.FILE, EntryKind.DIR) and bool(self.mode & 0o002) and not sticky_dir

    @property
    def display_path(self) -> str:
        return "/" + self.path


@dataclasses.dataclass(frozen=True, slots=True)
class WalkLimits:
    """Limits against hostile layers; each breach is an ``ImageError`` naming the layer and entry.

    ``max_ratio`` applies once a layer has produced ``ratio_floor`` bytes, so small
    layers of zeros do not trip it but a decompression bomb does.
    """

    max_layer_bytes: int = 64 * 1024**3
    max_entry_size: int = 32 * 1024**3
    max_entries: int = 2_000_000
    max_path_length: int = 4096
    max_ratio: int = 250
    ratio_floor: int = 256 * 1024**2
    max_content_size: int = 512 * 1024**2
