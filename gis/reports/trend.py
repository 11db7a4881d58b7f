"""The monthly trend of reports (趋势): per category and area (street 街道, community 社区 or grid 网格),
each month against the same month a year earlier, the change in per cent per month and over the
whole window (the seed's "明显减少" made a figure), in one statement.

What counts: the reports the user reads (row-level security narrows, as everywhere), by the day they
were seen in China (report_day), except those found to be duplicates or rejected (不予受理: not uncivil
behaviour): COUNTED below, the same condition the drill-down list (``listed``) applies, so a figure is
the length of its list. The area of a report: its street is the first 9 digits of its community
(area_code), its community that code, its grid the grid the point lies in (routed_grid; none: outside
every grid). The window is whole months, at most twelve (so that it never overlaps the year before).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from openpyxl import Workbook
from openpyxl.styles import Font
from psycopg import sql
from psycopg.rows import dict_row

from gis.errors import InvalidInput
from gis.spreadsheet import append_row

LEVELS = {"street": "left(r.area_code, 9)", "community": "r.area_code", "grid": "r.routed_grid"}
MAX_MONTHS = 12
COUNTED = "r.state NOT IN ('duplicate', 'rejected')"
_FILTERS = """(%(category)s::text IS NULL OR r.category = %(category)s)
  AND (%(prefix)s::text = '' OR starts_with(r.area_code, %(prefix)s))"""

_TREND = """
WITH r AS (
    SELECT {area} AS area, r.category,
           CASE WHEN r.report_day >= %(first)s THEN date_trunc('month', r.report_day)::date
                ELSE (date_trunc('month', r.report_day) + interval '1 year')::date END AS month,
           r.report_day >= %(first)s AS current
    FROM report r
    WHERE {counted} AND {filters}
      AND ((r.report_day >= %(first)s AND r.report_day < %(end)s)
           OR (r.report_day >= (%(first)s::date - interval '1 year')::date
               AND r.report_day < (%(end)s::date - interval '1 year')::date))
)
SELECT GROUPING(area, category, month) AS grouping, area, category, month,
       count(*) FILTER (WHERE current) AS n, count(*) FILTER (WHERE NOT current) AS before
FROM r GROUP BY GROUPING SETS ((area, category, month), (area, category), (area, month), (area), (month), ())
"""

_NAMES = """SELECT code, name FROM community WHERE code = ANY (%(codes)s)
UNION ALL SELECT code, name FROM grid WHERE code = ANY (%(codes)s)"""


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def change_pct(n: int, before: int) -> float | None:
    """The change against a year earlier in per cent, one decimal; None where there was nothing then."""
    return None if before == 0 else round((n - before) * 100.0 / before, 1)


@dataclass(frozen=True)
class Window:
    level: str
    first: date  # the first day of the first month
    months: int
    category: str | None = None
    prefix: str = ""  # an area code: only reports of communities under it

    @property
    def end(self) -> date:  # the day after the last month
        return add_months(self.first, self.months)

    @property
    def month_list(self) -> list[date]:
        return [add_months(self.first, i) for i in range(self.months)]

    def params(self) -> dict[str, Any]:
        return {"first": self.first, "end": self.end, "category": self.category, "prefix": self.prefix}


def window(
    level: str, last: date, months: int = MAX_MONTHS, category: str | None = None, prefix: str = ""
) -> Window:
    """The ``months`` whole months ending with the month of ``last``; 422s name the field."""
    if level not in LEVELS:
        raise InvalidInput.one("level", f"one of {', '.join(LEVELS)}")
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput.one("months", f"between 1 and {MAX_MONTHS}")
    return Window(level, add_months(last.replace(day=1), 1 - months), months, category, prefix)


def _cell(n: int, before: int) -> dict[str, Any]:
    return {"n": n, "before": before, "change_pct": change_pct(n, before)}


def trend(conn: psycopg.Connection, w: Window) -> dict[str, Any]:
    """The figures of ``w``: per area (named), its total and per category, each with its months and
    its whole-window cell ({n, before, change_pct}); the months' totals and the overall cell."""
    query = sql.SQL(_TREND).format(
        area=sql.SQL(LEVELS[w.level]), counted=sql.SQL(COUNTED), filters=sql.SQL(_FILTERS)
    )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, w.params()).fetchall()
    months = w.month_list
    empty = {m: _cell(0, 0) for m in months}
    areas: dict[str | None, dict[str, Any]] = {}
    overall: dict[str, Any] = {"months": dict(empty), "whole": _cell(0, 0)}

    def area(code: str | None) -> dict[str, Any]:
        return areas.setdefault(
            code, {"code": code, "name": None, "months": dict(empty), "whole": _cell(0, 0), "categories": {}}
        )

    def category(code: str | None, cat: str) -> dict[str, Any]:
        return area(code)["categories"].setdefault(
            cat, {"category": cat, "months": dict(empty), "whole": _cell(0, 0)}
        )

    for r in rows:  # the grouping sets of the one statement, placed (bits: area 4, category 2, month 1)
        cell, g = _cell(r["n"], r["before"]), r["grouping"]
        if g == 0:
            category(r["area"], r["category"])["months"][r["month"]] = cell
        elif g == 1:
            category(r["area"], r["category"])["whole"] = cell
        elif g == 2:
            area(r["area"])["months"][r["month"]] = cell
        elif g == 3:
            area(r["area"])["whole"] = cell
        elif g == 6:
            overall["months"][r["month"]] = cell
        elif g == 7:
            overall["whole"] = cell
    codes = [c for c in areas if c]
    names = {row[0]: row[1] for row in conn.execute(_NAMES, {"codes": codes}).fetchall()} if codes else {}
    for code, a in areas.items():
        a["name"] = names.get(code) if code else None
    ordered = sorted(areas.values(), key=lambda a: (a["code"] is None, a["code"] or ""))
    return {
        "level": w.level,
        "first": w.first,
        "months": months,
        "category": w.category,
        "prefix": w.prefix,
        "areas": ordered,
        "overall": overall,
    }


def listed(
    conn: psycopg.Connection, w: Window, area: str | None, month: date | None, before: bool = False
) -> list[int]:
    """The ids of the reports behind one figure (newest first): of ``area`` at the window's level
    (None: every area; "" for the grid level: outside every grid), of ``month`` (None: the whole
    window), of the same period a year earlier if ``before``. Same condition as the figures."""
    first, end = (month, add_months(month, 1)) if month else (w.first, w.end)
    if before:
        first, end = add_months(first, -12), add_months(end, -12)
    where = sql.SQL(
        "{counted} AND {filters} AND r.report_day >= %(first)s AND r.report_day < %(end)s"
        " AND (%(area)s::text IS NULL OR {area} IS NOT DISTINCT FROM nullif(%(area)s, ''))"
    ).format(counted=sql.SQL(COUNTED), filters=sql.SQL(_FILTERS), area=sql.SQL(LEVELS[w.level]))
    query = sql.SQL("SELECT r.id FROM report r WHERE {} ORDER BY r.reported_at DESC, r.id DESC").format(where)
    params = {**w.params(), "first": first, "end": end, "area": area}
    return [row[0] for row in conn.execute(query, params).fetchall()]


TREND_COLUMNS = ("区域编码", "区域名称", "类别", "月份", "本期件数", "去年同期件数", "同比变化(%)")


def trend_rows(result: dict[str, Any], category_names: dict[str, str]) -> list[list[Any]]:
    """The figures as rows (area, category or 合计, month or 合计): the workbook's and a test's."""
    rows: list[list[Any]] = []

    def add(
        code: Any, name: Any, cat: str, months: dict[date, dict[str, Any]], whole: dict[str, Any]
    ) -> None:
        for m in result["months"]:
            c = months[m]
            rows.append([code, name, cat, m.strftime("%Y-%m"), c["n"], c["before"], c["change_pct"]])
        rows.append([code, name, cat, "合计", whole["n"], whole["before"], whole["change_pct"]])

    for a in result["areas"]:
        code, name = a["code"] or "", a["name"] or ("网格外" if result["level"] == "grid" else "")
        add(code, name, "合计", a["months"], a["whole"])
        for cat, c in sorted(a["categories"].items()):
            add(code, name, category_names.get(cat, cat), c["months"], c["whole"])
    add("", "全部", "合计", result["overall"]["months"], result["overall"]["whole"])
    return rows


def trend_workbook(result: dict[str, Any], category_names: dict[str, str]) -> bytes:
    """The figures as a workbook with Chinese headers, one row per area, category and month."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "不文明行为趋势"
    append_row(sheet, list(TREND_COLUMNS))
    for row in trend_rows(result, category_names):
        append_row(sheet, row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
