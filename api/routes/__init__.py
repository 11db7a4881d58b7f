"""One router per resource; ROUTERS is what create_app mounts."""

from fastapi import APIRouter

from api.routes import (
    assessment,
    assignments,
    auth,
    campaign_exports,
    communities,
    compounds,
    duties,
    exposure,
    facilities,
    grids,
    honours,
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
    report_maps,
    reports,
    roads,
    stats,
    streetmap,
    tiles,
    units,
    users,
    visit_admin,
    visits,
    volunteers,
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
    visits.router, visit_admin.router,
    # the reports map (/maps/reports) and the 曝光台's staff routes beside the reports
    report_maps.router, exposure.router, reports.router, open311.router,
    links.router,
    wallmap.router,  # the wall maps (一图上墙, issue 15)
    # the campaign's records (issue 16): duties and 门前三包, compounds, 阵地, volunteers, honour lists,
    # the quarterly assessment, and their files in and out
    duties.router, compounds.router, facilities.router, volunteers.router, honours.router,
    assessment.router, campaign_exports.router,
]
