"""Image sources and the safe layer walk, on images the tests build (and the shared OCI layouts)."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from cloudward.core.errors import CloudwardError
from cloudward.distribute.image import (
    DigestMismatchError,
    EntryKind,
    ImageError,
    LimitExceededError,
    WalkLimits,
    open_image,
    parse_reference,
    walk_image,
)
from cloudward.distribute.image.reference import Transport
from tests.distribute.imagekit import (
    Item,
    build_image,
    digest,
    write_docker_archive,
    write_layout,
    write_oci_archive,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "test-images"


def walk_ref(ref, analyzers=(), limits=None):
    with open_image(ref) as image:
        return walk_image(image, analyzers, limits)


class Collect:
    name = "collect"

    def __init__(self, *paths: str) -> None:
        self.paths = set(paths)

    def wants(self, entry):
        return entry.path in self.paths

    def analyze(self, entry, content):
        return [content.read()]


def layered() -> list[list[Item]]:
    return [
        [Item("etc", kind="dir", mode=0o755), Item("usr/lib/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
         Item("etc/os-release", kind="symlink", link="../usr/lib/os-release"),
         Item("app/secret.txt", b"one"), Item("app/keep.txt", b"keep"), Item("cache/a/b.txt", b"x"),
         Item("cache/c.txt", b"y")],
        [Item("app/secret.txt", kind="whiteout"), Item("cache", kind="opaque"), Item("cache/new.txt", b"new"),
         Item("app/keep.txt", b"keep v2")],
    ]


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_oci_layout_whiteouts_and_opaque_dirs(tmp_path: Path, compression: str) -> None:
    built = build_image(layered(), compression=compression)
    layout = write_layout(tmp_path / "img", built, "v1")
    image = open_image(f"oci:{layout}:v1")
    assert image.manifest_digest == built.manifest_digest
    assert [layer.digest for layer in image.layers] == built.layer_digests
    result = walk_image(image, [Collect("app/secret.txt", "app/keep.txt", "usr/lib/os-release")])
    paths = {e.path for e in result.view}
    assert "app/secret.txt" not in paths
    assert {"cache/new.txt", "app/keep.txt"} <= paths
    assert not {"cache/a/b.txt", "cache/c.txt", "cache/a"} & paths
    assert result.view.get("app/keep.txt").layer == built.layer_digests[1]
    assert result.view.get("usr/lib/os-release").layer == built.layer_digests[0]
    # the deleted file is still in the image (all hits) but not in the final filesystem (visible)
    assert [(h.entry.path, h.results[0]) for h in result.all_hits("collect") if h.entry.path == "app/secret.txt"] \
        == [("app/secret.txt", b"one")]
    visible = {h.entry.path: h.results[0] for h in result.visible("collect")}
    assert visible == {"app/keep.txt": b"keep v2", "usr/lib/os-release": b"ID=debian\nVERSION_ID=\"12\"\n"}
    assert result.view.resolve("etc/os-release").path == "usr/lib/os-release"
    assert result.hit_for("collect", "/etc/os-release").results[0].startswith(b"ID=debian")


def test_oci_archive_and_docker_archive_give_the_same_files(tmp_path: Path) -> None:
    built = build_image(layered())
    layout = write_layout(tmp_path / "img", built, "v1")
    oci_tar = write_oci_archive(tmp_path / "img.tar", layout)
    docker_tar = write_docker_archive(tmp_path / "docker.tar", built)
    views = {}
    for ref in (f"oci-archive:{oci_tar}", f"docker-archive:{docker_tar}", str(oci_tar), str(docker_tar)):
        result = walk_ref(ref)
        views[ref] = sorted((e.path, e.kind.value) for e in result.view)
    assert len({tuple(v) for v in views.values()}) == 1
    with open_image(f"docker-archive:{docker_tar}") as docker:
        assert [layer.digest for layer in docker.layers] == built.diff_ids


def test_dir_rootfs_never_follows_symlinks_out(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("ID=alpine\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("host secret")
    (root / "escape").symlink_to(outside)
    (root / "loop").symlink_to(root)
    result = walk_ref(f"dir:{root}", [Collect("escape", "etc/os-release")])
    assert {h.entry.path for h in result.all_hits("collect")} == {"etc/os-release"}
    assert result.view.get("escape").kind is EntryKind.SYMLINK
    assert result.view.resolve("escape") is None  # /…/outside.txt does not exist inside the rootfs


def test_shared_umoci_layout_hides_deleted_env(tmp_path: Path) -> None:
    layout = SHARED / "oci-layouts" / "umoci-debian-whiteout"
    if not layout.is_dir():
        pytest.skip("../shared/test-images is absent")
    result = walk_ref(f"oci:{layout}:tiny", [Collect("app/.env")])
    assert "app/.env" not in result.view
    assert len(result.all_hits("collect")) == 1
    assert b"wJalrXUtnFEMI" in result.all_hits("collect")[0].results[0]


def test_multi_arch_index_picks_platform(tmp_path: Path) -> None:
    from tests.distribute.imagekit import index_of

    amd = build_image([[Item("arch", b"amd64")]], arch="amd64")
    arm = build_image([[Item("arch", b"arm64")]], arch="arm64")
    index, blobs = index_of({"amd64": amd, "arm64": arm})
    layout = write_layout(tmp_path / "multi", amd, "v1", index_bytes=index, blobs=blobs)
    from cloudward.distribute.image import OpenOptions, Platform

    default = open_image(f"oci:{layout}:v1")
    assert default.manifest_digest == amd.manifest_digest
    arm_img = open_image(f"oci:{layout}:v1", OpenOptions(platform=Platform.parse("linux/arm64")))
    assert arm_img.manifest_digest == arm.manifest_digest
    with pytest.raises(ImageError, match=r"no manifest for platform linux/s390x.*linux/amd64, linux/arm64"):
        open_image(f"oci:{layout}:v1", OpenOptions(platform=Platform.parse("linux/s390x")))


# -- hostile and broken input -------------------------------------------------------------------------------

def _layout_with_raw_layer(tmp_path: Path, raw: bytes, media: str = "application/vnd.oci.image.layer.v1.tar+gzip"):
    built = build_image([[Item("a", b"a")]])
    old = built.layer_digests[0]
    del built.blobs[old]
    built.blobs[digest(raw)] = raw
    import json

    m = json.loads(built.manifest)
    m["layers"] = [{"mediaType": media, "digest": digest(raw), "size": len(raw)}]
    cfg = json.loads(built.config)
    cfg["rootfs"]["diff_ids"] = []
    cfg_bytes = json.dumps(cfg).encode()
    del built.blobs[m["config"]["digest"]]
    built.blobs[digest(cfg_bytes)] = cfg_bytes
    m["config"] = {"mediaType": m["config"]["mediaType"], "digest": digest(cfg_bytes), "size": len(cfg_bytes)}
    built.manifest = json.dumps(m).encode()
    built.blobs[digest(built.manifest)] = built.manifest
    return write_layout(tmp_path / "bad", built, "v1")


def _raw_tar(members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for m in members:
            tar.addfile(m, io.BytesIO((data or {}).get(m.name, b"")) if m.isreg() else None)
    return buf.getvalue()


def test_path_traversal_is_refused(tmp_path: Path) -> None:
    info = tarfile.TarInfo("../../etc/evil")
    info.size = 0
    layout = _layout_with_raw_layer(tmp_path, gzip.compress(_raw_tar([info])))
    with pytest.raises(ImageError, match=r"'\.\./\.\./etc/evil' climbs above the image root"):
        walk_ref(f"oci:{layout}:v1")


def test_hard_link_to_outside_is_refused(tmp_path: Path) -> None:
    info = tarfile.TarInfo("etc/shadow-copy")
    info.type = tarfile.LNKTYPE
    info.linkname = "../../../etc/shadow"
    layout = _layout_with_raw_layer(tmp_path, gzip.compress(_raw_tar([info])))
    with pytest.raises(ImageError, match="hard link 'etc/shadow-copy' points to"):
        walk_ref(f"oci:{layout}:v1")


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    big = tarfile.TarInfo("zeros")
    big.size = 64 * 1024 * 1024
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        tar.addfile(big, io.BytesIO(bytes(big.size)))
    bomb = gzip.compress(raw.getvalue(), compresslevel=9)
    assert len(bomb) < 200_000
    layout = _layout_with_raw_layer(tmp_path, bomb)
    limits = WalkLimits(ratio_floor=8 * 1024 * 1024, max_ratio=100)
    with pytest.raises(LimitExceededError, match="inflates more than 100x"):
        walk_ref(f"oci:{layout}:v1", limits=limits)
    with pytest.raises(LimitExceededError, match="inflates beyond 1048576 bytes"):
        walk_ref(f"oci:{layout}:v1", limits=WalkLimits(max_layer_bytes=1024 * 1024))


def test_truncated_layer_is_an_input_error(tmp_path: Path) -> None:
    built = build_image([[Item("big", bytes(range(256)) * 4000)]], compression="none")
    truncated = built.layer_tars[0][:5000]
    layout = _layout_with_raw_layer(tmp_path, truncated, "application/vnd.oci.image.layer.v1.tar")
    with pytest.raises(ImageError, match="truncated or not a tar archive") as e:
        walk_ref(f"oci:{layout}:v1")
    assert e.value.exit_code == 2


def test_tampered_blob_fails_digest_verification(tmp_path: Path) -> None:
    built = build_image([[Item("a", b"original")]], compression="none")
    layout = write_layout(tmp_path / "img", built, "v1")
    blob = layout / "blobs" / "sha256" / built.layer_digests[0].split(":")[1]
    blob.write_bytes(blob.read_bytes().replace(b"original", b"tampered"))
    with pytest.raises(DigestMismatchError, match="digest mismatch"):
        walk_ref(f"oci:{layout}:v1")
    manifest = layout / "blobs" / "sha256" / built.manifest_digest.split(":")[1]
    manifest.write_bytes(manifest.read_bytes() + b" ")
    with pytest.raises(DigestMismatchError, match="manifest"):
        open_image(f"oci:{layout}:v1")


def test_unknown_layer_media_type(tmp_path: Path) -> None:
    layout = _layout_with_raw_layer(tmp_path, b"whatever", "application/vnd.example.squashfs")
    with pytest.raises(ImageError, match=r"unknown media type 'application/vnd\.example\.squashfs'"):
        open_image(f"oci:{layout}:v1")


def test_not_an_image(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ImageError, match="not an image"):
        open_image(str(junk))
    with pytest.raises(ImageError, match=r"not a readable tar archive \(truncated"):
        open_image(f"docker-archive:{junk}")
    with pytest.raises(CloudwardError, match="does not exist"):
        open_image(f"oci-archive:{tmp_path / 'missing.tar'}")


@pytest.mark.parametrize(("text", "transport", "detail"), [
    ("oci:/x/layout:v1", Transport.OCI, ("/x/layout", "v1")),
    ("oci:layout", Transport.OCI, ("layout", None)),
    ("oci-archive:/a/b.tar", Transport.OCI_ARCHIVE, ("/a/b.tar", None)),
    ("docker-archive:/a/b.tar", Transport.DOCKER_ARCHIVE, ("/a/b.tar", None)),
    ("docker-archive:/a/b.tar:busybox:1.36", Transport.DOCKER_ARCHIVE, ("/a/b.tar", "busybox:1.36")),
    ("docker-archive:/a/b.tar:@1", Transport.DOCKER_ARCHIVE, ("/a/b.tar", "@1")),
    ("dir:/rootfs", Transport.DIR, ("/rootfs", None)),
])
def test_local_references(text: str, transport: Transport, detail: tuple[str, str | None]) -> None:
    ref = parse_reference(text)
    assert (ref.transport, ref.path, ref.tag) == (transport, *detail)


@pytest.mark.parametrize(("text", "registry", "repo", "reference"), [
    ("docker://alpine", "docker.io", "library/alpine", "latest"),
    ("docker://127.0.0.1:5000/team/app:1.2", "127.0.0.1:5000", "team/app", "1.2"),
    ("docker://ghcr.io/o/r@sha256:" + "a" * 64, "ghcr.io", "o/r", "sha256:" + "a" * 64),
    ("localhost/app:dev", "localhost", "app", "dev"),
])
def test_registry_references(text: str, registry: str, repo: str, reference: str) -> None:
    ref = parse_reference(text).registry
    assert (ref.registry, ref.repository, ref.reference) == (registry, repo, reference)


@pytest.mark.parametrize("bad", ["docker://UPPER/case", "docker://repo@sha256", "docker:/one-slash", ""])
def test_bad_references_are_input_errors(bad: str) -> None:
    with pytest.raises(CloudwardError) as e:
        parse_reference(bad)
    assert e.value.exit_code == 2


def _two_image_archive(tmp_path: Path) -> Path:
    """``docker save web:1 docker.io/library/busybox:1.36`` shape: two images in one manifest.json."""
    import json

    one = write_docker_archive(tmp_path / "one.tar", build_image([[Item("app/one.txt", b"one")]]), "web:1")
    two = write_docker_archive(tmp_path / "two.tar", build_image([[Item("app/two.txt", b"two")]]),
                               "docker.io/library/busybox:1.36")
    out = tmp_path / "both.tar"
    entries = []
    with tarfile.open(out, "w") as dst:
        for src in (one, two):
            with tarfile.open(src) as tar:
                for m in tar.getmembers():
                    data = tar.extractfile(m).read()  # type: ignore[union-attr]
                    if m.name == "manifest.json":
                        entries += json.loads(data)
                        continue
                    dst.addfile(m, io.BytesIO(data))
        info = tarfile.TarInfo("manifest.json")
        raw = json.dumps(entries).encode()
        info.size = len(raw)
        dst.addfile(info, io.BytesIO(raw))
    return out


def test_a_multi_image_docker_archive_needs_a_choice(tmp_path: Path) -> None:
    both = _two_image_archive(tmp_path)
    with pytest.raises(ImageError, match=r"holds 2 images \(@0: web:1; @1: docker.io/library/busybox:1.36\)"):
        open_image(f"docker-archive:{both}")
    for selector, path in (("web:1", "app/one.txt"), ("@0", "app/one.txt"), ("busybox:1.36", "app/two.txt"),
                           ("docker.io/library/busybox:1.36", "app/two.txt"), ("@1", "app/two.txt")):
        with open_image(f"docker-archive:{both}:{selector}") as image:
            assert [e.path for e in _files(image)] == [path], selector
    for bad in ("@2", "@x", "busybox:1.35", "web"):
        with pytest.raises(ImageError, match="no image"):
            open_image(f"docker-archive:{both}:{bad}")


def _files(image):
    names = []

    class Names:
        name = "names"

        def wants(self, entry):
            if entry.path.startswith("app/"):
                names.append(entry)
            return False

        def analyze(self, entry, content):
            return []

    walk_image(image, [Names()])
    return names
