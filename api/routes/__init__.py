"""One router per resource; ROUTERS is what create_app mounts."""

from fastapi import APIRouter

from api.routes import (
    assignments,
    auth,
    campaign_exports,
    communities,
    grids,
    households,
    imports,
    inspections,
    licences,
    links,
    maps,
    moves,
    ogc,
    open311,
    perimeter,
    persons,
    places,
    reports,
    roads,
    stats,
    streetmap,
    tiles,
    units,
    users,
    visits,
    wallmap,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    imports.router, communities.router, grids.router, households.router, persons.router, stats.router,
    moves.router,
    maps.router, streetmap.router,
    roads.router, units.router, assignments.router,
    ogc.router, tiles.router,
    perimeter.router, licences.router, inspections.router, places.router,
    users.router,
    visits.router,
    reports.router, open311.router,
    links.router,
    wallmap.router,  # the wall maps (一图上墙, issue 15)
    campaign_exports.router,  # the campaign's records in and out (issue 16)
]
