"""One exception root for cloudward, with a base error per kind of failure.

The CLI maps each kind to its documented exit code: input/usage errors exit 2,
operational errors exit 3. Library exceptions are translated at the boundary
(``raise InputError(...) from e``) so callers only ever catch ``CloudwardError``.
"""

from __future__ import annotations


def where_prefix(file: str | None, line: int | None, column: int | None) -> str:
    """``file:line:column: `` — the prefix of every one-line error and problem."""
    if file is None:
        return ""
    where = file
    if line is not None:
        where += f":{line}"
        if column is not None:
            where += f":{column}"
    return where + ": "


class CloudwardError(Exception):
    """Root of every error cloudward raises on purpose."""

    exit_code = 3


class InputError(CloudwardError):
    """The user's input (a file, a flag, a config value) is wrong; exit 2."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return where_prefix(self.file, self.line, self.column) + self.message


class ConfigError(InputError):
    """A configuration file or setting is invalid; exit 2."""


class OperationalError(CloudwardError):
    """Something outside the user's input failed (a crashed rule, I/O); exit 3."""

    exit_code = 3
