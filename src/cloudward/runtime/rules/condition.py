"""Falco's condition language: a lexer and a recursive-descent parser into a small AST.

Grammar (precedence low to high): ``or``, ``and``, ``not``, then a parenthesised
expression, a macro reference (a bare identifier), or a check ``field op value``.
Operators are Falco's: ``= == != < <= > >= contains icontains startswith endswith
glob iglob pmatch in intersects exists regex``; values are quoted strings, bare
words, ``val(field)`` (another field of the event), or parenthesised lists whose
items may name lists. Transformers (``tolower(field)`` ...) are accepted on the
left side. Parsing never looks at an
event: it happens once per rule, at load time.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

BINARY_OPS = frozenset({"=", "==", "!=", "<", "<=", ">", ">=", "contains", "icontains", "startswith",
                        "endswith", "glob", "iglob", "pmatch", "in", "intersects", "regex"})
LIST_OPS = frozenset({"in", "intersects", "pmatch"})
TRANSFORMERS = frozenset({"tolower", "toupper", "b64", "basename", "len"})
_WORD_OPS = sorted((op for op in BINARY_OPS | {"exists"} if op[0].isalpha()), key=len, reverse=True)
_SYM_OPS = ("==", "!=", "<=", ">=", "=", "<", ">")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_BARE = re.compile(r"""[^\s(),="']+""")
_SPACE = re.compile(r"\s*")


class ConditionError(ValueError):
    """A syntax error in a condition, with the 1-based column where it was found."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


@dataclasses.dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Not:
    item: Node


@dataclasses.dataclass(frozen=True, slots=True)
class MacroRef:
    name: str
    column: int


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """``field[arg] op value``; ``values`` is a tuple for list operators, else one string (or None for exists)."""

    field: str
    arg: str | None
    op: str
    value: str | tuple[str, ...] | None
    column: int
    transformer: str | None = None
    #: whether each list item was written bare (a bare item may name a list to expand)
    bare: tuple[bool, ...] = ()
    #: where the condition holding this check was written (a ``Where``), set when macros are inlined
    where: Any = None
    #: ``val(field[arg])`` on the right side: compare with another field of the same event (``value`` is None)
    rhs_field: tuple[str, str | None] | None = None


Node = And | Or | Not | MacroRef | Check


def parse_condition(text: str) -> Node:
    """Parse a whole condition; raises ``ConditionError`` with a column on the first error."""
    p = _Parser(text)
    node = p.expr()
    p.skip()
    if p.pos < len(text):
        raise ConditionError(f"unexpected {text[p.pos:p.pos + 20]!r}", p.pos + 1)
    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        m = _SPACE.match(self.text, self.pos)
        self.pos = m.end() if m else self.pos

    def _keyword(self, word: str) -> bool:
        self.skip()
        end = self.pos + len(word)
        if self.text.startswith(word, self.pos) and (end >= len(self.text) or not _is_ident_char(self.text[end])):
            self.pos = end
            return True
        return False

    def expr(self) -> Node:
        items = [self.and_expr()]
        while self._keyword("or"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self._keyword("and"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        if self._keyword("not"):
            return Not(self.not_expr())
        return self.primary()

    def primary(self) -> Node:
        self.skip()
        if self.pos >= len(self.text):
            raise ConditionError("unexpected end of condition", self.pos + 1)
        if self.text[self.pos] == "(":
            self.pos += 1
            node = self.expr()
            self.skip()
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise ConditionError("missing ')'", self.pos + 1)
            self.pos += 1
            return node
        return self.check()

    def check(self) -> Node:
        col = self.pos + 1
        m = _IDENT.match(self.text, self.pos)
        if not m:
            raise ConditionError(f"expected a field or macro name, found {self.text[self.pos:self.pos + 20]!r}", col)
        name = m.group(0)
        self.pos = m.end()
        transformer = None
        if name in TRANSFORMERS and self.pos < len(self.text) and self.text[self.pos] == "(":
            transformer = name
            self.pos += 1
            self.skip()
            m = _IDENT.match(self.text, self.pos)
            if not m:
                raise ConditionError(f"expected a field inside {transformer}()", self.pos + 1)
            name = m.group(0)
            self.pos = m.end()
        arg = self._field_arg()
        if transformer:
            self.skip()
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise ConditionError(f"missing ')' after {transformer}({name}", self.pos + 1)
            self.pos += 1
        op = self._operator()
        if op is None:
            if arg is not None or "." in name or transformer:
                raise ConditionError(f"expected an operator after field {name!r}", self.pos + 1)
            return MacroRef(name, col)
        if op == "exists":
            return Check(name, arg, op, None, col, transformer)
        self.skip()
        if op in LIST_OPS:
            if self.pos < len(self.text) and self.text[self.pos] == "(":
                values, bare = self._list()
            else:  # `in list_name` without parentheses is not Falco syntax, but a lone value is
                v, b = self._value()
                values, bare = (v,), (b,)
            return Check(name, arg, op, values, col, transformer, bare)
        if self.text.startswith("val(", self.pos):
            return Check(name, arg, op, None, col, transformer, (), rhs_field=self._val())
        value, is_bare = self._value()
        return Check(name, arg, op, value, col, transformer, (is_bare,))

    def _val(self) -> tuple[str, str | None]:
        """``val(field)`` or ``val(field[arg])``: Falco's right-hand side naming another field."""
        self.pos += 4
        self.skip()
        m = _IDENT.match(self.text, self.pos)
        if not m:
            raise ConditionError("expected a field inside val()", self.pos + 1)
        self.pos = m.end()
        arg = self._field_arg()
        self.skip()
        if self.pos >= len(self.text) or self.text[self.pos] != ")":
            raise ConditionError(f"missing ')' after val({m.group(0)}", self.pos + 1)
        self.pos += 1
        return m.group(0), arg

    def _field_arg(self) -> str | None:
        if self.pos < len(self.text) and self.text[self.pos] == "[":
            end = self.text.find("]", self.pos)
            if end < 0:
                raise ConditionError("missing ']' after field argument", self.pos + 1)
            arg = self.text[self.pos + 1:end].strip()
            self.pos = end + 1
            if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
                arg = arg[1:-1]
            return arg
        return None

    def _operator(self) -> str | None:
        self.skip()
        for sym in _SYM_OPS:
            if self.text.startswith(sym, self.pos):
                self.pos += len(sym)
                return sym
        for word in _WORD_OPS:
            if self._keyword(word):
                return word
        return None

    def _value(self) -> tuple[str, bool]:
        self.skip()
        if self.pos < len(self.text) and self.text[self.pos] in "'\"":
            return self._quoted(), False
        m = _BARE.match(self.text, self.pos)
        if not m:
            raise ConditionError(f"expected a value, found {self.text[self.pos:self.pos + 20]!r}", self.pos + 1)
        self.pos = m.end()
        return m.group(0), True

    def _quoted(self) -> str:
        quote = self.text[self.pos]
        out: list[str] = []
        i = self.pos + 1
        while i < len(self.text):
            c = self.text[i]
            if c == "\\" and i + 1 < len(self.text):
                nxt = self.text[i + 1]
                out.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(nxt, nxt))
                i += 2
                continue
            if c == quote:
                self.pos = i + 1
                return "".join(out)
            out.append(c)
            i += 1
        raise ConditionError("unterminated string", self.pos + 1)

    def _list(self) -> tuple[tuple[str, ...], tuple[bool, ...]]:
        self.pos += 1  # '('
        values: list[str] = []
        bare: list[bool] = []
        self.skip()
        if self.pos < len(self.text) and self.text[self.pos] == ")":
            self.pos += 1
            return (), ()
        while True:
            v, b = self._value()
            values.append(v)
            bare.append(b)
            self.skip()
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
                continue
            if self.pos < len(self.text) and self.text[self.pos] == ")":
                self.pos += 1
                return tuple(values), tuple(bare)
            raise ConditionError("expected ',' or ')' in value list", self.pos + 1)


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c in "_."
