"""The maps (一图) as HTML pages: a grid's, a community's and the list of both.

Their scripts (Leaflet, markercluster, jQuery) are served by create_app under /static/<package>/, so
a map works on an intranet with no internet access.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import AppSettings, Conn
from api.headers import Nonce
from api.security import CurrentUser
from api.workbench.nav import allowed
from gis.access.accounts import Principal
from gis.maps import grids as mapdata
from gis.maps.campaign import campaign_layer_data
from gis.maps.reports import report_layer_data
from gis.maps.visits import visit_layer_data
from layers.index import map_index_html
from layers.maps import Overlays, community_map, grid_map
from layers.shell import render_html

router = APIRouter(tags=["maps"])
# A map carries the register (names, tags, masked numbers): no shared or browser cache keeps it.
PRIVATE = {"Cache-Control": "no-store"}
HOUSEHOLD_PAGE = "/households/"  # + id: the workbench's household page (api/workbench/households.py)


def household_pages(user: Principal | None) -> str | None:
    """The prefix of the household pages (/households/{id}) when the user may open them, for the
    popups' links. Every household a map draws is one the database lets her read (row-level
    security, the register roles' scopes), and those are the ones its page shows her."""
    return HOUSEHOLD_PAGE if user is not None and allowed(user, "/households/{household_id}") else None


def report_pages(user: Principal | None) -> str | None:
    """The prefix of the report pages (/reports/{id}) when the user may open them, for the popups."""
    return "/reports/" if user is not None and allowed(user, "/reports/{report_id}") else None


def overlays(conn: Conn, user: Principal | None, kind: str, code: str) -> Overlays:
    """The reports and campaign overlays of a map, read as the user (row-level security narrows
    them: a unit's account sees its own unit's reports and duties); a campaign layer her roles cannot
    read at all is left off. The map's own query has checked the code before these run."""
    roles = user.roles if user is not None else frozenset()
    return Overlays(reports=report_layer_data(conn, kind, code),
                    campaign=campaign_layer_data(conn, kind, code, roles), report_url=report_pages(user))


def wall_map(user: Principal | None, route: str, code: str) -> str | None:
    """The URL of a map's PDF wall map (api/routes/wallmap.py) when the user may download it."""
    return route.replace("{code}", code) if user is not None and allowed(user, route, code) else None


@router.get("/maps/grids/{code}", response_class=HTMLResponse, summary="A grid's map (网格图)")
def grid_map_page(code: str, conn: Conn, settings: AppSettings, nonce: Nonce,
                  user: CurrentUser) -> HTMLResponse:
    """Boundary, households (clustered, each popup linking its household page), tagged persons, the
    走访 overlay (households by days since their last visit, overdue key persons, today's route), the
    不文明行为 overlay and the campaign's (unmanaged compounds by helper, facilities, duty posts), each
    hidden until ticked, legend and title, over the roads and buildings when there are no tiles;
    printable. A malformed code answers 422, an unknown one 404."""
    data = mapdata.grid_map_data(conn, code, base=settings.basemap == "none")
    visits = visit_layer_data(conn, "grid", code)
    page = render_html(grid_map(data, settings, household_pages(user), visits,
                                wall_map(user, "/maps/grids/{code}/wall.pdf", code),
                                overlays(conn, user, "grid", code)), nonce=nonce)
    return HTMLResponse(page, headers=PRIVATE)


@router.get("/maps/communities/{code}", response_class=HTMLResponse, summary="A community's map")
def community_map_page(code: str, conn: Conn, settings: AppSettings, nonce: Nonce,
                       user: CurrentUser) -> HTMLResponse:
    """All grids of the community, its households and the problems of its division (hatched red).
    Figures of grids the user may not count are "—", as are the community's unless she holds it whole."""
    data = mapdata.community_map_data(conn, code, base=settings.basemap == "none")
    visits = visit_layer_data(conn, "community", code)
    page = render_html(community_map(data, settings, household_pages(user), visits,
                                     wall_map(user, "/maps/communities/{code}/wall.pdf", code),
                                     overlays(conn, user, "community", code)), nonce=nonce)
    return HTMLResponse(page, headers=PRIVATE)


@router.get("/maps/", response_class=HTMLResponse, summary="The list of maps")
def map_index_page(conn: Conn, user: CurrentUser) -> HTMLResponse:
    """Every community with its grids; each map linked only when the user may open it."""
    assert user is not None  # the route's policy lets only signed-in users in
    communities = mapdata.map_index(conn)
    for community in communities:
        community["link"] = allowed(user, "/maps/communities/{code}", community["code"])
        for grid in community["grids"]:
            grid["link"] = allowed(user, "/maps/grids/{code}", grid["code"])
    return HTMLResponse(map_index_html(communities), headers=PRIVATE)
