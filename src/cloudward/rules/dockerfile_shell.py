"""Just enough shell parsing for Dockerfile ``RUN`` rules.

Rules need to know which programs a ``RUN`` line runs, with which arguments,
and what is piped into what, without being fooled by quoting, redirections,
``sudo``/``env`` wrappers or ``VAR=value`` prefixes. This is not a shell: it
splits simple commands on ``&&``, ``||``, ``;``, ``|``, ``&``, newlines and
parentheses, keeps ``$(...)`` and backquotes inside their word, and drops
redirection targets. Anything it cannot make sense of becomes ordinary words.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator

from cloudward.develop.dockerfile import Dockerfile, Instruction, iter_instructions

_OPERATORS = ("&&", "||", "|&", ";;", ";", "|", "&", "\n", "(", ")")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time"})
_WRAPPER_OPTS_WITH_VALUE = {
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "--user", "--group"}),
    "env": frozenset({"-u", "--unset", "-C", "--chdir", "-S"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "command": frozenset(),
    "exec": frozenset({"-a"}),
    "nohup": frozenset(),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Command:
    """One simple command: ``argv`` as written, and whether its stdin is a pipe from the previous command."""

    argv: tuple[str, ...]
    piped: bool

    @property
    def program(self) -> str:
        """The program actually run, past assignments, ``sudo``/``env`` wrappers and shell keywords."""
        argv = self.effective_argv()
        return os.path.basename(argv[0]) if argv else ""

    @property
    def args(self) -> tuple[str, ...]:
        return self.effective_argv()[1:]

    def effective_argv(self) -> tuple[str, ...]:
        argv = list(self.argv)
        while argv:
            head = argv[0]
            if head in _KEYWORDS or _ASSIGNMENT.match(head):
                argv.pop(0)
                continue
            name = os.path.basename(head)
            if name not in _WRAPPER_OPTS_WITH_VALUE:
                break
            takes_value = _WRAPPER_OPTS_WITH_VALUE[name]
            argv.pop(0)
            while argv and (argv[0].startswith("-") or (name == "env" and _ASSIGNMENT.match(argv[0]))):
                opt = argv.pop(0)
                if opt == "--":
                    break
                if opt in takes_value and argv:
                    argv.pop(0)
            if name == "nice" and argv and argv[0].lstrip("-").isdigit():
                argv.pop(0)
        return tuple(argv)

    @property
    def uses_sudo(self) -> bool:
        argv = [a for a in self.argv if not (a in _KEYWORDS or _ASSIGNMENT.match(a))]
        return bool(argv) and os.path.basename(argv[0]) == "sudo"


def _read_balanced(text: str, i: int, open_: str, close: str) -> int:
    """Index just past the ``close`` matching the ``open_`` at ``text[i]``."""
    depth = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == open_:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def tokenize(text: str) -> list[tuple[str, bool]]:
    """Words and operators as ``(text, is_operator)``; redirections and their targets are dropped."""
    tokens: list[tuple[str, bool]] = []
    word: list[str] = []
    in_word = False
    drop_next = False
    i, n = 0, len(text)

    def end_word() -> None:
        nonlocal in_word, drop_next
        if in_word:
            if drop_next:
                drop_next = False
            else:
                tokens.append(("".join(word), False))
        word.clear()
        in_word = False

    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            if text[i + 1] != "\n":
                word.append(text[i + 1])
                in_word = True
            i += 2
        elif ch == "'":
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            word.append(text[i + 1:j])
            in_word, i = True, j + 1
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n and text[j + 1] in '"\\$`':
                    j += 1
                word.append(text[j])
                j += 1
            in_word, i = True, j + 1
        elif ch == "$" and i + 1 < n and text[i + 1] in "({":
            j = _read_balanced(text, i + 1, text[i + 1], ")" if text[i + 1] == "(" else "}")
            word.append(text[i:j])
            in_word, i = True, j
        elif ch == "`":
            j = text.find("`", i + 1)
            j = n if j < 0 else j + 1
            word.append(text[i:j])
            in_word, i = True, j
        elif ch == "#" and not in_word:
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif ch in "<>" or (ch == "&" and text[i + 1:i + 2] == ">"):
            if in_word and "".join(word).isdigit():
                word.clear()
                in_word = False
            end_word()
            j = i + 1
            while j < n and text[j] in "<>&|":
                j += 1
            op = text[i:j]
            if op.endswith("&") and j < n and (text[j].isdigit() or text[j] == "-"):
                while j < n and (text[j].isdigit() or text[j] == "-"):
                    j += 1
            elif ch == "<" and text[j:j + 1] == "(":
                j = _read_balanced(text, j, "(", ")")
                tokens.append((text[i:j], False))
            else:
                drop_next = True
            i = j
        elif ch in " \t\r":
            end_word()
            i += 1
        else:
            found = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if found is None:
                word.append(ch)
                in_word, i = True, i + 1
                continue
            end_word()
            drop_next = False
            tokens.append((found, True))
            i += len(found)
    end_word()
    return tokens


def commands(text: str) -> list[Command]:
    """The simple commands of a shell script, in order."""
    out: list[Command] = []
    argv: list[str] = []
    piped = False
    for token, is_op in tokenize(text):
        if not is_op:
            argv.append(token)
            continue
        if argv:
            out.append(Command(tuple(argv), piped))
        argv = []
        piped = token in ("|", "|&")
    if argv:
        out.append(Command(tuple(argv), piped))
    return out


def run_scripts(df: Dockerfile) -> Iterator[tuple[Instruction, str]]:
    """Every ``RUN`` (including ``ONBUILD RUN``) with the shell text it runs, heredoc bodies included."""
    for ins in iter_instructions(df, "RUN"):
        yield ins, ins.script()

