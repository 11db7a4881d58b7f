"""The live figures a scoring item may be filled from (系统取数): what each measures, and the JSON
endpoint that answers the same figure — a filled value must equal it (tests/assessment).

They are computed by one statement (figures.sql) for every community of an area at once, over the
other capabilities' tables, as the caller: this package reads their tables in SQL and never imports
their Python (import-linter keeps the capabilities independent), so each column there follows its
endpoint's definition, named here. Road coverage and the perimeter check are too large to restate:
their own statements (gis/roads/coverage.sql, gis/perimeter/check.sql) are read as text and run inside
figures.sql unchanged, so those two figures are their endpoints' answers by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.areas import by_geometry
from gis.assessment.quarters import Quarter
from gis.local_tm import local_tm_srid
from gis.sql_files import sql_text

LOCAL_TZ = "Asia/Shanghai"  # the campaign's days are days in China
# gis.roads.coverage.BORDER_SNAP_DEG (about 1 cm), which GET /roads/coverage binds: a road drawn on a
# border is in the polygons either side of it
ROAD_BORDER_SNAP_DEG = 1e-7


@dataclass(frozen=True)
class Figure:
    code: str
    name_zh: str
    unit_zh: str
    # the endpoint answering the same figure ({community}, {start}, {on}, {year} filled in) and where
    # in its answer the figure is (gis/assessment/figures.py's `read_endpoint`)
    endpoint: str
    pick: str


FIGURES: dict[str, Figure] = {f.code: f for f in (
    Figure("compounds_helped", "有帮扶单位的无人管理小区", "个",
           "/compounds/coverage?level=community&on={on}", "rows[code={community}].helped"),
    Figure("compounds_helped_share", "无人管理小区帮扶覆盖率", "",
           "/compounds/coverage?level=community&on={on}", "rows[code={community}].share"),
    Figure("moral_lecture_halls", "道德讲堂", "个",
           "/facilities?area={community}&kind=moral_lecture_hall&active=true", "total"),
    Figure("volunteer_stations", "志愿服务站", "个",
           "/facilities?area={community}&kind=volunteer_station&active=true", "total"),
    Figure("volunteer_hours", "社区志愿服务队累计服务时长", "小时",
           "/volunteers/teams?area={community}", "sum(hours) of [scope={community}]"),
    Figure("active_volunteers", "社区志愿服务队在册志愿者", "人",
           "/volunteers/teams?area={community}", "sum(active_members) of [scope={community}]"),
    Figure("honour_participation_share", "家庭评选参与率", "",
           "/honours/participation?area={community}&year={year}", "[community_code={community}].share"),
    Figure("households_visited", "本季度走访户数", "户",
           "/visits/figures?community={community}&from={start}&to={on}", "total.households_visited"),
    Figure("visits", "本季度走访次数", "次",
           "/visits/figures?community={community}&from={start}&to={on}", "total.visits"),
    Figure("reports_filed", "本季度上报不文明行为", "件",
           "/reports?community={community}&from={start}&to={on}", "total"),
    Figure("reports_closed", "本季度办结不文明行为", "件",
           "/reports?community={community}&state=closed&from={start}&to={on}", "total"),
    Figure("reports_overdue", "超期未办结不文明行为", "件",
           "/reports?community={community}&overdue=true", "total"),
    # the community's row of the coverage report: the share (%) of its road length a unit holds
    Figure("road_coverage_pct", "责任路段认领覆盖率", "%",
           "/roads/coverage?on={on}", "community[key={community}].assigned_pct"),
    # the places breaking a perimeter rule on the day (the live check: a place stays listed until it
    # is rectified, closed down or licensed); the recorded violations' list has no community filter
    Figure("perimeter_violations", "校园周边未整改违规场所", "处",
           "/perimeter/violations?community={community}&date={on}", "len(violations)"),
)}


def today() -> date:
    return datetime.now(ZoneInfo(LOCAL_TZ)).date()


def measured_on(quarter: Quarter, on: date | None = None) -> date:
    """The day a quarter's figures are read for: its last day, or today while it runs."""
    return min(quarter.end, on or today())


def endpoint_of(code: str, community: str, quarter: Quarter, on: date) -> str:
    """The endpoint's address for one community and quarter."""
    return FIGURES[code].endpoint.format(community=community, start=quarter.start, on=on, year=quarter.year)


def _number(value: Any) -> int | float | None:
    """JSON's number, as the endpoints answer it (a Decimal as a float)."""
    if value is None:
        return None
    if isinstance(value, Decimal):  # as FastAPI encodes it: an int when written without decimals
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    return value  # type: ignore[no-any-return]


def statement() -> sql.Composed:
    """figures.sql with the roads' coverage and the perimeter check composed in, as their endpoints
    run them."""
    check = sql.SQL(sql_text("gis.perimeter", "check").strip()).format(
        place_in_area=sql.SQL(by_geometry("p.geom")))  # type: ignore[arg-type]
    return sql.SQL(sql_text("gis.assessment", "figures")).format(  # type: ignore[arg-type]
        road_coverage=sql.SQL(sql_text("gis.roads", "coverage").strip()), perimeter_check=check)


def _check_srid(conn: psycopg.Connection, area: str) -> int:
    """The local TM the perimeter check measures in: centred, as GET /perimeter/violations?community=…
    centres it, on the community (for an area: its communities' centre; the centre is rounded to 0.25
    degrees, so the communities of a street share it)."""
    row = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(ST_Centroid(geom))) c"
                       " FROM community WHERE starts_with(code, %s)) x", [area]).fetchone()
    lon, lat = (float(row[0]), float(row[1])) if row and row[0] is not None else (0.0, 0.0)
    return local_tm_srid(conn, lon, lat)


def params(conn: psycopg.Connection, area: str, quarter: Quarter, on: date | None = None) -> dict[str, Any]:
    """The parameters of figures.sql for the communities under ``area`` in the quarter."""
    day = measured_on(quarter, on)
    return {"area": area, "community": area if len(area) == 12 else None, "start": quarter.start,
            "on": day, "today": on or today(), "year": quarter.year, "snap": ROAD_BORDER_SNAP_DEG,
            "day": day, "srid": _check_srid(conn, area), "school": None, "grid": None, "place": None}


def compounds_helped_share(helped: int, compounds: int) -> float | None:
    """As GET /compounds/coverage computes it (Python's round of the float share)."""
    return round(helped / compounds, 4) if compounds else None


def area_figures(conn: psycopg.Connection, area: str, quarter: Quarter,
                 on: date | None = None) -> dict[str, dict[str, int | float | None]]:
    """Every figure of FIGURES for each community under ``area`` in the quarter, as the caller sees
    them: {community code: {figure code: value}}, one statement for all of them."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(statement(), params(conn, area, quarter, on)).fetchall()
    out = {}
    for row in rows:
        row["compounds_helped_share"] = compounds_helped_share(row["compounds_helped"], row.pop("compounds"))
        out[row["code"]] = {code: _number(row[code]) for code in FIGURES}
    return out


def live_figures(conn: psycopg.Connection, community: str, quarter: Quarter,
                 on: date | None = None) -> dict[str, int | float | None]:
    """Every figure of FIGURES for the community in the quarter, as the caller sees them, by code."""
    found = area_figures(conn, community, quarter, on).get(community)
    return found if found is not None else dict.fromkeys(FIGURES)
