"""The maps (一图) as HTML pages: a grid's, a community's and the list of both.

Their scripts (Leaflet, markercluster, jQuery) are served by create_app under /static/<package>/, so
a map works on an intranet with no internet access.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import AppSettings, Conn
from api.headers import Nonce
from gis.maps import grids as mapdata
from layers.index import map_index_html
from layers.maps import community_map, grid_map
from layers.shell import render_html

router = APIRouter(tags=["maps"])
# A map carries the register (names, tags, masked numbers): no shared or browser cache keeps it.
PRIVATE = {"Cache-Control": "no-store"}


@router.get("/maps/grids/{code}", response_class=HTMLResponse, summary="A grid's map (网格图)")
def grid_map_page(code: str, conn: Conn, settings: AppSettings, nonce: Nonce) -> HTMLResponse:
    """Boundary, households (clustered), tagged persons, legend and title; printable.
    A malformed code answers 422, an unknown one 404."""
    data = mapdata.grid_map_data(conn, code)
    return HTMLResponse(render_html(grid_map(data, settings), nonce=nonce), headers=PRIVATE)


@router.get("/maps/communities/{code}", response_class=HTMLResponse, summary="A community's map")
def community_map_page(code: str, conn: Conn, settings: AppSettings, nonce: Nonce) -> HTMLResponse:
    """All grids of the community, its households and the problems of its division (hatched red)."""
    data = mapdata.community_map_data(conn, code)
    return HTMLResponse(render_html(community_map(data, settings), nonce=nonce), headers=PRIVATE)


@router.get("/maps/", response_class=HTMLResponse, summary="The list of maps")
def map_index_page(conn: Conn) -> HTMLResponse:
    """Every community with a link to its map and to the map of each of its grids."""
    return HTMLResponse(map_index_html(mapdata.map_index(conn)), headers=PRIVATE)
