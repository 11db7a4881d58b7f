"""Domain errors: what went wrong and where (row, field). api/ maps them to HTTP codes."""

from __future__ import annotations

from dataclasses import dataclass, field


class GridmapError(Exception):
    """Base of every error gridmap reports to a user."""


class NotFound(GridmapError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key!r} not found")
        self.what, self.key = what, key


class TooLarge(GridmapError):
    """An upload over the configured size limit (GRIDMAP_MAX_UPLOAD_MB)."""

    def __init__(self, limit_mb: int) -> None:
        super().__init__(f"the upload is larger than the limit of {limit_mb} MB (GRIDMAP_MAX_UPLOAD_MB)")


class Conflict(GridmapError):
    """The request clashes with the stored state (duplicate key, concurrent edit, overlap)."""


@dataclass
class Problem:
    """One thing wrong with the input: the row (1-based, as a spreadsheet counts data rows),
    the field and the reason."""

    field: str
    reason: str
    row: int | None = None

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{where}{self.field}: {self.reason}"


@dataclass
class InvalidInput(GridmapError):
    """Bad input; nothing was written. Holds every problem found, not only the first."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    @classmethod
    def one(cls, field: str, reason: str, row: int | None = None) -> InvalidInput:
        return cls([Problem(field, reason, row)])

    def summary(self, limit: int = 20) -> str:
        head = "; ".join(str(p) for p in self.problems[:limit])
        more = len(self.problems) - limit
        return head + (f"; and {more} more" if more > 0 else "")


def text_problems(fields: dict, row: int | None = None) -> list[Problem]:
    """PostgreSQL text cannot hold NUL characters: name the field instead of failing in the driver."""
    return [Problem(k, "must not contain NUL (\\x00) characters", row)
            for k, v in fields.items() if isinstance(v, str) and "\x00" in v]
