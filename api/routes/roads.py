"""Roads and their responsibility sections (路段): lists, cutting, coverage, overlaps, frontage, the map."""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import BaseModel, Field

from api.deps import AppSettings, Conn
from api.headers import Nonce
from api.params import BIGINT, XLSX, DbId, download
from api.security import CurrentUser
from gis.access.roles import UNIT_CONTACTS
from gis.roads import coverage as road_coverage
from gis.roads import cutting as road_cutting
from gis.roads import frontage as road_frontage
from gis.roads import sections as roads
from gis.spreadsheet import append_row
from layers.roads import road_sections_map
from layers.shell import render_html

router = APIRouter(tags=["road sections (责任路段)"])

On = Annotated[date | None, Query(description="the day to look at; default today")]


def contacts_visible(user: CurrentUser) -> bool:
    """Whether the caller may see the units' contact persons and phones (gis.access.roles.UNIT_CONTACTS):
    the sections, assignments and the roads map carry them empty for every other reader."""
    return user is not None and bool(user.roles & UNIT_CONTACTS)


ContactsVisible = Annotated[bool, Depends(contacts_visible)]
MAP_SECTION_LIMIT = 20_000  # a GeoJson layer stays usable in a browser up to a few 10k lines


class CutRequest(BaseModel):
    method: Literal["intersections", "max_length"]
    max_length_m: float | None = Field(default=None, ge=10, le=100_000,
                                       description="for method=max_length: the longest section, metres")
    roads: list[str] | None = Field(default=None, max_length=10_000, description="road refs; default all")


class SplitRequest(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


@router.get("/roads", summary="Roads (道路) with their length and number of live sections")
def list_roads(conn: Conn, limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
               offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    return roads.list_roads(conn, limit, offset)


@router.post("/roads/cut", summary="Cut roads into sections at intersections or at a maximum length")
def cut(request: CutRequest, conn: Conn,
        dry_run: Annotated[bool, Query(description="only say what the cut would make; save nothing")] = False,
        ) -> dict[str, Any]:
    """With ``dry_run`` the answer adds ``pieces`` (the new sections as GeoJSON), ``replaced`` (the codes
    of the sections they would replace) and ``fingerprint``; nothing is saved."""
    if not dry_run:
        return road_cutting.cut_roads(conn, request.method, request.max_length_m, request.roads).as_dict()
    preview = road_cutting.preview_cut(conn, request.method, request.max_length_m, request.roads)
    pieces = [{"type": "Feature", "geometry": p["geometry"],
               "properties": {k: v for k, v in p.items() if k not in ("geometry", "id")}}
              for p in preview.pieces]
    return preview.result.as_dict() | {"dry_run": True, "replaced": preview.replaced,
                                       "fingerprint": preview.fingerprint,
                                       "pieces": {"type": "FeatureCollection", "features": pieces}}


@router.get("/roads/coverage", summary="Assigned length per street, community and grid (覆盖率)")
def coverage(conn: Conn, on: On = None) -> dict[str, Any]:
    return road_coverage.coverage(conn, on)


COVERAGE_LEVELS = {"total": "全区", "street": "街道", "community": "社区", "grid": "网格"}
# (header, key of a gis.roads.coverage row, column width)
COVERAGE_COLUMNS = (("级别", "level", 8), ("编码", "key", 18), ("名称", "name", 18),
                    ("路段总长（米）", "total_m", 15), ("已分配长度（米）", "assigned_m", 16),
                    ("覆盖率（%）", "assigned_pct", 12), ("路段数", "sections", 10),
                    ("未分配路段数", "unassigned_sections", 14))
OUTSIDE = "（不在任何区域内）"


def area_names(conn: psycopg.Connection) -> dict[str, str]:
    """The names of the communities and grids by code, for the coverage rows (keyed by code)."""
    return dict(conn.execute("SELECT code, name FROM community UNION ALL SELECT code, name FROM grid")
                .fetchall())


def coverage_rows(report: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """The rows of a coverage report in reading order (the total, then streets, communities, grids),
    each with its level and name; a key of None is what lies outside every area of its level."""
    rows = [report["total"] | {"level": "total", "key": None, "name": COVERAGE_LEVELS["total"]}]
    for level in ("street", "community", "grid"):
        rows += [r | {"level": level, "name": OUTSIDE if r["key"] is None
                      else names.get(r["key"], r["key"]) if level != "street" else r["key"]}
                 for r in report[level]]
    return rows


def coverage_workbook(report: dict[str, Any], names: dict[str, str]) -> bytes:
    """The coverage report (覆盖率) as one sheet with Chinese headers, figures as numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "路段覆盖率"
    append_row(sheet, [f"责任路段覆盖率（日期：{report['on']}）"])
    sheet["A1"].font = Font(bold=True, size=13)
    append_row(sheet, [header for header, _, _ in COVERAGE_COLUMNS])
    for cell in sheet[2]:
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for row in coverage_rows(report, names):
        values = [row.get(key) for _, key, _ in COVERAGE_COLUMNS]
        values[0] = COVERAGE_LEVELS[row["level"]]
        append_row(sheet, values)
    for i, (_, _, width) in enumerate(COVERAGE_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get("/roads/coverage.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}},
            summary="The coverage report (覆盖率) as a workbook with Chinese headers")
def coverage_xlsx(conn: Conn, on: On = None) -> Response:
    """The rows of GET /roads/coverage (the same function), with the areas' names."""
    report = road_coverage.coverage(conn, on)
    return download(coverage_workbook(report, area_names(conn)), XLSX, f"路段覆盖率-{report['on']}.xlsx")


@router.get("/roads/unassigned", summary="Live sections nobody holds on the day, longest first")
def unassigned(conn: Conn, on: On = None, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
               offset: Annotated[int, Query(ge=0)] = 0) -> list[dict[str, Any]]:
    return road_coverage.unassigned_sections(conn, on, limit, offset)


@router.get("/roads/overlaps", summary="Pairs of sections covering the same stretch of road twice")
def overlaps(conn: Conn, tolerance_m: Annotated[float, Query(ge=0, le=1000)] = 1.0) -> list[dict[str, Any]]:
    return road_coverage.overlapping_sections(conn, tolerance_m)


@router.get("/roads/frontage", summary="Frontage (门前三包) of each shop on its nearest section")
def frontage(conn: Conn,
             category: Annotated[list[str] | None, Query(description="place categories; default all")] = None,
             section_id: Annotated[int | None, Query(ge=1, le=BIGINT)] = None,
             max_distance_m: Annotated[float, Query(gt=0, le=500)] = road_frontage.MAX_SHOP_DISTANCE_M,
             ) -> list[dict[str, Any]]:
    rows = road_frontage.frontage(conn, "place", category, section_id, max_distance_m)
    return road_frontage.frontage_by_section(rows)


@router.get("/sections", summary="Live sections as GeoJSON, filtered and paged")
def sections(
    conn: Conn, contacts: ContactsVisible, on: On = None,
    road: Annotated[str | None, Query(max_length=40, description="road ref")] = None,
    community: Annotated[str | None, Query(max_length=12)] = None,
    grid: Annotated[str | None, Query(max_length=15)] = None,
    street: Annotated[str | None, Query(max_length=100)] = None,
    unit_id: Annotated[int | None, Query(ge=1, le=BIGINT)] = None,
    assigned: Annotated[bool | None, Query(description="only (un)assigned sections")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return roads.sections_geojson(conn, on=on, road=road, community=community, grid=grid, street=street,
                                  unit_id=unit_id, assigned=assigned, limit=limit, offset=offset,
                                  contacts=contacts)


@router.get("/sections/{section_id}", summary="One section, live or retired")
def section(section_id: DbId, conn: Conn) -> dict[str, Any]:
    return roads.get_section(conn, section_id)


@router.post("/sections/{section_id}/split", status_code=201,
             summary="Split a section by hand at the point nearest to lon/lat (within 5 m)")
def split(section_id: DbId, point: SplitRequest, conn: Conn) -> dict[str, Any]:
    ids = road_cutting.split_section(conn, section_id, point.lon, point.lat)
    return {"sections": [roads.get_section(conn, i) for i in ids]}


@router.get("/maps/roads", response_class=HTMLResponse,
            summary="The map of sections coloured by unit, unassigned ones red and dashed")
def road_map(conn: Conn, settings: AppSettings, nonce: Nonce, contacts: ContactsVisible, on: On = None,
             community: Annotated[str | None, Query(max_length=12)] = None,
             inline: Annotated[bool, Query(description="scripts in the page, for a file opened offline")]
             = False) -> HTMLResponse:
    day = on or date.today()
    # The summary is the coverage row the API and the CLI give, not a sum over the drawn features;
    # for a community the drawn sections are the ones that row counts.
    if community is None:
        data = roads.sections_geojson(conn, on=day, limit=MAP_SECTION_LIMIT, contacts=contacts)
        totals = road_coverage.coverage_of(conn, day)
    else:
        totals, data = road_coverage.community_sections_geojson(conn, day, community, limit=MAP_SECTION_LIMIT,
                                                                contacts=contacts)
    page = road_sections_map(data, day, settings, totals=totals, community=community)
    return HTMLResponse(render_html(page, inline=inline, nonce=nonce))
