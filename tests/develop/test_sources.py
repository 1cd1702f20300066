"""Finding and reading input files: walking, globs, symlinks, binary and odd encodings."""

from __future__ import annotations

import codecs
import io
import os
from pathlib import Path

import pytest

from cloudward.core.config import Config, parse_config
from cloudward.core.errors import InputError
from cloudward.core.model import Problem, ProblemKind
from cloudward.develop.reading import BinaryFile, read_source
from cloudward.develop.sources import Source, SourceKind, discover


def _tree(root: Path) -> None:
    for rel in ["app/deploy.yaml", "app/svc.yml", "app/data.json", "app/Dockerfile", "app/api.Dockerfile",
                "app/Containerfile", "app/README.md", "app/.git/config.yaml", "app/vendor/x.yaml",
                "app/node_modules/m/y.yaml", "app/charts/tests/t.yaml"]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")


def _names(items: list[Source | Problem], root: Path) -> list[str]:
    return [Path(i.display).relative_to(root).as_posix() for i in items if isinstance(i, Source)]


def test_directory_walk_picks_manifests_and_dockerfiles_and_skips_vendor_dirs(tmp_path: Path) -> None:
    _tree(tmp_path)
    items = list(discover([str(tmp_path)], Config()))
    assert _names(items, tmp_path) == ["app/Containerfile", "app/Dockerfile", "app/api.Dockerfile", "app/data.json",
                                       "app/deploy.yaml", "app/svc.yml", "app/charts/tests/t.yaml"]
    kinds = {Path(i.display).name: i.kind for i in items if isinstance(i, Source)}
    assert kinds["Dockerfile"] is kinds["api.Dockerfile"] is kinds["Containerfile"] is SourceKind.DOCKERFILE
    assert kinds["deploy.yaml"] is SourceKind.MANIFEST


def test_config_excludes_are_skipped_with_a_note(tmp_path: Path) -> None:
    _tree(tmp_path)
    cfg = parse_config("exclude: ['app/charts/**']\n", str(tmp_path / ".cloudward.yaml"), base_dir=tmp_path)
    items = list(discover([str(tmp_path)], cfg))
    assert "app/charts/tests/t.yaml" not in _names(items, tmp_path)
    assert any(isinstance(i, Problem) and i.kind is ProblemKind.SKIP and "excluded" in i.message for i in items)


def test_globs_explicit_files_and_missing_paths(tmp_path: Path) -> None:
    _tree(tmp_path)
    items = list(discover([str(tmp_path / "app" / "*.yml"), str(tmp_path / "app" / "README.md"),
                           str(tmp_path / "nope.yaml"), str(tmp_path / "*.none")], Config()))
    assert _names(items, tmp_path) == ["app/svc.yml", "app/README.md"]
    problems = [i for i in items if isinstance(i, Problem)]
    assert [p.kind for p in problems] == [ProblemKind.INPUT, ProblemKind.INPUT]
    assert "no such file" in problems[0].message and "no files match" in problems[1].message


def test_symlink_loops_and_broken_links_do_not_hang_or_crash(tmp_path: Path) -> None:
    _tree(tmp_path)
    os.symlink(tmp_path / "app", tmp_path / "app" / "loop")
    os.symlink(tmp_path / "missing.yaml", tmp_path / "app" / "dangling.yaml")
    items = list(discover([str(tmp_path / "app")], Config()))
    assert len(_names(items, tmp_path)) == 7
    assert any(isinstance(i, Problem) and "broken symbolic link" in i.message for i in items)
    (explicit,) = list(discover([str(tmp_path / "app" / "dangling.yaml")], Config()))
    assert isinstance(explicit, Problem) and explicit.kind is ProblemKind.INPUT


def test_same_file_twice_is_scanned_once(tmp_path: Path) -> None:
    _tree(tmp_path)
    f = str(tmp_path / "app" / "svc.yml")
    assert len([i for i in discover([f, f, str(tmp_path / "app")], Config()) if isinstance(i, Source)]) == 7


def _src(path: Path) -> Source:
    return Source(str(path), path, SourceKind.MANIFEST)


def test_reading_limits_and_encodings(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: b\n" * 1000)
    with pytest.raises(InputError, match="larger than"):
        read_source(_src(big), 100)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x7fELF\x00\x00\x01")
    with pytest.raises(BinaryFile):
        read_source(_src(binary), 1000)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(InputError) as e:
        read_source(_src(latin), 1000)
    assert e.value.line == 2 and "not UTF-8" in e.value.message
    utf16 = tmp_path / "u16.yaml"
    utf16.write_bytes(codecs.BOM_UTF16_LE + "kind: Pod\n".encode("utf-16-le"))
    assert read_source(_src(utf16), 1000) == "kind: Pod\n"
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(codecs.BOM_UTF8 + b"kind: Pod\n")
    assert read_source(_src(bom), 1000) == "kind: Pod\n"


def test_stdin_is_read_from_the_given_stream() -> None:
    stdin = Source("<stdin>", None, SourceKind.MANIFEST)
    assert read_source(stdin, 1000, io.BytesIO(b"kind: Pod\n")) == "kind: Pod\n"


def test_unreadable_path_is_an_input_error(tmp_path: Path) -> None:
    d = tmp_path / "dir.yaml"
    d.mkdir()
    with pytest.raises(InputError, match="cannot read file") as e:
        read_source(_src(d), 1000)
    assert e.value.file == str(d)


def test_helm_chart_templates_are_skipped_with_advice(tmp_path: Path) -> None:
    chart = tmp_path / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("replicas: 2\n")
    (chart / "templates" / "deploy.yaml").write_text("kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n")
    items = list(discover([str(tmp_path)], Config()))
    assert _names(items, tmp_path) == ["charts/web/Chart.yaml", "charts/web/values.yaml"]
    (warning,) = [i for i in items if isinstance(i, Problem)]
    assert warning.kind is ProblemKind.WARNING and "helm template" in warning.message
    assert warning.file == str(chart / "templates")
