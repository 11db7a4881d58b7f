"""The street map (街道一图): the page, and the households and places of a viewport as JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from api.deps import AppSettings, Conn
from api.headers import Nonce
from api.routes.maps import household_pages, overlays, wall_map
from api.security import CurrentUser
from api.workbench.nav import allowed
from gis.maps import street as streetmap
from layers.shell import render_html
from layers.street import street_map

router = APIRouter(tags=["maps"])
PRIVATE = {"Cache-Control": "no-store"}  # addresses of households: no shared or browser cache
BBox = Annotated[str, Query(description="minlon,minlat,maxlon,maxlat (EPSG:4326), at most 0.5° a side")]
Limit = Annotated[int, Query(ge=1, le=streetmap.MAX_ROWS)]


@router.get("/maps/street/{code}", response_class=HTMLResponse, summary="A street's map (街道网格图)")
def street_map_page(code: str, conn: Conn, settings: AppSettings, nonce: Nonce,
                    user: CurrentUser) -> HTMLResponse:
    """Every grid of the street (9-digit code) with its household count ("—" where the user may not
    count it); households and places load for the viewport when zoomed in, each household's popup
    linking its page; the 不文明行为 and campaign overlays (compounds, facilities, duty posts) hidden
    until ticked. A malformed code answers 422, a street with no communities 404."""
    assert user is not None  # the route's policy lets only signed-in users in
    overview = streetmap.street_overview(conn, code, base=settings.basemap == "none")
    base = f"/maps/street/{code}"
    extra = overlays(conn, user, "street", code)
    m = street_map(overview, f"{base}/households", f"{base}/places", settings,
                   grid_maps=lambda grid: allowed(user, "/maps/grids/{code}", grid),
                   household_url=household_pages(user),
                   wall_map=wall_map(user, "/maps/street/{code}/sections.pdf", code),
                   reports=extra.reports, campaign=extra.campaign, report_url=extra.report_url)
    return HTMLResponse(render_html(m, nonce=nonce), headers=PRIVATE)


@router.get("/maps/street/{code}/households", summary="Households of a viewport, compact")
def street_households(code: str, bbox: BBox, conn: Conn, limit: Limit = streetmap.MAX_ROWS) -> Response:
    """{truncated, rows: [[id, lat, lon, placement 0/1/2, address, grid, persons], ...]}."""
    streetmap.check_street_code(code)
    box = streetmap.parse_bbox(bbox)
    return Response(streetmap.households_in_box(conn, box, limit), media_type="application/json",
                    headers=PRIVATE)


@router.get("/maps/street/{code}/places", summary="Places (经营场所) of a viewport, compact")
def street_places(code: str, bbox: BBox, conn: Conn, limit: Limit = streetmap.MAX_ROWS) -> Response:
    """{truncated, rows: [[id, lat, lon, category index, name, address], ...]}."""
    streetmap.check_street_code(code)
    box = streetmap.parse_bbox(bbox)
    return Response(streetmap.places_in_box(conn, box, limit), media_type="application/json",
                    headers=PRIVATE)
