"""One router per resource; ROUTERS is what create_app mounts."""

from fastapi import APIRouter

from api.routes import (
    assignments,
    auth,
    communities,
    grids,
    households,
    imports,
    inspections,
    licences,
    maps,
    moves,
    ogc,
    perimeter,
    persons,
    places,
    roads,
    stats,
    streetmap,
    tiles,
    units,
    users,
    visits,
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
]
