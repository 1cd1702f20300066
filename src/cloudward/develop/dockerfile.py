"""A Dockerfile as rules need it: instructions with 1-based lines, build stages, suppressions.

Lexing (continuation lines, comments, the ``escape`` directive) is done by the
``dockerfile-parse`` library through ``dockerfile_text``, fed from memory so it
never touches the filesystem. On top of it this module adds what Docker itself does and the
library does not: heredocs, stage lineage (``FROM builder`` inherits the
builder's image config, such as ``USER``), ``ARG`` substitution in ``FROM``,
and ``# cloudward:ignore=`` comments. Input Docker would reject raises
``InputError`` with the file and line, so a broken file is never reported clean.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable, Iterator

from cloudward.core import jsonsafe
from cloudward.core.errors import InputError
from cloudward.core.imageref import ImageRef, parse_image
from cloudward.core.model import Suppression, SuppressionSource
from cloudward.develop.dockerfile_text import (
    HEREDOC_KEYWORDS,
    KEYWORDS,
    Heredoc,
    expand,
    parse_arg_text,
    parse_env_text,
    parse_ignore,
    read_heredocs,
    split_flags,
    split_words,
    structure,
)

__all__ = [
    "Dockerfile", "Heredoc", "Ignore", "Instruction", "Stage", "expand", "iter_instructions",
    "parse_arg", "parse_dockerfile", "parse_env", "split_words",
]



@dataclasses.dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction. ``value`` is everything after the keyword, continuation lines joined.

    ``flags`` are the leading ``--name[=value]`` options (``RUN --mount``, ``ADD
    --checksum``, ``FROM --platform``) in order; ``arguments`` is the rest.
    ``stage`` is ``None`` for an ``ARG`` before the first ``FROM``.
    """

    keyword: str
    value: str
    line: int
    end_line: int
    stage: int | None
    flags: tuple[tuple[str, str | None], ...] = ()
    arguments: str = ""
    heredocs: tuple[Heredoc, ...] = ()

    def flag(self, name: str) -> str | None:
        """The value of the last ``--name`` flag ('' when it has none), or ``None`` when absent."""
        found: str | None = None
        for key, val in self.flags:
            if key == name:
                found = "" if val is None else val
        return found

    def flag_values(self, name: str) -> list[str]:
        """Every value of a repeatable flag such as ``--mount``."""
        return [val or "" for key, val in self.flags if key == name]

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction (``CMD ["a", "b"]``), else ``None``."""
        text = self.arguments.strip()
        if not text.startswith("["):
            return None
        try:
            parsed = jsonsafe.loads(text)
        except ValueError:
            return None
        if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
            return list(parsed)
        return None

    def words(self) -> list[str]:
        """The arguments split into words as Docker does, quotes removed (exec form honoured)."""
        exec_form = self.exec_form()
        if exec_form is not None:
            return exec_form
        return split_words(self.arguments)

    def script(self) -> str:
        """The shell text this instruction runs or writes: the arguments plus any heredoc bodies."""
        exec_form = self.exec_form()
        text = " ".join(exec_form) if exec_form is not None else self.arguments
        return "\n".join([text, *(h.body for h in self.heredocs)])


@dataclasses.dataclass(frozen=True, slots=True)
class Stage:
    """One build stage, from its ``FROM`` to the next.

    ``base`` is the ``FROM`` image after ``ARG`` substitution; ``parent`` is the
    index of the earlier stage it builds on (``FROM builder``); ``image`` is the
    external image reference, ``None`` for ``scratch``, a parent stage, or a base
    whose variables have no default (``resolved`` is then ``False``).
    """

    index: int
    base: str
    name: str | None
    from_line: int
    instructions: tuple[Instruction, ...]
    parent: int | None
    image: ImageRef | None
    resolved: bool

    @property
    def is_scratch(self) -> bool:
        return self.parent is None and self.base.lower() == "scratch"


@dataclasses.dataclass(frozen=True, slots=True)
class Ignore:
    """A ``# cloudward:ignore=`` comment: rule id patterns (globs allowed), reason, covered lines.

    ``first_line``/``last_line`` are ``None`` for a file-level comment (one above
    the first instruction).
    """

    patterns: tuple[str, ...]
    reason: str | None
    comment_line: int
    first_line: int | None
    last_line: int | None

    def covers(self, rule_id: str, line: int | None) -> bool:
        if not any(fnmatch.fnmatchcase(rule_id, p) for p in self.patterns):
            return False
        if self.first_line is None or self.last_line is None:
            return True
        return line is not None and self.first_line <= line <= self.last_line


@dataclasses.dataclass(frozen=True, slots=True)
class Dockerfile:
    """A parsed Dockerfile; ``stages`` is never empty and the last one is the image that ships."""

    file: str
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    ignores: tuple[Ignore, ...]
    global_args: tuple[tuple[str, str | None], ...] = ()

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def lineage(self, stage: Stage) -> list[Stage]:
        """``stage`` then the stages it builds on, nearest first."""
        chain = [stage]
        while chain[-1].parent is not None:
            chain.append(self.stages[chain[-1].parent])
        return chain

    def effective(self, stage: Stage, keyword: str) -> Instruction | None:
        """The last ``keyword`` instruction in force in ``stage``, inherited from parent stages too."""
        for member in self.lineage(stage):
            found = [i for i in member.instructions if i.keyword == keyword]
            if found:
                return found[-1]
        return None

    def shipped(self) -> list[Stage]:
        """The stages whose filesystem ends up in the final image: the final stage and its parents."""
        return self.lineage(self.final)

    def variables(self, stage: Stage, before_line: int | None = None) -> dict[str, str]:
        """``ARG`` defaults and ``ENV`` values visible in ``stage`` (up to ``before_line``), for substitution."""
        env: dict[str, str] = {}
        globals_ = {k: v for k, v in self.global_args if v is not None}
        for member in reversed(self.lineage(stage)):
            args: dict[str, str] = {}
            for ins in member.instructions:
                if member is stage and before_line is not None and ins.line >= before_line:
                    break
                scope = {**args, **env}
                if ins.keyword == "ARG":
                    for name, default in parse_arg(ins):
                        if default is not None:
                            args[name] = expand(default, scope)[0]
                        elif name in globals_:
                            args[name] = globals_[name]
                elif ins.keyword == "ENV":
                    for name, val in parse_env(ins):
                        env[name] = expand(val, scope)[0]
            if member is stage:
                return {**args, **env}
        return env

    def ignored(self, rule_id: str, line: int | None) -> str | None:
        """The reason of the ``cloudward:ignore`` comment covering ``rule_id`` at ``line``.

        ``''`` when a comment covers it without a reason, ``None`` when none does.
        ``line=None`` consults only file-level comments.
        """
        for ignore in self.ignores:
            if ignore.covers(rule_id, line):
                return ignore.reason or ""
        return None

    def suppression(self, rule_id: str, line: int | None) -> Suppression | None:
        """The inline suppression covering a finding of ``rule_id`` at ``line`` (``None``: file-level only)."""
        for ignore in self.ignores:
            if ignore.covers(rule_id, line):
                return Suppression(SuppressionSource.INLINE, ignore.reason)
        return None


def parse_arg(ins: Instruction) -> list[tuple[str, str | None]]:
    """The (name, default) pairs of an ``ARG``; no default is ``None``."""
    return parse_arg_text(ins.arguments)


def parse_env(ins: Instruction) -> list[tuple[str, str]]:
    """The (name, value) pairs of an ``ENV``, quotes removed."""
    return parse_env_text(ins.arguments, ins.line)


def _lex(text: str, file: str) -> tuple[list[Instruction], list[tuple[int, str]]]:
    """Instructions (stage not yet assigned) and comments as (1-based line, text)."""
    raw = text.split("\n")
    instructions: list[Instruction] = []
    comments: list[tuple[int, str]] = []
    skip_until = -1
    for entry in structure(text):
        start, end = int(str(entry["startline"])), int(str(entry["endline"]))
        keyword, value = str(entry["instruction"]), str(entry["value"] or "")
        if start <= skip_until:
            continue
        if keyword == "COMMENT":
            if value:
                comments.append((start + 1, value))
            continue
        if keyword not in KEYWORDS:
            raise InputError(f"unknown instruction {keyword!r}", file=file, line=start + 1)
        if not value.strip():
            raise InputError(f"{keyword} requires arguments", file=file, line=start + 1)
        docs: tuple[Heredoc, ...] = ()
        if keyword in HEREDOC_KEYWORDS and "<<" in value:
            docs, last = read_heredocs(raw, value, end + 1, start + 1, file)
            if docs:
                end = skip_until = last
        flags, arguments = split_flags(value)
        instructions.append(Instruction(keyword=keyword, value=value.strip(), line=start + 1, end_line=end + 1,
                                        stage=None, flags=flags, arguments=arguments, heredocs=docs))
    return instructions, comments


def _ignores(instructions: list[Instruction], comments: list[tuple[int, str]], file: str) -> tuple[Ignore, ...]:
    out: list[Ignore] = []
    first = instructions[0].line
    for line, comment in comments:
        parsed = parse_ignore(comment, line, file)
        if parsed is None:
            continue
        patterns, reason = parsed
        if line < first:
            out.append(Ignore(patterns, reason, line, None, None))
            continue
        target = next((i for i in instructions if i.line <= line <= i.end_line or i.line > line), None)
        if target is not None:
            out.append(Ignore(patterns, reason, line, target.line, target.end_line))
    return tuple(out)


_Staged = tuple[list[Instruction], list[Stage], list[tuple[str, str | None]]]


def _stages(instructions: list[Instruction], file: str) -> _Staged:
    global_args: list[tuple[str, str | None]] = []
    known: dict[str, str] = {}
    out: list[Instruction] = []
    stages: list[tuple[Instruction, str, str | None, int | None, bool]] = []
    members: list[list[Instruction]] = []
    names: dict[str, int] = {}
    for ins in instructions:
        if ins.keyword == "FROM":
            words = ins.arguments.split()
            if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
                raise InputError(f"FROM expects 'image [AS name]', got {ins.arguments!r}", file=file, line=ins.line)
            base, resolved = expand(words[0], known)
            name = words[2].lower() if len(words) == 3 else None
            parent = names.get(base.lower())
            if name is not None:
                names[name] = len(stages)
            stages.append((ins, base, name, parent, resolved))
            members.append([])
        elif ins.keyword == "ENV" or (ins.keyword == "ONBUILD" and ins.arguments.split()[:1] in (["ENV"], ["env"])):
            try:
                parse_env(ins if ins.keyword == "ENV" else next(iter_instructions_of([ins], "ENV")))
            except InputError as e:
                raise InputError(e.message, file=file, line=ins.line) from e
        if ins.keyword != "FROM" and not stages:
            if ins.keyword != "ARG":
                raise InputError(f"{ins.keyword} before the first FROM; only ARG may precede FROM",
                                 file=file, line=ins.line)
            for arg, default in parse_arg(ins):
                value = None if default is None else expand(default, known)[0]
                global_args.append((arg, value))
                if value is not None:
                    known[arg] = value
        placed = dataclasses.replace(ins, stage=len(stages) - 1 if stages else None)
        out.append(placed)
        if stages:
            members[-1].append(placed)
    if not stages:
        raise InputError("no FROM instruction; a Dockerfile must start a build stage with FROM", file=file,
                         line=instructions[-1].line if instructions else None)
    built: list[Stage] = []
    for index, ((ins, base, name, parent, resolved), body) in enumerate(zip(stages, members, strict=True)):
        external = parent is None and resolved and base.lower() != "scratch"
        built.append(Stage(index=index, base=base, name=name, from_line=ins.line, instructions=tuple(body),
                           parent=parent, image=parse_image(base) if external else None, resolved=resolved))
    return out, built, global_args


def parse_dockerfile(text: str, file: str) -> Dockerfile:
    """Parse Dockerfile text; raises ``InputError`` (with file and line) for input Docker would reject."""
    if "\x00" in text:
        raise InputError("not a text file (contains NUL bytes)", file=file)
    text = text.removeprefix("\ufeff")
    try:
        lexed, comments = _lex(text, file)
        if not lexed:
            raise InputError("no FROM instruction; the file has no instructions", file=file)
        instructions, stages, global_args = _stages(lexed, file)
    except InputError as e:
        if e.file is None:
            raise InputError(e.message, file=file, line=e.line) from e
        raise
    return Dockerfile(file=file, instructions=tuple(instructions), stages=tuple(stages),
                      ignores=_ignores(instructions, comments, file), global_args=tuple(global_args))


def iter_instructions(df: Dockerfile, *keywords: str) -> Iterator[Instruction]:
    """Instructions with one of ``keywords`` in file order, including ones wrapped in ``ONBUILD``."""
    return iter_instructions_of(df.instructions, *keywords)


def iter_instructions_of(instructions: Iterable[Instruction], *keywords: str) -> Iterator[Instruction]:
    for ins in instructions:
        if ins.keyword in keywords:
            yield ins
        elif ins.keyword == "ONBUILD":
            inner_kw, _, inner_value = ins.arguments.strip().partition(" ")
            if inner_kw.upper() in keywords:
                flags, arguments = split_flags(inner_value)
                yield dataclasses.replace(ins, keyword=inner_kw.upper(), value=inner_value.strip(), flags=flags,
                                          arguments=arguments)
