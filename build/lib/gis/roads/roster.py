"""The weekly duty roster (责任路段值勤表) of a unit as an XLSX workbook: its sections and duty days."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

import psycopg
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from psycopg.rows import dict_row

from gis.roads.assignments import WEEKDAYS
from gis.roads.units import get_unit
from gis.spreadsheet import append_row

# (header: 中文 English, row key, column width)
COLUMNS = (
    ("路段编号 Section", "section_code", 16),
    ("道路名称 Road", "road_name", 18),
    ("起点 From", "from_desc", 24),
    ("止点 To", "to_desc", 24),
    ("长度(米) Length (m)", "length_m", 14),
    ("街道 Street", "street_name", 14),
    ("社区 Community", "community_code", 16),
    ("网格 Grid", "grid_code", 18),
    ("值勤日 Duty day", "duty_day", 18),
    ("起始日期 From date", "valid_from", 14),
    ("截止日期 To date", "valid_to", 14),
)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def roster_rows(conn: psycopg.Connection, unit_id: int, on: date | None = None) -> list[dict[str, Any]]:
    """The unit's live sections held on ``on`` (default today) or later, by duty day and code."""
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT s.code AS section_code, s.road_name, s.from_desc, s.to_desc,
                  round(s.length_m::numeric, 1)::float8 AS length_m, s.street_name, s.community_code,
                  s.grid_code, a.duty_day, lower(a.valid) AS valid_from, upper(a.valid) - 1 AS valid_to
           FROM road_section_assignment a JOIN road_section s ON s.id = a.section_id
           WHERE a.unit_id = %s AND s.retired_on IS NULL
             AND (upper_inf(a.valid) OR upper(a.valid) > %s::date)
           ORDER BY a.duty_day, s.code, lower(a.valid)""",
        [unit_id, on or date.today()]).fetchall()


def roster_workbook(conn: psycopg.Connection, unit_id: int, on: date | None = None) -> bytes:
    """The roster as XLSX bytes: a header naming the unit and contact, one row per section, a total,
    and a second sheet with the sections under each weekday. Text is stored as text, never a formula."""
    unit = get_unit(conn, unit_id)
    on = on or date.today()
    rows = roster_rows(conn, unit_id, on)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "值勤表 Roster"
    append_row(sheet, [f"责任路段值勤表 Duty roster: {unit['name']}"])
    sheet["A1"].font = Font(bold=True, size=14)
    append_row(sheet, [f"联系人 Contact: {unit['contact'] or ''}", None, f"电话 Phone: {unit['phone'] or ''}",
                  None, f"日期 As of: {on.isoformat()}"])
    append_row(sheet, [])
    append_row(sheet, [header for header, _, _ in COLUMNS])
    for cell in sheet[4]:
        cell.font, cell.fill = Font(bold=True), _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        values = [row[key] for _, key, _ in COLUMNS]
        values[8] = " ".join(WEEKDAYS[row["duty_day"]])
        values[10] = row["valid_to"] or "长期 open"
        append_row(sheet, values)
    append_row(sheet, ["合计 Total", f"{len(rows)} 段 sections", None, None,
                  round(sum(r["length_m"] for r in rows), 1)])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    for i, (_, _, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A5"

    week = book.create_sheet("每周 Week")
    append_row(week, [" ".join(WEEKDAYS[d]) for d in sorted(WEEKDAYS)])
    for cell in week[1]:
        cell.font, cell.fill = Font(bold=True), _HEADER_FILL
    by_day = {d: [f"{r['section_code']} {r['road_name']}" for r in rows if r["duty_day"] == d]
              for d in WEEKDAYS}
    for i in range(max((len(v) for v in by_day.values()), default=0)):
        append_row(week, [by_day[d][i] if i < len(by_day[d]) else None for d in sorted(WEEKDAYS)])
    for i in range(1, 8):
        week.column_dimensions[get_column_letter(i)].width = 24
    out = BytesIO()
    book.save(out)
    return out.getvalue()
