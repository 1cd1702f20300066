"""Writing reports: bytes and text, to standard output or atomically to a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudward.cli.output import write_output
from cloudward.core.errors import InputError


def test_bytes_and_text_reach_a_file_identically(tmp_path: Path) -> None:
    write_output(b'{"a": 1}\n', str(tmp_path / "b.json"))
    write_output('{"a": 1}\n', str(tmp_path / "t.json"))
    assert (tmp_path / "b.json").read_bytes() == (tmp_path / "t.json").read_bytes() == b'{"a": 1}\n'


def test_a_final_newline_is_added_once(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    write_output("no newline", str(tmp_path / "r.txt"))
    assert (tmp_path / "r.txt").read_text() == "no newline\n"
    write_output(b"line\n", None)
    assert capsysbinary.readouterr().out == b"line\n"


def test_a_file_name_kept_as_surrogate_escapes_is_written_as_its_original_bytes(
        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    name = b"caf\xe9.yaml".decode("utf-8", "surrogateescape")  # a Latin-1 name on a UTF-8 system
    write_output(f"{name}: finding\n", None)
    assert capsysbinary.readouterr().out == b"caf\xe9.yaml: finding\n"


def test_writing_replaces_the_previous_report_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old report that is much longer than the new one\n")
    write_output(b"new\n", str(target))
    assert target.read_bytes() == b"new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left behind


def test_a_missing_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        write_output(b"x\n", str(tmp_path / "nope" / "r.json"))
