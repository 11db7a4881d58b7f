"""Working-day deadlines (gis/reports/deadlines.py) across the National Day holiday of 2025: 1-8 October
off (National Day and the Mid-Autumn Festival together), Sunday 28 September and Saturday 11 October
worked instead (调休). Every expected date below is counted by hand on the calendar, not computed."""

from __future__ import annotations

from datetime import date

import pytest

from gis.reports.deadlines import add_working_days, deadlines, is_workday

D = date


@pytest.mark.parametrize(("day", "worked"), [
    (D(2025, 9, 26), True),    # Friday
    (D(2025, 9, 27), False),   # Saturday
    (D(2025, 9, 28), True),    # Sunday, worked for the holiday
    (D(2025, 9, 30), True),    # Tuesday, the eve
    (D(2025, 10, 1), False), (D(2025, 10, 3), False), (D(2025, 10, 6), False),  # 中秋 inside the holiday
    (D(2025, 10, 8), False),   # Wednesday, the last day off
    (D(2025, 10, 9), True),    # Thursday, back at work
    (D(2025, 10, 11), True),   # Saturday, worked for the holiday
    (D(2025, 10, 12), False),  # Sunday
])
def test_which_days_are_worked(day: date, worked: bool) -> None:
    assert is_workday(day) is worked


@pytest.mark.parametrize(("start", "days", "due"), [
    (D(2025, 9, 26), 1, D(2025, 9, 28)),    # Friday + 1: the worked Sunday, not Monday
    (D(2025, 9, 25), 3, D(2025, 9, 29)),    # Thu + 3: Fri 26, Sun 28, Mon 29
    (D(2025, 9, 28), 1, D(2025, 9, 29)),    # from the worked Sunday
    (D(2025, 9, 30), 1, D(2025, 10, 9)),    # the eve + 1: the first day back
    (D(2025, 9, 30), 2, D(2025, 10, 10)),
    (D(2025, 9, 30), 3, D(2025, 10, 11)),   # the worked Saturday
    (D(2025, 9, 30), 4, D(2025, 10, 13)),   # Sunday 12 is off
    (D(2025, 9, 29), 5, D(2025, 10, 13)),   # Tue 30, Thu 9, Fri 10, Sat 11, Mon 13
    (D(2025, 10, 3), 1, D(2025, 10, 9)),    # filed during the holiday
    (D(2025, 10, 8), 1, D(2025, 10, 9)),
    (D(2025, 10, 1), 0, D(2025, 10, 9)),    # 0 days: the next working day when filed on a day off
    (D(2025, 9, 27), 0, D(2025, 9, 28)),    # Saturday with 0 days: the worked Sunday
    (D(2025, 9, 30), 0, D(2025, 9, 30)),    # a working day with 0 days: that day
    (D(2025, 9, 19), 10, D(2025, 10, 10)),  # Fri 19 + 10: 22-26 (5), 28, 29, 30 (8), Oct 9, 10
])
def test_working_days_skip_the_holiday_and_count_the_worked_weekend_days(start: date, days: int,
                                                                         due: date) -> None:
    assert add_working_days(start, days) == due


def test_a_reports_two_deadlines_across_the_holiday() -> None:
    # littering (1 day to accept, 2 to handle) seen on the eve: accept by Thu 9, handle by Sat 11
    assert deadlines(D(2025, 9, 30), 1, 2) == (D(2025, 10, 9), D(2025, 10, 11))
    # unauthorised building (2, 10) seen on Sunday 5 October: accept by Fri 10; then Sat 11, Mon 13 ...
    # Fri 17 (6), Mon 20 ... Thu 23 (10)
    assert deadlines(D(2025, 10, 5), 2, 10) == (D(2025, 10, 10), D(2025, 10, 23))
    # noise (1, 3) seen on the worked Sunday: accept by Mon 29, handle by Tue 30, Thu 9, Fri 10
    assert deadlines(D(2025, 9, 28), 1, 3) == (D(2025, 9, 29), D(2025, 10, 10))


def test_a_year_not_announced_counts_monday_to_friday() -> None:
    assert is_workday(D(2099, 1, 1))  # a Thursday: New Year's Day, not announced yet, so worked
    assert not is_workday(D(2099, 1, 3))  # a Saturday
    assert add_working_days(D(2099, 1, 2), 1) == D(2099, 1, 5)  # Friday + 1: Monday
