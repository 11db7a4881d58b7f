"""Quarters (季度) as the assessment names them: '2026Q1', with their first and last day."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from gis.errors import InvalidInput

QUARTER = r"^20[0-9]{2}Q[1-4]$"


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def code(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        following = date(self.year + 1, 1, 1) if self.number == 4 else date(self.year, 3 * self.number + 1, 1)
        return following - timedelta(days=1)

    def __str__(self) -> str:
        return self.code


def parse(code: str, field: str = "quarter") -> Quarter:
    """'2026Q1' as a Quarter, or a 422 naming ``field``."""
    if not isinstance(code, str) or not re.fullmatch(QUARTER, code):
        raise InvalidInput.one(field, "a quarter such as 2026Q1")
    return Quarter(int(code[:4]), int(code[5]))


def of_day(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)
