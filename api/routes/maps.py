"""The maps (一图) as HTML pages: a grid's, a community's, a list of both, and their local assets.

Leaflet, markercluster and jQuery are served from the xstatic packages under /static/<package>/,
so a map works on an intranet with no internet access.
"""

from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.deps import AppSettings, Conn
from gis.maps import grids as mapdata
from layers.assets import PACKAGES, STATIC_PREFIX
from layers.maps import community_map, grid_map
from layers.shell import render_html

router = APIRouter(tags=["maps"])
# A map carries the register (names, tags, masked numbers): no shared or browser cache keeps it.
PRIVATE = {"Cache-Control": "no-store"}
for _package, _folder in PACKAGES.items():
    router.mount(f"{STATIC_PREFIX}/{_package}", StaticFiles(directory=_folder), name=f"static-{_package}")


@router.get("/maps/grids/{code}", response_class=HTMLResponse, summary="A grid's map (网格图)")
def grid_map_page(code: str, conn: Conn, settings: AppSettings) -> HTMLResponse:
    """Boundary, households (clustered), tagged persons, legend and title; printable.
    A malformed code answers 422, an unknown one 404."""
    data = mapdata.grid_map_data(conn, code)
    return HTMLResponse(render_html(grid_map(data, settings)), headers=PRIVATE)


@router.get("/maps/communities/{code}", response_class=HTMLResponse, summary="A community's map")
def community_map_page(code: str, conn: Conn, settings: AppSettings) -> HTMLResponse:
    """All grids of the community, its households and the problems of its division (hatched red)."""
    data = mapdata.community_map_data(conn, code)
    return HTMLResponse(render_html(community_map(data, settings)), headers=PRIVATE)


@router.get("/maps/", response_class=HTMLResponse, summary="The list of maps")
def map_index_page(conn: Conn) -> HTMLResponse:
    """Every community with a link to its map and to the map of each of its grids."""
    items = []
    for community in mapdata.map_index(conn):
        grids = "".join(
            f'<li><a href="/maps/grids/{html.escape(g["code"])}">{html.escape(g["code"])} '
            f'{html.escape(g["name"])}</a> — 网格员 {html.escape("、".join(g["workers"]) or "—")}, '
            f'{g["households"]} 户 households</li>'
            for g in community["grids"]
        )
        street = f' ({html.escape(community["street_name"])})' if community["street_name"] else ""
        code = html.escape(community["code"])
        items.append(f'<li><a href="/maps/communities/{code}">{code} {html.escape(community["name"])}</a>'
                     f"{street}<ul>{grids}</ul></li>")
    body = "".join(items) or "<li>没有社区 no communities yet: import or load the demo data</li>"
    return HTMLResponse(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>gridmap 一图 maps</title>'
        "<style>body{font:15px/1.5 sans-serif;margin:2em}li{margin:.2em 0}</style></head>"
        f"<body><h1>一图 maps</h1><ul>{body}</ul></body></html>"
    )
