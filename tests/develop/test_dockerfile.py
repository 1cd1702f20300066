"""The Dockerfile model: lines, stages, ARG substitution, heredocs, suppressions, input errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloudward.core.errors import InputError
from cloudward.core.imageref import ImageRef
from cloudward.core.model import Suppression, SuppressionSource
from cloudward.develop.dockerfile import Dockerfile, expand, iter_instructions, parse_dockerfile

DIGEST = "sha256:" + "0123456789abcdef" * 4


def parse(text: str) -> Dockerfile:
    return parse_dockerfile(text, "Dockerfile")


def keywords_and_lines(text: str) -> list[tuple[str, int, int]]:
    return [(i.keyword, i.line, i.end_line) for i in parse(text).instructions]


# -- lines and instructions ----------------------------------------------------


def test_lines_are_one_based_and_span_continuations() -> None:
    text = "FROM alpine:3.20\n\nRUN apk add --no-cache \\\n    curl \\\n    git\nUSER app\n"
    assert keywords_and_lines(text) == [("FROM", 1, 1), ("RUN", 3, 5), ("USER", 6, 6)]


def test_continuation_joins_value_without_the_backslash() -> None:
    run = parse("FROM alpine\nRUN echo a \\\n  && echo b\n").instructions[1]
    assert "\\" not in run.value
    assert run.value.split() == ["echo", "a", "&&", "echo", "b"]


def test_blank_line_and_comment_inside_continuation_do_not_end_the_instruction() -> None:
    text = "FROM alpine\nRUN apk add \\\n\n    # the http client\n    curl\nUSER app\n"
    assert keywords_and_lines(text) == [("FROM", 1, 1), ("RUN", 2, 5), ("USER", 6, 6)]
    assert parse(text).instructions[1].value.split() == ["apk", "add", "curl"]


def test_escape_directive_changes_the_continuation_character() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir `\n    C:\\\\\nUSER app\n"
    assert keywords_and_lines(text) == [("FROM", 2, 2), ("RUN", 3, 4), ("USER", 5, 5)]


def test_crlf_line_endings() -> None:
    text = "FROM alpine:3.20\r\nRUN echo a \\\r\n  b\r\nUSER app\r\n"
    df = parse(text)
    assert [(i.keyword, i.line) for i in df.instructions] == [("FROM", 1), ("RUN", 2), ("USER", 4)]
    assert df.instructions[2].arguments == "app"


def test_lower_case_keywords_are_accepted() -> None:
    assert [i.keyword for i in parse("from alpine\nrun echo hi\n").instructions] == ["FROM", "RUN"]


def test_last_line_without_newline_is_parsed() -> None:
    assert keywords_and_lines("FROM alpine\nUSER app") == [("FROM", 1, 1), ("USER", 2, 2)]


def test_flags_are_split_from_arguments() -> None:
    df = parse("FROM --platform=$BUILDPLATFORM golang:1.22 AS b\n"
               "RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=t go build\n"
               "ADD --checksum=sha256:abc --link https://x/y /y\n")
    from_, run, add = df.instructions
    assert from_.flag("platform") == "$BUILDPLATFORM"
    assert run.flag_values("mount") == ["type=cache,target=/root/.cache", "type=secret,id=t"]
    assert run.arguments == "go build"
    assert add.flag("checksum") == "sha256:abc"
    assert add.flag("link") == ""
    assert add.flag("chown") is None
    assert add.words() == ["https://x/y", "/y"]


def test_exec_form_words() -> None:
    df = parse('FROM alpine\nCMD ["python", "-m", "http.server"]\nCMD python -m "my app"\n')
    assert df.instructions[1].words() == ["python", "-m", "http.server"]
    assert df.instructions[2].exec_form() is None
    assert df.instructions[2].words() == ["python", "-m", "my app"]


# -- heredocs ------------------------------------------------------------------


def test_heredoc_body_is_part_of_the_instruction_not_new_instructions() -> None:
    text = "FROM alpine\nRUN <<EOF\nset -e\n\nFROM is just text here\napk add curl\nEOF\nUSER app\n"
    df = parse(text)
    assert [(i.keyword, i.line, i.end_line) for i in df.instructions] == [
        ("FROM", 1, 1), ("RUN", 2, 7), ("USER", 8, 8)]
    run = df.instructions[1]
    assert run.heredocs[0].delimiter == "EOF"
    assert run.heredocs[0].line == 3
    assert run.heredocs[0].body == "set -e\n\nFROM is just text here\napk add curl"
    assert "apk add curl" in run.script()


def test_heredoc_with_dash_strips_tabs_and_quoted_delimiter() -> None:
    df = parse("FROM alpine\nCOPY <<-'END' /etc/motd\n\thello\n\tEND\nUSER app\n")
    copy = df.instructions[1]
    assert (copy.line, copy.end_line) == (2, 4)
    assert copy.heredocs[0].body == "hello"


def test_two_heredocs_on_one_instruction() -> None:
    df = parse("FROM alpine\nCOPY <<A <<B /dir/\none\nA\ntwo\nB\nUSER app\n")
    assert [h.body for h in df.instructions[1].heredocs] == ["one", "two"]
    assert df.instructions[2].line == 7


def test_unterminated_heredoc_is_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        parse("FROM alpine\nRUN <<EOF\necho hi\n")
    assert (err.value.file, err.value.line) == ("Dockerfile", 2)
    assert "<<EOF" in err.value.message


def test_here_string_is_not_a_heredoc() -> None:
    df = parse("FROM alpine\nRUN cat <<< hello\nUSER app\n")
    assert df.instructions[1].heredocs == ()
    assert df.instructions[2].keyword == "USER"


def test_quoted_heredoc_marker_is_plain_text() -> None:
    df = parse("FROM alpine\nRUN echo \"<<EOF\" 'x <<END'\nUSER app\n")
    assert df.instructions[1].heredocs == ()
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "USER"]


# -- stages --------------------------------------------------------------------


def test_stages_names_parents_and_final() -> None:
    df = parse("FROM golang:1.22 AS Build\nRUN go build\nFROM build AS test\nFROM scratch\nCOPY --from=build /a /a\n")
    assert [(s.index, s.name, s.parent, s.from_line) for s in df.stages] == [
        (0, "build", None, 1), (1, "test", 0, 3), (2, None, None, 4)]
    assert df.final.index == 2
    assert df.stages[0].image == ImageRef(None, "golang", "1.22", None)
    assert df.stages[1].image is None
    assert df.final.is_scratch and df.final.image is None
    assert [i.stage for i in df.instructions] == [0, 0, 1, 2, 2]


def test_from_a_later_stage_name_is_an_image_not_a_parent() -> None:
    df = parse("FROM app AS first\nFROM alpine AS app\n")
    assert df.stages[0].parent is None
    assert df.stages[0].image == ImageRef(None, "app", None, None)


def test_global_args_substitute_into_from() -> None:
    df = parse("ARG BASE=python\nARG TAG=3.12-slim\nARG FULL=${BASE}:${TAG}\n"
               "FROM ${FULL}\nFROM $BASE:${MISSING:-3.11}\n")
    assert df.stages[0].base == "python:3.12-slim"
    assert df.stages[0].image == ImageRef(None, "python", "3.12-slim", None)
    assert df.stages[1].base == "python:3.11"
    assert [i.stage for i in df.instructions[:3]] == [None, None, None]
    assert df.global_args == (("BASE", "python"), ("TAG", "3.12-slim"), ("FULL", "python:3.12-slim"))


def test_arg_without_default_leaves_from_unresolved() -> None:
    df = parse("ARG TAG\nFROM node:${TAG}\n")
    assert not df.final.resolved
    assert df.final.image is None


def test_user_is_inherited_from_the_parent_stage_only() -> None:
    df = parse("FROM alpine AS base\nUSER app\nFROM base AS child\nRUN id\n"
               "FROM alpine AS other\nUSER nobody\nFROM debian\n")
    child, unrelated = df.stages[1], df.stages[3]
    inherited = df.effective(child, "USER")
    assert inherited is not None and (inherited.arguments, inherited.line) == ("app", 2)
    assert df.effective(unrelated, "USER") is None
    assert [s.index for s in df.lineage(child)] == [1, 0]


def test_variables_see_parent_env_and_global_arg_defaults() -> None:
    df = parse("ARG VERSION=1.2\nFROM alpine AS base\nENV HOME_DIR=/srv LEVEL=1\nARG LOCAL=x\n"
               "FROM base\nARG VERSION\nENV LEVEL=2 PATH_X=${HOME_DIR}/bin\n")
    assert df.variables(df.final) == {"VERSION": "1.2", "HOME_DIR": "/srv", "LEVEL": "2", "PATH_X": "/srv/bin"}
    assert df.variables(df.final, before_line=7) == {"VERSION": "1.2", "HOME_DIR": "/srv", "LEVEL": "1"}


def test_onbuild_instructions_are_unwrapped() -> None:
    df = parse("FROM alpine\nONBUILD RUN --network=none make\nRUN echo hi\n")
    runs = list(iter_instructions(df, "RUN"))
    assert [(r.line, r.arguments) for r in runs] == [(2, "make"), (3, "echo hi")]
    assert runs[0].flag("network") == "none"


def test_expand_forms() -> None:
    values = {"A": "1", "EMPTY": ""}
    assert expand("$A-${A}", values) == ("1-1", True)
    assert expand("${EMPTY:-d}|${EMPTY-d}|${NONE-d}", values) == ("d||d", True)
    assert expand("${A:+set}|${NONE:+set}", values) == ("set|", True)
    assert expand("x${NONE}", values) == ("x${NONE}", False)
    assert expand("\\$A", values) == ("$A", True)


# -- suppressions --------------------------------------------------------------


SUPPRESSED = """\
# syntax=docker/dockerfile:1
# cloudward:ignore=dockerfile.base-image-*,dockerfile.missing-healthcheck base is pinned by the platform
FROM python:3.12-slim
# cloudward:ignore=dockerfile.sudo legacy installer needs it
RUN sudo ./install.sh \\
    --prefix /opt
RUN sudo make
RUN apk add \\
    # cloudward:ignore=dockerfile.package-unpinned
    curl
# cloudward:ignore=dockerfile.user-root
"""


def test_file_level_suppression_applies_everywhere_and_to_lineless_findings() -> None:
    df = parse(SUPPRESSED)
    assert df.ignored("dockerfile.base-image-latest", 3) == "base is pinned by the platform"
    assert df.ignored("dockerfile.missing-healthcheck", 7) == "base is pinned by the platform"
    assert df.ignored("dockerfile.missing-healthcheck", None) == "base is pinned by the platform"
    assert df.suppression("dockerfile.base-image-digest", 3) == Suppression(
        SuppressionSource.INLINE, "base is pinned by the platform")


def test_suppression_covers_every_line_of_the_next_instruction_only() -> None:
    df = parse(SUPPRESSED)
    assert df.ignored("dockerfile.sudo", 5) == "legacy installer needs it"
    assert df.ignored("dockerfile.sudo", 6) == "legacy installer needs it"
    assert df.ignored("dockerfile.sudo", 7) is None
    assert df.ignored("dockerfile.sudo", None) is None
    assert df.ignored("dockerfile.curl-pipe-shell", 5) is None


def test_suppression_inside_a_continuation_covers_that_instruction_and_reason_may_be_empty() -> None:
    df = parse(SUPPRESSED)
    assert df.ignored("dockerfile.package-unpinned", 8) == ""
    assert df.suppression("dockerfile.package-unpinned", 8) == Suppression(SuppressionSource.INLINE, None)


def test_dangling_suppression_at_end_of_file_covers_nothing() -> None:
    df = parse(SUPPRESSED)
    assert df.ignored("dockerfile.user-root", 3) is None
    assert df.ignored("dockerfile.user-root", None) is None


def test_comment_in_heredoc_body_is_not_a_suppression() -> None:
    df = parse("FROM alpine\nRUN <<EOF\n# cloudward:ignore=dockerfile.sudo\nsudo id\nEOF\n")
    assert df.ignores == ()


@pytest.mark.parametrize("comment", ["# cloudward:ignore dockerfile.sudo", "# cloudward:ignore=",
                                     "# cloudward:ignore=Dockerfile.Sudo,", "# cloudward:ignore=a,,b"])
def test_malformed_suppression_is_an_input_error(comment: str) -> None:
    with pytest.raises(InputError) as err:
        parse(f"FROM alpine\n{comment}\nRUN sudo id\n")
    assert (err.value.file, err.value.line) == ("Dockerfile", 2)


# -- input errors --------------------------------------------------------------


@pytest.mark.parametrize(("text", "line", "words"), [
    ("", None, "no FROM"),
    ("# just a comment\n", None, "no FROM"),
    ("ARG A=1\n", 1, "no FROM"),
    ("RUN echo hi\nFROM alpine\n", 1, "only ARG may precede FROM"),
    ("FROM alpine\nRUNN echo hi\n", 2, "unknown instruction 'RUNN'"),
    ("FROM alpine\nUSER\n", 2, "USER requires arguments"),
    ("FROM alpine AS\n", 1, "FROM expects"),
    ("FROM alpine as b c\n", 1, "FROM expects"),
    ("FROM alpine\nENV A=1 B\n", 2, "name=value"),
    ("FROM alpine\nONBUILD ENV A=1 B\n", 2, "name=value"),
])
def test_malformed_dockerfiles_raise_input_error_with_location(text: str, line: int | None, words: str) -> None:
    with pytest.raises(InputError) as err:
        parse(text)
    assert err.value.file == "Dockerfile"
    assert err.value.line == line
    assert words in err.value.message


def test_binary_content_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not a text file"):
        parse("FROM alpine\n\x00\x01\x02")


def test_parsing_never_touches_the_filesystem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    parse("FROM alpine\nRUN echo hi\n")
    assert os.listdir(tmp_path) == []
