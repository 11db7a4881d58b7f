"""The roles (角色), the groups of them that share a right, and which roles may read each map layer.

Roles: admin (管理员), grid_worker (网格员), inspector (督查), planner (创建办/城管), viewer (查看: maps
and statistics, no personal data), unit (责任单位: the reports routed to the unit its account acts for,
migration 021) and reporter (志愿者/文明劝导员: files reports, follows their own). api/policy.py decides
routes from these groups; gis/ogc offers collections from LAYER_READERS; the database keeps the same
role codes in its app_role table.
"""

from __future__ import annotations

ADMIN, WORKER, INSPECTOR, PLANNER, VIEWER = "admin", "grid_worker", "inspector", "planner", "viewer"
UNIT, REPORTER = "unit", "reporter"
# the order users are shown them
ROLES: tuple[str, ...] = (ADMIN, WORKER, INSPECTOR, PLANNER, VIEWER, UNIT, REPORTER)
Roles = frozenset[str]

PUBLIC: Roles = frozenset()  # no token needed
EVERYONE: Roles = frozenset(ROLES)  # any signed-in user
ADMINS: Roles = frozenset({ADMIN})
REGISTER: Roles = frozenset({ADMIN, WORKER})  # personal data (一册): names, ID numbers, key persons
UNMASK: Roles = REGISTER  # may ask for full ID numbers and phones (?unmasked=true), audited
# Statistics and the worker directory. A viewer's scope yields counts only (the database's
# register_grid_counts()), never rows: the register's row policies count the register roles' scopes
# alone, so a viewer grant held beside a grid worker's adds no rows to hers (migration 011).
COUNTS: Roles = frozenset({ADMIN, WORKER, VIEWER})
PERIMETER_READ: Roles = frozenset({ADMIN, INSPECTOR, VIEWER})
PERIMETER_WRITE: Roles = frozenset({ADMIN, INSPECTOR})
ROADS_READ: Roles = frozenset({ADMIN, PLANNER, VIEWER})
ROADS_WRITE: Roles = frozenset({ADMIN, PLANNER})
# A responsible unit's contact person and phone: for those who assign sections. Road data other roles
# read (sections, assignments, the roads map) carries them empty.
UNIT_CONTACTS: Roles = ROADS_WRITE

# Who may read each layer served to GIS clients: the OGC collections and the vector-tile layers of
# the same name. A layer missing here is offered to nobody.
LAYER_READERS: dict[str, Roles] = {
    "communities": EVERYONE, "grids": EVERYONE, "buildings": EVERYONE,
    "schools": PERIMETER_READ, "places": PERIMETER_READ, "perimeter_violations": PERIMETER_READ,
    "road_sections": ROADS_READ,
    "households": REGISTER,  # personal: rows further narrowed to the reader's grids by row-level security
    # the campaign's records (issue 16): compounds to the roles of GET /compounds, their rows narrowed to
    # the reader's area by row-level security (migration 030); facilities are public places, read by all
    "compounds": ROADS_READ | {UNIT}, "facilities": EVERYONE,
}


def may_read_layer(roles: Roles, layer: str) -> bool:
    """Whether one of these roles may read the layer (an OGC collection or a tile layer)."""
    return bool(LAYER_READERS.get(layer, PUBLIC) & roles)
