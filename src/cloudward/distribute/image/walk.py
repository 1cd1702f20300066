"""Stream every layer once, safely, and feed the analyzers; see ``view`` for the design.

Safety: nothing is written to disk except spooled copies of files an analyzer
asked for. Member paths that climb above the root, hard links to paths that do
not exist in the image, layers that inflate past ``max_layer_bytes`` or beyond
``max_ratio`` times their compressed size, too many entries and over-long paths
are refused with an ``ImageError`` naming the layer and the entry. Symlinks are
never followed on the host; ``SquashedView.resolve`` follows them inside the
image with chroot semantics.
"""

from __future__ import annotations

import functools
import gzip
import io
import logging
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO

from cloudward.distribute.image.blobs import VerifyingReader
from cloudward.distribute.image.entries import EntryKind, FileEntry, WalkLimits
from cloudward.distribute.image.errors import DigestMismatchError, ImageError, LimitExceededError
from cloudward.distribute.image.model import Image, Layer
from cloudward.distribute.image.view import Analyzer, Hit, SquashedView, WalkResult, normalize_member_path

log = logging.getLogger(__name__)

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_SPOOL = 8 * 1024 * 1024


class _Counting(io.RawIOBase):
    """Counts bytes through a stream; the decompressed side enforces the bomb limits."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.raw = raw
        self.count = 0
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self._on_read is not None and n:
            self._on_read(self.count)
        return n


def _decompressed(image: str, layer: Layer, raw: IO[bytes], limits: WalkLimits) -> IO[bytes]:
    compressed = _Counting(raw)
    buffered = io.BufferedReader(compressed, 1024 * 1024)
    head = buffered.peek(4)[:4]
    stream: IO[bytes]
    if head[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
    elif head == b"\x28\xb5\x2f\xfd":
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(buffered, read_across_frames=True)
    else:
        stream = buffered

    def check(total: int) -> None:
        if total > limits.max_layer_bytes:
            raise LimitExceededError(image, f"layer {layer.digest} inflates beyond {limits.max_layer_bytes} bytes; "
                                     "refusing a possible decompression bomb")
        if total > limits.ratio_floor and total > limits.max_ratio * max(compressed.count, 1):
            raise LimitExceededError(image, f"layer {layer.digest} inflates more than {limits.max_ratio}x "
                                     f"({compressed.count} → {total} bytes); refusing a decompression bomb")

    out: IO[bytes] = io.BufferedReader(_Counting(stream, check), 1024 * 1024)
    if layer.diff_id:
        out = io.BufferedReader(VerifyingReader(out, image, f"layer {layer.digest} (diff_id)", layer.diff_id, -1),
                                1024 * 1024)
    return out


def _kind(member: tarfile.TarInfo) -> EntryKind:
    if member.isreg():
        return EntryKind.FILE
    if member.isdir():
        return EntryKind.DIR
    if member.issym():
        return EntryKind.SYMLINK
    if member.islnk():
        return EntryKind.HARDLINK
    return EntryKind.OTHER


def _feed(analyzers: Sequence[Analyzer], hits: dict[str, list[Hit]], entry: FileEntry,
          opener: Callable[[], IO[bytes] | None], limits: WalkLimits) -> None:
    if not entry.is_file or entry.size > limits.max_content_size:
        return
    wanting = [a for a in analyzers if a.wants(entry)]
    if not wanting:
        return
    src = opener()
    if src is None:
        return
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as buf:
        with src:
            shutil.copyfileobj(src, buf, 1024 * 1024)
        for analyzer in wanting:
            buf.seek(0)
            results = analyzer.analyze(entry, buf)
            if results:
                hits.setdefault(analyzer.name, []).append(Hit(entry, tuple(results)))


def _walk_layer(image: Image, index: int, layer: Layer, view: SquashedView, analyzers: Sequence[Analyzer],
                hits: dict[str, list[Hit]], limits: WalkLimits) -> None:
    name = image.name
    whiteouts: list[str] = []
    opaques: list[str] = []
    added: dict[str, FileEntry] = {}
    count = 0
    try:
        with layer.open() as raw:
            stream = _decompressed(name, layer, raw, limits)
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    count += 1
                    if count > limits.max_entries:
                        raise LimitExceededError(name, f"layer {layer.digest} has more than {limits.max_entries} "
                                                 "entries")
                    _member(name, index, layer, member, tar, view, added, whiteouts, opaques, analyzers, hits,
                            limits)
            while stream.read(1024 * 1024):  # drain the padding so the digest is verified
                pass
    except (DigestMismatchError, LimitExceededError):
        raise
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, OSError, ValueError) as e:
        if isinstance(e, ImageError):
            raise
        raise ImageError(name, f"layer {layer.digest} is truncated or not a tar archive ({type(e).__name__}: "
                         f"{e})") from None
    _apply(view, added, whiteouts, opaques)


def _member(name: str, index: int, layer: Layer, member: tarfile.TarInfo, tar: tarfile.TarFile,
            view: SquashedView, added: dict[str, FileEntry], whiteouts: list[str], opaques: list[str],
            analyzers: Sequence[Analyzer], hits: dict[str, list[Hit]], limits: WalkLimits) -> None:
    if len(member.name) > limits.max_path_length:
        raise LimitExceededError(name, f"layer {layer.digest} has a path longer than {limits.max_path_length}")
    path = normalize_member_path(member.name)
    if path is None:
        raise ImageError(name, f"layer {layer.digest}: entry {member.name!r} climbs above the image root "
                         "(path traversal); refusing the layer")
    if member.size > limits.max_entry_size:
        raise LimitExceededError(name, f"layer {layer.digest}: {member.name!r} is {member.size} bytes, above the "
                                 f"{limits.max_entry_size} byte limit")
    if not path:
        return
    base = path.rsplit("/", 1)[-1]
    parent = path[: -len(base) - 1] if "/" in path else ""
    if base == OPAQUE:
        opaques.append(parent)
        return
    if base.startswith(WHITEOUT):
        whiteouts.append(f"{parent}/{base[len(WHITEOUT):]}" if parent else base[len(WHITEOUT):])
        return
    kind = _kind(member)
    linkname = None
    if kind is EntryKind.HARDLINK:
        linkname = normalize_member_path(member.linkname)
        if linkname is None or (linkname not in added and view.get(linkname) is None):
            raise ImageError(name, f"layer {layer.digest}: hard link {member.name!r} points to {member.linkname!r}, "
                             "which is outside the image or does not exist; refusing the layer")
    elif kind is EntryKind.SYMLINK:
        linkname = member.linkname
    entry = FileEntry(path, kind, member.size if kind is EntryKind.FILE else 0, member.mode, member.uid,
                      member.gid, layer.digest, index, linkname)
    added[path] = entry
    _feed(analyzers, hits, entry, lambda: tar.extractfile(member), limits)


def _apply(view: SquashedView, added: dict[str, FileEntry], whiteouts: list[str], opaques: list[str]) -> None:
    """Whiteouts and opaque markers hide lower layers only, then this layer's entries land on top."""
    for d in opaques:
        view.remove_tree(d, keep_root=True)
    for w in whiteouts:
        view.remove_tree(w, keep_root=False)
    for entry in added.values():
        view.put(entry)


def _walk_rootfs(image: Image, root: str, view: SquashedView, analyzers: Sequence[Analyzer],
                 hits: dict[str, list[Hit]], limits: WalkLimits) -> None:
    for rel, st in _scan(root):
        mode = st.st_mode
        kind = (EntryKind.FILE if stat.S_ISREG(mode) else EntryKind.DIR if stat.S_ISDIR(mode)
                else EntryKind.SYMLINK if stat.S_ISLNK(mode) else EntryKind.OTHER)
        link = os.readlink(os.path.join(root, rel)) if kind is EntryKind.SYMLINK else None
        entry = FileEntry(rel, kind, st.st_size if kind is EntryKind.FILE else 0, stat.S_IMODE(mode), st.st_uid,
                          st.st_gid, image.name, 0, link)
        view.put(entry)
        _feed(analyzers, hits, entry, functools.partial(_open_nofollow, os.path.join(root, rel)), limits)


def _open_nofollow(path: str) -> IO[bytes] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        log.info("cannot read %s: %s", path, e.strerror)
        return None
    return os.fdopen(fd, "rb")


def _scan(root: str) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under ``root`` with lstat data; directory symlinks are never followed."""
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(os.path.join(root, rel) if rel else root) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError as e:
            log.info("cannot list %s: %s", rel or root, e.strerror)
            continue
        for item in items:
            child = f"{rel}/{item.name}" if rel else item.name
            st = item.stat(follow_symlinks=False)
            yield child, st
            if stat.S_ISDIR(st.st_mode):
                stack.append(child)


def walk_image(image: Image, analyzers: Sequence[Analyzer] = (), limits: WalkLimits | None = None) -> WalkResult:
    """Walk every layer (or the rootfs) once, in order, and return the squashed view and hits."""
    limits = limits or WalkLimits()
    view = SquashedView()
    hits: dict[str, list[Hit]] = {}
    if image.rootfs is not None:
        _walk_rootfs(image, image.rootfs, view, analyzers, hits, limits)
        return WalkResult(view, hits, (image.name,))
    for i, layer in enumerate(image.layers):
        log.debug("walking layer %d %s", i, layer.digest)
        _walk_layer(image, i, layer, view, analyzers, hits, limits)
    return WalkResult(view, hits, tuple(layer.digest for layer in image.layers))
