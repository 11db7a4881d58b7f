"""The campaign's records in and out (issue 16): facilities and compounds imported through the layer
importer (aliases of POST /imports/facilities and /imports/compounds, the compounds' answer naming the
overlaps the new ones make); facilities, the duty roster, 门前三包, compounds, volunteer hours and a
published honour list exported as XLSX (Chinese headers), CSV (UTF-8 with a BOM) or, where they have a
place, GeoJSON.

Each export reads with the same reader as the JSON route it mirrors, on the request's connection, so
row-level security decides its rows as it decides the route's; api/policy.py gives it the route's roles.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, UploadFile
from fastapi.responses import Response

from api.deps import AppSettings, Conn
from api.params import BIGINT, DbId
from api.routes.imports import upload
from api.security import CurrentUser
from gis.access.roles import REGISTER
from gis.compounds import exchange as compound_exchange
from gis.duties import duties
from gis.duties import exchange as duty_exchange
from gis.facilities import exchange as facility_exchange
from gis.honours import exchange as honour_exchange
from gis.interop.record_files import MEDIA_TYPES, RecordFormat, RecordTable, record_file, record_table
from gis.volunteers import exchange as volunteer_exchange

router = APIRouter(tags=["import and export (导入导出)"])
# What a download answers, declared so an OpenAPI client (and schemathesis) knows the files
DOWNLOAD: dict[int | str, dict[str, Any]] = {200: {"content": {t: {} for t in MEDIA_TYPES.values()}}}

TableFormat = Literal["xlsx", "csv"]
Prefix = Annotated[str, Query(pattern=r"^([1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?)?$",
                              description="a district, street or community code ('' = all)")]
From = Annotated[date | None, Query(alias="from", description="first day (default: 30 days before `to`)")]
To = Annotated[date | None, Query(alias="to", description="last day, included (default: yesterday)")]
UnitQuery = Annotated[int | None, Query(ge=1, le=BIGINT, description="only this unit's")]
CompoundArea = Annotated[str | None, Query(pattern=r"^[1-9][0-9]{8}([0-9]{3}([0-9]{3})?)?$",
                                          description="a street, community or grid code")]
On = Annotated[date | None, Query(description="the day judged (default: today)")]
CrsQuery = Annotated[str | None, Query(description="EPSG:4326, EPSG:4490, gcj02; default: the file's")]


def _download(table: RecordTable, fmt: RecordFormat, suffix: str = "") -> Response:
    name = f"{table.name}{suffix}.{fmt}"
    return Response(record_file(table, fmt), media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


Encoding = Annotated[str | None, Form(description="text encoding of a CSV or a Shapefile's .dbf, e.g. gbk; "
                                                  "default: detected")]
Sheet = Annotated[str | None, Form(description="XLSX sheet, by name or 1-based number")]
HeaderRow = Annotated[str | None, Form(description="header row N, or N-M for a two-row header")]


@router.post("/imports/campaign/facilities", summary="Import facilities (阵地), all rows or none")
def import_facilities(file: UploadFile, conn: Conn, settings: AppSettings, crs: CrsQuery = None,
                      encoding: Encoding = None, sheet: Sheet = None, header_row: HeaderRow = None
                      ) -> dict[str, Any]:
    """Columns: 类型 (kind), 名称 (name), 地址, 所属社区编码 or 责任单位 (the owner), 所在社区编码 (checked
    against the point), 在用; points as 经度/纬度 (EPSG:4326, 4490 or GCJ-02) or a GeoJSON/GeoPackage.
    The same import as POST /imports/facilities (kept for the clients that know this path)."""
    return upload(facility_exchange.FACILITIES.name, file, conn, settings, crs=crs, encoding=encoding,
                  sheet=sheet, header_row=header_row)


@router.post("/imports/campaign/compounds", summary="Import unmanaged compounds (无人管理小区), all or none")
def import_compounds(file: UploadFile, conn: Conn, settings: AppSettings, crs: CrsQuery = None,
                     encoding: Encoding = None, sheet: Sheet = None, header_row: HeaderRow = None
                     ) -> dict[str, Any]:
    """Polygons from a Shapefile (ZIP), GeoJSON or GeoPackage, or a table with a wkt column; columns 编号
    (ref), 名称 (name), 管理方式, 户数, 备注. An invalid polygon is refused naming its row. The answer
    names the overlaps the new compounds make (like the division check); they are stored all the same.
    POST /imports/compounds makes the same import without the overlaps (GET /compounds/overlaps has them)."""
    report = upload(compound_exchange.COMPOUNDS.name, file, conn, settings, crs=crs, encoding=encoding,
                    sheet=sheet, header_row=header_row)
    return {**report, "overlaps": compound_exchange.imported_overlaps(conn)}


@router.get("/exports/campaign/facilities", response_class=Response, responses=DOWNLOAD,
            summary="Facilities of an area with the target check (阵地台账)")
def export_facilities(conn: Conn, area: Prefix = "", format: RecordFormat = "xlsx") -> Response:
    """Each facility with its community's count of that kind against the target; an XLSX adds the sheet
    of communities failing a target (GET /facilities/check)."""
    rows = facility_exchange.export_rows(conn, area)
    extra = {"未达标社区": (facility_exchange.failure_rows(conn, area), facility_exchange.FAILURE_COLUMNS)}
    table = record_table("facilities", "阵地", rows, facility_exchange.COLUMNS, geom="geom", extra=extra)
    return _download(table, format, f"-{area}" if area else "")


@router.get("/exports/campaign/roster", response_class=Response, responses=DOWNLOAD,
            summary="The duty roster of some days, done or missed (值守排班表)")
def export_roster(conn: Conn, start: From = None, end: To = None, unit_id: UnitQuery = None,
                  format: TableFormat = "xlsx") -> Response:
    first, last = duties.default_period(end)
    rows = duty_exchange.roster_rows(conn, start or first, last, unit_id)
    table = record_table("roster", "值守排班表", rows, duty_exchange.ROSTER_COLUMNS)
    return _download(table, format, f"-{start or first}-{last}")


@router.get("/exports/campaign/frontage", response_class=Response, responses=DOWNLOAD,
            summary="门前三包 agreements in force with their last check")
def export_frontage(conn: Conn, on: On = None, unit_id: UnitQuery = None, format: RecordFormat = "xlsx"
                    ) -> Response:
    rows = duty_exchange.frontage_rows(conn, on, unit_id)
    table = record_table("frontage", "门前三包", rows, duty_exchange.FRONTAGE_COLUMNS, geom="geom")
    return _download(table, format)


@router.get("/exports/campaign/compounds", response_class=Response, responses=DOWNLOAD,
            summary="Compounds, their helper and tasks (无人管理小区)")
def export_compounds(conn: Conn, area: CompoundArea = None, on: On = None, format: RecordFormat = "xlsx"
                     ) -> Response:
    rows = compound_exchange.export_rows(conn, area, on)
    table = record_table("compounds", "无人管理小区", rows, compound_exchange.COLUMNS, geom="geom")
    return _download(table, format, f"-{area}" if area else "")


@router.get("/exports/campaign/volunteer-hours", response_class=Response, responses=DOWNLOAD,
            summary="Volunteer hours per member per team (志愿服务时长)")
def export_volunteer_hours(conn: Conn, area: Prefix = "", start: From = None, end: To = None,
                           format: TableFormat = "xlsx") -> Response:
    """The members the reader may read (residents under the register's rules, outsiders), with the
    activities and hours in the period (default: the 30 days up to yesterday)."""
    first, last = duties.default_period(end)
    rows = volunteer_exchange.hours_rows(conn, area, start or first, last)
    table = record_table("volunteer-hours", "志愿服务时长", rows, volunteer_exchange.COLUMNS)
    return _download(table, format, f"-{start or first}-{last}")


@router.get("/exports/campaign/honours/{honour_list_id}", response_class=Response, responses=DOWNLOAD,
            summary="A published honour or red/black list")
def export_honour_list(conn: Conn, user: CurrentUser, honour_list_id: DbId,
                       format: TableFormat = "xlsx") -> Response:
    """The full list (names, reasons, evidence) for the register's roles who see it, entries about
    households and persons under the register's rules; for everyone else the public version (张**家, the
    building), which exists only when an admin approved it as public."""
    register = user is not None and bool(user.roles & REGISTER)
    full = register and honour_exchange.sees_list(conn, honour_list_id)
    if full:
        head, rows = honour_exchange.full_rows(conn, honour_list_id)
        columns = honour_exchange.FULL_COLUMNS
    else:
        head, rows = honour_exchange.public_rows(conn, honour_list_id)
        columns = honour_exchange.PUBLIC_COLUMNS
    sheet = f"{head['kind_zh']}{head['version']}版" + ("" if full else "（公示）")
    table = record_table("honour-list", sheet, rows, columns)
    return _download(table, format, f"-{honour_list_id}-v{head['version']}" + ("" if full else "-public"))
