"""The compound pages (无人管理小区): the coverage by helper units per street, community or grid, each
figure linking the list it counts (the same placed rows as GET /compounds?area=…&helped=…), and that
list with each compound's management kind and current helper."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import Conn
from api.routes.compounds import AREA
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.compounds import compounds, coverage

LEVELS = {"street": N_("街道"), "community": N_("社区"), "grid": N_("网格")}

# Both pages share their paths with the JSON API: a browser's request gets the page.
page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)


@page_router.get("/compounds/coverage", response_class=HTMLResponse)
def coverage_page(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    lang: Lang,
    level: Literal["street", "community", "grid"] = "community",
    on: Annotated[date | None, Query()] = None,
) -> HTMLResponse:
    assert user is not None
    figures = coverage.coverage(conn, level, on)
    return page(
        request,
        user,
        lang,
        "compounds_coverage.html",
        N_("无人管理小区帮扶覆盖"),
        f=figures,
        levels=LEVELS,
        lists=allowed(user, "/compounds"),
    )


@page_router.get("/compounds", response_class=HTMLResponse)
def list_page(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    lang: Lang,
    area: Annotated[str | None, Query(pattern=AREA)] = None,
    helped: bool | None = None,
    on: Annotated[date | None, Query()] = None,
) -> HTMLResponse:
    assert user is not None
    rows = compounds.list_compounds(conn, area, helped, None, on)
    return page(
        request,
        user,
        lang,
        "compounds.html",
        N_("无人管理小区"),
        rows=rows,
        area=area,
        helped=helped,
        on=on or compounds.today(),
        coverage=allowed(user, "/compounds/coverage"),
    )
