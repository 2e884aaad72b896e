"""One error root for everything a user can get wrong.

Every expected failure (bad YAML, a missing field, an unknown label, a broken theme
template) is a :class:`CabinetReportsError` carrying a location, so the CLI can print it
as a single ``file:line: field.path: message`` line and exit 2 without a traceback, the way
compilers, Jinja and black report input errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One located problem: the file, the line where known, the field path and the message."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        elif self.line:
            where = f"line {self.line}: "
        field = f"{self.field}: " if self.field else ""
        # Keep it to one line whatever the message holds.
        return " ".join(f"{where}{field}{self.message}".split())


class CabinetReportsError(Exception):
    """Root of every expected error; carries one or more located problems."""

    category = "input"

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        # The same problem found twice (a theme error met by every report of a pack) is one line.
        self.problems: list[Problem] = list(dict.fromkeys(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        """Return one printable line per problem."""
        return [str(p) for p in self.problems]

    def located(self, file: str | Path | None, locate=None) -> "CabinetReportsError":
        """Return a copy whose problems name ``file`` and, via ``locate(field)``, a line."""
        fixed = []
        for p in self.problems:
            line = p.line
            if line is None and locate is not None and p.field is not None:
                line = locate(p.field)
            fixed.append(Problem(p.message, p.file or (str(file) if file else None), line, p.field))
        return type(self)(fixed)


class InputError(CabinetReportsError):
    """The report or meeting file is malformed or invalid."""


class ThemeError(CabinetReportsError):
    """A theme file is missing, malformed or fails to render."""

    category = "theme"


class RenderError(CabinetReportsError):
    """A renderer could not produce its output."""

    category = "render"
