"""The reports map (不文明行为地图) as an HTML page: the reports the user reads coloured by state, road
sections shaded by open reports per 100 m, of a street, a community, a grid or everything she reads.

Row-level security does the narrowing (a unit's account sees its unit's reports, a reporter her own);
the page's figures are those of the reports drawn.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import AppSettings, Conn
from api.headers import Nonce
from api.params import CommunityQuery, GridQuery
from api.security import CurrentUser
from api.workbench.nav import allowed
from gis.errors import InvalidInput
from gis.maps.reports import report_layer_data
from gis.reports.file import today
from layers.reports import report_map
from layers.shell import render_html

router = APIRouter(tags=["reports"])
PRIVATE = {"Cache-Control": "no-store"}  # positions of reports: no shared or browser cache keeps them
AREA_NAMES = {"street": "街道", "community": "社区", "grid": "网格"}
StreetQuery = Annotated[str | None, Query(pattern=r"^[1-9][0-9]{8}$", description="a street's 9-digit code")]


@router.get("/maps/reports", response_class=HTMLResponse, summary="The reports map (不文明行为地图)")
def reports_map_page(
    conn: Conn,
    settings: AppSettings,
    nonce: Nonce,
    user: CurrentUser,
    street: StreetQuery = None,
    community: CommunityQuery = None,
    grid: GridQuery = None,
) -> HTMLResponse:
    """Each report you read as a dot by state (待受理, 处置中, 已处置待核查, 已办结, 不予受理/重复), and the
    sections with open reports shaded by open reports per 100 m; of one area (at most one of street,
    community, grid) or all you read. Popups link the report's page when you may open it."""
    assert user is not None  # the route's policy lets only signed-in users in
    named = [(k, v) for k, v in (("street", street), ("community", community), ("grid", grid)) if v]
    if len(named) > 1:
        raise InvalidInput.one(named[1][0], "name at most one area: street, community or grid")
    kind, code = named[0] if named else (None, None)
    data = report_layer_data(conn, kind, code)
    counts = data.counts
    area = f"{AREA_NAMES[kind]} {code}" if kind else "全部可见范围"
    lines = [
        area,
        f"上报 {counts['reports']} 件 · 未办结 {counts['open']} 件 · 路段 {counts['sections']} 段",
        f"制图日期 {today().isoformat()}",
    ]
    link = "/reports/" if allowed(user, "/reports/{report_id}") else None
    page = render_html(report_map(data, settings, "不文明行为地图", lines, link), nonce=nonce)
    return HTMLResponse(page, headers=PRIVATE)
