"""The squashed file view of an image and the analyzer protocol catalogers and scanners use.

Design (docs/image.md): the image is never extracted. ``walk_image`` streams each
layer's tar once, lowest layer first; for every entry it asks each ``Analyzer``
whether it wants the content (by path, mode and size) and, if one does, reads the
file into a spooled buffer and hands it over right there. Analyzers turn content
into small results (parsed packages, secret matches) immediately, so memory holds
results, not files. Whiteouts are applied at the end of each layer; afterwards
``WalkResult.visible`` keeps only hits whose entry is still the topmost one for its
path, while ``WalkResult.hits`` keeps everything — a secret deleted in an upper
layer is still in the image, and scanners say so.
"""

from __future__ import annotations

import dataclasses
import posixpath
from bisect import bisect_left
from collections.abc import Iterator
from typing import IO, Any, Protocol

from cloudward.distribute.image.entries import EntryKind, FileEntry

MAX_SYMLINK_HOPS = 40


class Analyzer(Protocol):
    """Asks for files by metadata, then turns their content into results."""

    name: str

    def wants(self, entry: FileEntry) -> bool: ...

    def analyze(self, entry: FileEntry, content: IO[bytes]) -> list[Any]: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Hit:
    """The results one analyzer produced from one file of one layer."""

    entry: FileEntry
    results: tuple[Any, ...]


class SquashedView:
    """``path → FileEntry`` of the topmost layer that wrote it, after whiteouts."""

    def __init__(self) -> None:
        self._entries: dict[str, FileEntry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[FileEntry]:
        return iter(self._entries.values())

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def get(self, path: str) -> FileEntry | None:
        return self._entries.get(path.strip("/"))

    def put(self, entry: FileEntry) -> None:
        old = self._entries.get(entry.path)
        if old is not None and old.kind is EntryKind.DIR and entry.kind is not EntryKind.DIR:
            self.remove_tree(entry.path, keep_root=False)
        self._entries[entry.path] = entry

    def remove_tree(self, path: str, *, keep_root: bool) -> None:
        """Delete ``path`` and everything under it (``keep_root``: only what is under it, for opaque dirs)."""
        if not keep_root:
            self._entries.pop(path, None)
        prefix = path + "/" if path else ""
        keys = sorted(self._entries)
        i = bisect_left(keys, prefix)
        while i < len(keys) and keys[i].startswith(prefix):
            del self._entries[keys[i]]
            i += 1

    def resolve(self, path: str) -> FileEntry | None:
        """Follow symlinks (in every component) as the kernel would inside a chroot of the image."""
        parts = [p for p in path.split("/") if p and p != "."]
        done: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = "/".join([*done, part])
            entry = self._entries.get(candidate)
            if entry is not None and entry.kind is EntryKind.SYMLINK and entry.linkname is not None:
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None
                target = entry.linkname
                base = [] if target.startswith("/") else list(done)
                parts = [p for p in target.split("/") if p and p != "."] + parts
                done = base
                continue
            done.append(part)
        return self._entries.get("/".join(done))


@dataclasses.dataclass
class WalkResult:
    """The squashed view plus every analyzer's hits, in layer order."""

    view: SquashedView
    hits: dict[str, list[Hit]]
    layers: tuple[str, ...] = ()

    def visible(self, analyzer: str) -> list[Hit]:
        """Hits whose file is still in the final filesystem (not deleted or overwritten above)."""
        return [h for h in self.hits.get(analyzer, []) if self.view.get(h.entry.path) is h.entry]

    def all_hits(self, analyzer: str) -> list[Hit]:
        return list(self.hits.get(analyzer, []))

    def hit_for(self, analyzer: str, path: str) -> Hit | None:
        """The visible hit of ``analyzer`` on ``path``, following symlinks (``etc/os-release``)."""
        entry = self.view.resolve(path)
        if entry is None:
            return None
        return next((h for h in self.hits.get(analyzer, []) if h.entry is entry), None)


def normalize_member_path(name: str) -> str | None:
    """``./usr//bin/`` → ``usr/bin``; ``None`` when ``..`` would climb above the root."""
    depth = 0
    out: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not out:
                return None
            out.pop()
            depth -= 1
            continue
        out.append(part)
        depth += 1
    return "/".join(out)


def parent_dir(path: str) -> str:
    return posixpath.dirname(path)
