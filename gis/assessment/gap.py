"""The gap report (查漏补缺): per community, the items of the quarter's sheet without evidence, below
their target or without a figure, as rows and as a workbook with Chinese headers. One statement for
all the communities of the area (gis/assessment/scorecards.sql), however many there are."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import psycopg
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from gis.assessment.quarters import Quarter
from gis.assessment.scorecard import area_items
from gis.spreadsheet import append_row

# (header, key, width)
COLUMNS = (("社区编码", "community", 15), ("社区", "community_name", 12), ("序号", "item_no", 6),
           ("类别", "section", 14), ("考核内容", "content", 40), ("分值", "points", 6),
           ("系统指标", "figure_zh", 22), ("实际值", "value", 10), ("目标", "target_text", 8),
           ("佐证材料数", "evidence", 10), ("问题", "gap_text", 18))


def communities(conn: psycopg.Connection, area: str) -> list[tuple[str, str]]:
    """The communities under ``area`` (a street, or one community), code and name."""
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT code, name FROM community WHERE starts_with(code, %s) ORDER BY code", [area]).fetchall()]


def gap_rows(conn: psycopg.Connection, quarter: Quarter, area: str,
             on: date | None = None) -> list[dict[str, Any]]:
    """Every item with a gap, community by community in code order, items in the sheet's order
    (communities no sheet scores this quarter have none)."""
    return [{**it, "target_text": f"{it['direction']}{it['target']}" if it["target"] is not None else None,
             "gap_text": "、".join(it["gaps"]), "points": float(it["points"])}
            for it in area_items(conn, quarter, area, on) if it["gaps"]]


def gap_workbook(quarter: Quarter, area: str, rows: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "查漏补缺"
    append_row(sheet, [f"{quarter} 查漏补缺（{area}）"])
    sheet["A1"].font = Font(bold=True, size=13)
    append_row(sheet, [h for h, _, _ in COLUMNS])
    for cell in sheet[2]:
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="FCE4D6")
    for r in rows:
        append_row(sheet, [r.get(k) for _, k, _ in COLUMNS])
    for i, (_, _, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
