"""Errors that name the file, the line and the field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    file: str
    line: int | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class DataValidationError(ValueError):
    """One or more rows of an input are bad; nothing was written."""

    max_shown = 50

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        shown = "\n".join(str(i) for i in self.issues[: self.max_shown])
        more = len(self.issues) - self.max_shown
        if more > 0:
            shown += f"\n... and {more} more"
        super().__init__(f"{len(self.issues)} bad row(s):\n{shown}")
