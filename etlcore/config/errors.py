"""Configuration errors that say what was wrong, where (``file:line:col``) and what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a pipeline file. ``line`` and ``column`` are 1-based."""

    file: str
    line: int
    column: int
    key: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        key = f" {self.key}:" if self.key else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}:{key} {self.message}{hint}"


class ConfigError(Exception):
    """A pipeline that cannot run. Carries every problem found, not just the first."""

    exit_code = 2

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line, i.column))
        count = len(self.issues)
        head = f"{count} problem{'s' if count != 1 else ''} in the pipeline"
        super().__init__("\n".join([head, *(str(issue) for issue in self.issues)]))
