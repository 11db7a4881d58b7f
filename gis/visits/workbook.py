"""The overdue list (未按期走访户) and the visit figures as workbooks with Chinese headers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from gis.spreadsheet import append_row
from gis.visits.record import LOCAL_TZ

CHINA = ZoneInfo(LOCAL_TZ)
OVERDUE_COLUMNS = (  # (key, header)
    ("household_id", "户ID"), ("ref", "户编号"), ("grid_code", "网格编码"), ("address", "地址"),
    ("building", "楼栋"), ("unit", "单元"), ("room", "房号"), ("group_zh", "走访分组"),
    ("interval_days", "走访周期(天)"), ("last_visit_at", "最近走访时间"), ("days_since", "距今天数"),
    ("days_overdue", "超期天数"),
)
GRID_COLUMNS = (("grid_code", "网格编码"), ("name", "网格名称"), ("households", "户数"),
                ("visits", "走访次数"), ("households_visited", "走访户数"), ("far_visits", "距离异常次数"),
                ("overdue", "超期未走访户数"))
WORKER_COLUMNS = (("username", "走访人"), ("grids", "负责网格"), ("visits", "走访次数"),
                  ("households_visited", "走访户数"), ("far_visits", "距离异常次数"),
                  ("overdue", "负责网格超期未走访户数"))


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(CHINA).replace(tzinfo=None)  # XLSX has no time zones: China time
    return value


def _sheet(sheet: Worksheet, title: str, columns: Sequence[tuple[str, str]],
           rows: Sequence[dict[str, Any]]) -> None:
    sheet.title = title
    append_row(sheet, [header for _, header in columns])
    for row in rows:
        append_row(sheet, [_cell(row.get(key)) for key, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def overdue_workbook(rows: Sequence[dict[str, Any]]) -> bytes:
    """One row per overdue household; 最近走访时间 in China time."""
    book = Workbook()
    assert book.active is not None
    _sheet(book.active, "未按期走访户", OVERDUE_COLUMNS, rows)
    return _bytes(book)


def figures_workbook(result: dict[str, Any]) -> bytes:
    book = Workbook()
    assert book.active is not None
    _sheet(book.active, "按网格", GRID_COLUMNS, result["grids"])
    _sheet(book.create_sheet(), "按走访人", WORKER_COLUMNS, result["workers"])
    return _bytes(book)
