"""Text-level helpers for Dockerfiles: words, variables, flags, heredocs, suppression comments.

Kept apart from the model so that ``dockerfile.py`` holds what rules see and
this module holds how raw text becomes it; the ``dockerfile-parse`` library is
only touched here, always fed from memory.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Mapping

from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]
from dockerfile_parse.util import WordSplitter  # type: ignore[import-untyped]

from cloudward.core.errors import InputError

KEYWORDS = frozenset({
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER",
    "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
})
HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
# A heredoc marker, or a quoted string to skip (``echo "<<EOF"`` is not a heredoc).
_HEREDOC = re.compile(r"(?<!<)<<(?!<)(?P<dash>-?)\s*(?P<q>[\"']?)(?P<word>[A-Za-z_][A-Za-z0-9_.-]*)(?P=q)"
                      r"|'[^']*'|\"(?:\\.|[^\"\\])*\"")
_FLAG = re.compile(r"--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?")
_IGNORE = re.compile(r"^cloudward:ignore\b(?P<rest>.*)$")
_RULE_PATTERN = re.compile(r"^[a-z0-9*?.\[\]-]+$")
_VAR = re.compile(r"\\\$|\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}"
                  r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


@dataclasses.dataclass(frozen=True, slots=True)
class Heredoc:
    """The body of a ``<<EOF`` heredoc; ``line`` is its first body line."""

    delimiter: str
    body: str
    line: int


def split_words(text: str) -> list[str]:
    """Split on unquoted whitespace and remove quotes, as Docker does for instruction arguments."""
    return [w for w in WordSplitter(text).split(dequote=True) if w]


def expand(text: str, variables: Mapping[str, str]) -> tuple[str, bool]:
    """Substitute ``$VAR``/``${VAR}``/``${VAR:-word}``/``${VAR:+word}``; also say whether all were known."""
    resolved = True

    def repl(m: re.Match[str]) -> str:
        nonlocal resolved
        if m.group(0) == "\\$":
            return "$"
        name = m.group("braced") or m.group("plain")
        op, word = m.group("op"), m.group("word") or ""
        value = variables.get(name)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return expand(word, variables)[0]
            return value
        if op in (":+", "+"):
            if value is None or (op == ":+" and value == ""):
                return ""
            return expand(word, variables)[0]
        if value is None:
            resolved = False
            return m.group(0)
        return value

    return _VAR.sub(repl, text), resolved


def parse_arg_text(arguments: str) -> list[tuple[str, str | None]]:
    """``ARG a b=1`` as ``[("a", None), ("b", "1")]``: no default is ``None``, ``b=`` is ''."""
    out: list[tuple[str, str | None]] = []
    for word in WordSplitter(arguments).split(dequote=False):
        name, eq, default = word.partition("=")
        out.append((WordSplitter(name).dequote(), WordSplitter(default).dequote() if eq else None))
    return out


def parse_env_text(arguments: str, line: int | None = None) -> list[tuple[str, str]]:
    """``ENV a=1 b="2 3"`` or the legacy ``ENV a 1 2`` as (name, value) pairs, quotes removed."""
    words = list(WordSplitter(arguments).split(dequote=False))
    if not words:
        return []
    if "=" not in words[0]:
        parts = arguments.strip().split(None, 1)
        return [(parts[0], WordSplitter(parts[1] if len(parts) > 1 else "").dequote())]
    out: list[tuple[str, str]] = []
    for word in words:
        name, eq, val = word.partition("=")
        if not eq:
            raise InputError(f"ENV expects name=value pairs, got {word!r}", line=line)
        out.append((WordSplitter(name).dequote(), WordSplitter(val).dequote()))
    return out


def split_flags(value: str) -> tuple[tuple[tuple[str, str | None], ...], str]:
    flags: list[tuple[str, str | None]] = []
    rest = value.strip()
    while rest.startswith("--"):
        word, _, tail = rest.partition(" ")
        m = _FLAG.fullmatch(word)
        if not m:
            break
        flags.append((m.group(1).lower(), m.group(2)))
        rest = tail.strip()
    return tuple(flags), rest


def structure(text: str) -> list[dict[str, object]]:
    # Blank lines become empty comments so that, as in Docker, they do not end a
    # continued instruction; line numbers are unchanged. BytesIO keeps the
    # library away from the filesystem (it only reads ``structure``).
    lines = ["#" if not line.strip() else line for line in text.split("\n")]
    parser = DockerfileParser(fileobj=io.BytesIO(("\n".join(lines) + "\n").encode("utf-8")))
    result: list[dict[str, object]] = parser.structure
    return result


def read_heredocs(raw: list[str], value: str, after: int, line: int, file: str) -> tuple[tuple[Heredoc, ...], int]:
    """Read heredoc bodies starting at 0-based ``after``; return them and the last 0-based line used."""
    docs: list[Heredoc] = []
    pos = after
    for m in _HEREDOC.finditer(value):
        if m.group("word") is None:
            continue
        strip_tabs, delimiter = m.group("dash") == "-", m.group("word")
        body: list[str] = []
        start = pos
        while True:
            if pos >= len(raw):
                raise InputError(f"heredoc <<{delimiter} is never terminated", file=file, line=line)
            current = raw[pos].rstrip("\r")
            pos += 1
            if (current.lstrip("\t") if strip_tabs else current) == delimiter:
                break
            body.append(current.lstrip("\t") if strip_tabs else current)
        docs.append(Heredoc(delimiter=delimiter, body="\n".join(body), line=start + 1))
    return tuple(docs), pos - 1


def parse_ignore(comment: str, line: int, file: str) -> tuple[tuple[str, ...], str | None] | None:
    m = _IGNORE.match(comment.strip())
    if not m:
        return None
    rest = m.group("rest")
    if not rest.lstrip().startswith("="):
        raise InputError("suppression comment must read '# cloudward:ignore=rule-id[,rule-id] reason'",
                         file=file, line=line)
    ids, _, reason = rest.lstrip()[1:].strip().partition(" ")
    patterns = tuple(p.strip() for p in ids.split(","))
    if not patterns or any(not _RULE_PATTERN.match(p) for p in patterns):
        raise InputError(f"suppression comment lists an invalid rule id in {ids!r}; "
                         "use e.g. '# cloudward:ignore=dockerfile.user-root reason'", file=file, line=line)
    reason = reason.strip().lstrip("-:—").strip()
    return patterns, reason or None
