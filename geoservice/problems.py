"""Data problems: one clear line each, naming the file, the feature and the field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the curated data."""

    file: str
    message: str
    feature: str = ""
    field: str = ""

    def __str__(self) -> str:
        parts = [self.file]
        if self.feature:
            parts.append(f"feature {self.feature}")
        if self.field:
            parts.append(f"field {self.field}")
        return ": ".join(parts + [self.message])


class DataError(Exception):
    """The curated data cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} data problem(s):\n{lines}")
