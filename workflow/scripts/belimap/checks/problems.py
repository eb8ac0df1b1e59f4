"""One problem found in a study's inputs: a line naming the file, the row or field, what was found
and what was expected, and whether it stops the study (error) or only deserves a look (warning).

Checks return lists of :class:`Problem` instead of raising, so that ``belimap validate`` reports
every problem of every file at once; readers elsewhere still raise the first as ``BelimapError``.
"""

from __future__ import annotations

from dataclasses import dataclass

from belimap.errors import BelimapError

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    """``message`` is one line: ``<file>[ row/field]: <found>; expected <expected>``."""

    message: str
    level: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    def line(self) -> str:
        return f"belimap: {self.level}: {self.message}"


def problem(where: str, found: str, expected: str, *, warning: bool = False) -> Problem:
    """A problem from its parts (the one message shape every check uses)."""
    text = " ".join(f"{where}: {found}; expected {expected}".split())
    return Problem(text, WARNING if warning else ERROR)


def from_error(err: BelimapError) -> Problem:
    """A reader's ``BelimapError`` (already file + what + expected) as an error problem."""
    return Problem(str(err), ERROR)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def raise_first(problems: list[Problem]) -> None:
    """Raise the first error as ``BelimapError`` (for callers that stop at one), counting the rest."""
    errs = errors(problems)
    if errs:
        more = f" (and {len(errs) - 1} more problem(s): run belimap validate to list them all)" if len(errs) > 1 else ""
        raise BelimapError(errs[0].message + more)
