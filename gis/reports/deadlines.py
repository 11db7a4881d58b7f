"""Deadlines in working days (工作日): Chinese public holidays and the adjusted working days (调休, a
Saturday or Sunday worked to bridge a holiday) from the maintained package ``chinesecalendar``.

A year the package does not know yet (it covers the years the State Council has announced) counts
Monday to Friday as working days: a deadline then may fall on a holiday announced later, never earlier
than the plain weekday count.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year not announced yet
        return day.weekday() < 5


@lru_cache(maxsize=4096)
def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (0: ``start`` itself if a working day, else the next
    one). A report filed on the eve of National Day with one day to accept is due on the first working
    day after the holiday."""
    day = start
    if days == 0:
        while not is_workday(day):
            day += timedelta(days=1)
        return day
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def deadlines(day: date, accept_days: int, handle_days: int) -> tuple[date, date]:
    """(accept_by, handle_by) of a report filed on ``day``: accepted within ``accept_days`` working days,
    handled within ``handle_days`` more (counted again from the dispatch when it is dispatched)."""
    accept_by = add_working_days(day, accept_days)
    return accept_by, add_working_days(accept_by, handle_days)
