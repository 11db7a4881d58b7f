"""The register (一册) of a grid or community as XLSX (a sheet per grid) or CSV (UTF-8 with BOM).

One row per person with their household's address beside; a household without members still gets
a row. ID numbers and phones are masked unless ``unmasked`` is asked for; beside a masked ID number
the birth date it hides is given as the birth year only.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Literal

import psycopg
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from psycopg.rows import dict_row

from gis.areas import Area, by_grid_code
from gis.codes import mask_id_number, mask_phone
from gis.errors import InvalidInput, NotFound
from gis.register.common import hide_birth_date
from gis.spreadsheet import append_row, csv_text

# (column, header 中文 English, width in characters)
COLUMNS: list[tuple[str, str, int]] = [
    ("grid_code", "网格编码 Grid", 17),
    ("grid_name", "网格名称 Grid name", 16),
    ("household_id", "户编号 Household", 10),
    ("address", "地址 Address", 30),
    ("building", "楼栋 Building", 9),
    ("unit", "单元 Unit", 8),
    ("room", "房号 Room", 8),
    ("placement", "落格 Placement", 10),
    ("person_id", "人员编号 Person", 10),
    ("name", "姓名 Name", 12),
    ("relation", "与户主关系 Relation", 12),
    ("sex", "性别 Sex", 7),
    ("birth_year", "出生年份 Birth year", 9),
    ("birth_date", "出生日期 Birth date", 12),  # empty beside a masked ID number, which hides it
    ("id_number", "身份证号 ID number", 21),
    ("phone", "电话 Phone", 14),
    ("residence", "户籍/流动 Residence", 12),
    ("employment", "就业 Employment", 12),
    ("poverty", "困难类别 Poverty", 12),
    ("key_person", "重点人员 Key person", 16),
    ("elderly_alone", "独居老人 Elderly alone", 10),
    ("disabled", "残疾 Disabled", 9),
    ("activist", "积极分子 Activist", 9),
    ("volunteer", "志愿者 Volunteer", 9),
]

_ROWS = f"""
    SELECT h.grid_code, g.name AS grid_name, h.id AS household_id, h.address, h.building, h.unit, h.room,
           h.placement::text AS placement, p.id AS person_id, p.name, p.relation, p.sex, p.birth_date,
           extract(year FROM p.birth_date)::int AS birth_year, p.id_number, p.phone, p.residence,
           p.employment, p.poverty, k.category AS key_person,
           p.elderly_alone, p.disabled, p.activist, p.volunteer
    FROM household h
    JOIN grid g ON g.code = h.grid_code
    LEFT JOIN person p ON p.household_id = h.id
    LEFT JOIN key_person k ON k.person_id = p.id
    WHERE {by_grid_code("h.grid_code")}
    ORDER BY h.grid_code, h.id, p.relation <> 'head', p.id
"""


def register_rows(conn: psycopg.Connection, grid: str | None = None, community: str | None = None,
                  unmasked: bool = False) -> tuple[list[tuple[str, str]], list[dict]]:
    """The grids in scope (code, name) and the register rows, in one query each."""
    if (grid is None) == (community is None):
        raise InvalidInput.one("scope", "give exactly one of grid or community")
    table, key = ("grid", grid) if grid is not None else ("community", community)
    area = Area(community=community, grid=grid)
    grids = conn.execute(f"SELECT code, name FROM grid WHERE {by_grid_code('code')} ORDER BY code",
                         area.params()).fetchall()
    if not grids and conn.execute(
            "SELECT 1 FROM community WHERE code = %s", [community]).fetchone() is None:
        raise NotFound(table, key)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_ROWS, area.params()).fetchall()
    if not unmasked:
        for row in rows:
            hide_birth_date(row, unmasked)
            row["id_number"] = mask_id_number(row["id_number"])
            row["phone"] = mask_phone(row["phone"])
    return [(c, n) for c, n in grids], rows


def _cells(row: dict) -> list:
    values = []
    for column, _, _ in COLUMNS:
        value = row[column]
        if isinstance(value, bool):
            value = "是 yes" if value else ""
        values.append(value)
    return values


def _sheet_title(code: str, name: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ and unique in the workbook.
    clean = "".join(ch for ch in f"{code} {name}" if ch not in "[]:*?/\\")[:31]
    title, n = clean, 1
    while title in used:
        n += 1
        title = f"{clean[:27]}~{n}"
    used.add(title)
    return title


def to_xlsx(grids: list[tuple[str, str]], rows: Iterable[dict]) -> bytes:
    """A workbook with one sheet per grid: bilingual header, frozen header row, widths, autofilter."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    by_grid: dict[str, list[dict]] = {code: [] for code, _ in grids}
    for row in rows:
        by_grid.setdefault(row["grid_code"], []).append(row)
    used: set[str] = set()
    header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for code, name in grids:
        sheet = book.create_sheet(_sheet_title(code, name, used))
        sheet.append([header for _, header, _ in COLUMNS])
        for cell in sheet[1]:
            cell.font, cell.fill = header_font, header_fill
        for row in by_grid[code]:
            append_row(sheet, _cells(row))  # register text is never a formula
        for i, (_, _, width) in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(sheet.max_row, 1)}"
    if not grids:
        book.create_sheet("empty").append([header for _, header, _ in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(rows: Iterable[dict]) -> bytes:
    """CSV in UTF-8 with a BOM, so that Excel on Chinese Windows opens it without mojibake; no cell
    runs as a formula."""
    text = csv_text([header for _, header, _ in COLUMNS], (_cells(row) for row in rows))
    return text.encode("utf-8-sig")


def export_register(conn: psycopg.Connection, fmt: Literal["xlsx", "csv"], grid: str | None = None,
                    community: str | None = None, unmasked: bool = False) -> bytes:
    grids, rows = register_rows(conn, grid=grid, community=community, unmasked=unmasked)
    return to_xlsx(grids, rows) if fmt == "xlsx" else to_csv(rows)
