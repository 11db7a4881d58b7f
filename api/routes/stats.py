"""四清 statistics per grid, community or everything; every figure links to the list behind it.
The same figures as a workbook with Chinese headers (GET /stats.xlsx) for the office's reports."""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from pydantic import BaseModel, Field

from api.deps import Conn
from api.params import XLSX, AreaQuery, download
from api.security import CurrentUser
from api.workbench.nav import counts_whole
from gis.access.accounts import Principal
from gis.access.roles import REGISTER
from gis.errors import InvalidInput
from gis.register.stats import LABELS, flatten, statistics
from gis.spreadsheet import append_row

router = APIRouter(tags=["statistics"])


class StatsEntry(BaseModel):
    level: Literal["all", "community", "grid"]
    code: str | None = None
    name: str | None = None
    community_code: str | None = None
    figures: dict[str, Any] = Field(description="each figure is {count, href}; href lists exactly those rows")


class Statistics(BaseModel):
    scope: dict[str, str | None]
    all: StatsEntry | None = None
    communities: list[StatsEntry]
    grids: list[StatsEntry]


@router.get("/stats", response_model=Statistics)
def get_statistics(conn: Conn, area: Annotated[AreaQuery, Depends()]) -> dict:
    """四清 figures: households, persons, registered/floating (流动人口), employment, key persons
    (重点人员) by category, poor groups (低保/特困...) by status, elderly alone, disabled, activists,
    volunteers. Without filters: all communities (the street), each community and each grid."""
    if area.grid is not None and area.community is not None:
        raise InvalidInput.one("grid", "give grid or community, not both")
    return statistics(conn, grid=area.grid, community=area.community)


# The workbook's Chinese headers: the figures' names in gis/register/stats.LABELS (their Chinese half),
# employment by status, the key-person categories and poverty statuses by their names in the database.
EMPLOYMENT_ZH = {"employed": "在业", "unemployed": "失业", "retired": "离退休", "student": "在校学生",
                 "preschool": "学龄前儿童", "other": "其他", "unknown": "未登记"}
LEVELS_ZH = {"all": "全部", "community": "社区", "grid": "网格"}
DASH = "—"  # a figure the caller's scopes do not hold whole: never a 0 or a partial sum


def figure_whole(user: Principal, code: str, key: str) -> bool:
    """Whether the figure ``key`` of the area ``code`` counts the area whole for ``user``: the area
    lies in a counting scope, and for key persons (重点人员), which the database counts only where a
    register role (admin, grid worker) reaches, in such a role's scope: a viewer's key persons are not
    0 but unknown."""
    if key.startswith("key_persons"):
        return any(g.role in REGISTER and code.startswith(g.scope) for g in user.grants)
    return counts_whole(user, code)


def _headers(conn: psycopg.Connection, keys: list[str]) -> list[str]:
    categories: dict[str, str] = dict(conn.execute("SELECT code, name_zh FROM key_person_category"))
    statuses: dict[str, str] = dict(conn.execute("SELECT code, name_zh FROM poverty_status"))
    out = []
    for key in keys:
        head, _, rest = key.partition(".")
        if head == "employment":
            out.append(f"就业-{EMPLOYMENT_ZH.get(rest, rest)}")
        elif head == "key_persons_by_category":
            out.append(f"重点人员-{categories.get(rest, rest)}")
        elif head == "poverty_by_status":
            status, _, of = rest.partition(".")
            out.append(f"{statuses.get(status, status)}{'人员' if of == 'persons' else '户'}")
        else:
            out.append(LABELS[key].split(" ", 1)[0])
    return out


def statistics_workbook(conn: psycopg.Connection, result: dict, whole: Any) -> bytes:
    """One sheet: a row per area (all, communities, grids), a column per figure, Chinese headers;
    ``whole(code, key)`` says whether the caller counts the figure whole (else its cell is "—")."""
    entries = ([result["all"]] if result["all"] else []) + result["communities"] + result["grids"]
    keys = list(dict.fromkeys(k for e in entries for k in flatten(e["figures"])))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "四清统计"
    append_row(sheet, ["级别", "编码", "名称", *_headers(conn, keys)])
    for entry in entries:
        code = entry.get("code") or ""
        figures = flatten(entry["figures"])
        counts = ((figures[k]["count"] if whole(code, k) else DASH) if k in figures else None for k in keys)
        append_row(sheet, [LEVELS_ZH[entry["level"]], code, entry.get("name") or "全部", *counts])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in range(1, len(keys) + 4):
        sheet.column_dimensions[get_column_letter(column)].width = 16 if column == 2 else 12
    sheet.freeze_panes = "D2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get("/stats.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}},
            summary="四清 statistics as a workbook (统计表), Chinese headers")
def get_statistics_xlsx(conn: Conn, user: CurrentUser, area: Annotated[AreaQuery, Depends()]) -> Response:
    """The figures of GET /stats, a row per area and a column per figure. An area the caller's scopes
    hold only in part (a grid worker's community) has "—" in its cells."""
    if area.grid is not None and area.community is not None:
        raise InvalidInput.one("grid", "give grid or community, not both")
    assert user is not None
    result = statistics(conn, grid=area.grid, community=area.community)
    body = statistics_workbook(conn, result, lambda code, key: figure_whole(user, code, key))
    return download(body, XLSX, f"四清统计-{area.grid or area.community or 'all'}.xlsx")
