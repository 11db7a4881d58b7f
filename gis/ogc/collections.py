"""OGC API - Features collections as data: each one's relation, id and geometry columns and properties.

Each collection is a fixed definition: the relation it reads (a table, or a fixed subquery for
collections that join), the id and geometry columns and the properties with their types. Only these
definitions ever become SQL identifiers (gis/ogc/items.py binds every value from a request).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import psycopg
from psycopg import sql

from gis.access.roles import Roles, may_read_layer
from gis.errors import NotFound

PropertyType = Literal["string", "integer", "number", "boolean", "date"]


@dataclass(frozen=True)
class Property:
    """A feature property: its name in the API, the source column, its JSON type."""

    name: str
    type: PropertyType = "string"
    title: str = ""
    column: str | None = None

    @property
    def source(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class Collection:
    """One OGC collection. ``relation`` is a table name, or a fixed subquery (our own constant SQL)
    for collections that join several tables; ``tables`` are those that must exist to serve it."""

    id: str
    title: str
    description: str
    tables: tuple[str, ...]
    geometry_type: str
    properties: tuple[Property, ...]
    id_column: str = "id"
    id_type: PropertyType = "integer"
    geometry_column: str = "geom"
    relation: str | None = None  # None: the first of ``tables``
    queryables: tuple[str, ...] = field(default=())  # empty: every property
    # The property the items' ``datetime`` parameter filters on and the temporal extent describes
    # (GDAL turns a comparison of any date property in -where into ``datetime=`` and trusts the
    # answer, so a collection offers at most one date property: its temporal one).
    temporal: str | None = None

    def property(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)

    def queryable_properties(self) -> tuple[Property, ...]:
        if not self.queryables:
            return self.properties
        return tuple(p for p in self.properties if p.name in self.queryables)

    def from_clause(self) -> sql.Composable:
        if self.relation is None:
            return sql.SQL("{} AS t").format(sql.Identifier(self.tables[0]))
        return sql.SQL("({}) AS t").format(sql.SQL(self.relation))  # type: ignore[arg-type]


_ROAD_SECTIONS = """
SELECT s.id, s.code, s.road_name, s.from_desc, s.to_desc, round(s.length_m::numeric, 1)::float8 AS length_m,
       s.street_name, s.community_code, s.grid_code, u.name AS unit_name, s.geom
FROM road_section s
LEFT JOIN road_section_assignment a ON a.section_id = s.id AND a.valid @> current_date
LEFT JOIN responsible_unit u ON u.id = a.unit_id
WHERE s.retired_on IS NULL
"""

# Violations that are not closed, drawn at the place (门口) that violates.
_VIOLATIONS = """
SELECT v.id, v.place_id, p.name AS place_name, p.category, v.school_id, sc.name AS school_name,
       round(v.distance_m::numeric, 1)::float8 AS distance_m, v.reason, v.status, v.found_on, p.geom
FROM violation v
JOIN place p ON p.id = v.place_id
LEFT JOIN school sc ON sc.id = v.school_id
WHERE v.status <> 'closed'
"""

# Unmanaged compounds (无人管理小区) with today's lead helper unit (帮扶单位): at most one helper is valid
# on a day (the exclusion constraint of migration 025), so the join keeps one row per compound. Helped
# is the helper row's presence, not the unit's name (which a reader always sees: units are no secret).
# The reader's row-level security decides the compounds (migration 030: her area's, a unit's own).
_COMPOUNDS = """
SELECT k.id, k.ref, k.name, k.management, k.households, k.area_code AS community_code,
       u.name AS helper_unit, h.id IS NOT NULL AS helped, k.geom
FROM compound k
LEFT JOIN compound_helper h ON h.compound_id = k.id AND h.valid @> current_date
LEFT JOIN responsible_unit u ON u.id = h.unit_id
"""

# Facilities (阵地) with their owner's name: the community (its committee) or the responsible unit,
# exactly one of them (facility_one_owner). Closed ones stay (active = false): filter on active.
_FACILITIES = """
SELECT f.id, f.kind, k.name_zh AS kind_name, f.name, f.address, coalesce(c.name, u.name) AS owner,
       f.community_code, f.active, f.geom
FROM facility f
JOIN facility_kind k ON k.code = f.kind
LEFT JOIN community c ON c.code = f.owner_community
LEFT JOIN responsible_unit u ON u.id = f.owner_unit
"""

P = Property
COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        "communities", "Communities (社区)", "Communities with their boundaries.", ("community",),
        "MultiPolygon", (P("code"), P("name"), P("street_name"), P("ref")), id_column="code",
        id_type="string",
    ),
    Collection(
        "grids", "Grids (网格)", "The grid division: each grid belongs to one community.", ("grid",),
        "MultiPolygon", (P("code"), P("community_code"), P("name"), P("ref")), id_column="code",
        id_type="string",
    ),
    Collection(
        "buildings", "Buildings (楼栋)", "Buildings and the grid they stand in.", ("building",), "Geometry",
        (P("id", "integer"), P("ref"), P("name"), P("floors", "integer"), P("grid_code")),
    ),
    Collection(
        "schools", "Schools (学校)", "Campus boundaries, or points where none is known.", ("school",),
        "Geometry", (P("id", "integer"), P("ref"), P("name"), P("level")),
    ),
    Collection(
        "places", "Places (场所)", "Businesses and venues, located at their entrance.", ("place",), "Point",
        (P("id", "integer"), P("ref"), P("name"), P("category"), P("address")),
    ),
    Collection(
        "road_sections", "Road sections (责任路段)", "Live road sections with today's responsible unit.",
        ("road_section", "road_section_assignment", "responsible_unit"), "LineString",
        (P("id", "integer"), P("code"), P("road_name"), P("from_desc"), P("to_desc"),
         P("length_m", "number"), P("street_name"), P("community_code"), P("grid_code"), P("unit_name")),
        relation=_ROAD_SECTIONS,
    ),
    Collection(
        "perimeter_violations", "Perimeter violations (校园周边违规)",
        "Open violations of the school perimeter rules, at the violating place.",
        ("violation", "place", "school"), "Point",
        (P("id", "integer"), P("place_id", "integer"), P("place_name"), P("category"),
         P("school_id", "integer"), P("school_name"), P("distance_m", "number"), P("reason"), P("status"),
         P("found_on", "date")),
        relation=_VIOLATIONS, temporal="found_on",
    ),
    # The register (一册): personal data, offered to the register roles only (gis/access/roles.py);
    # the properties hold no names, ID numbers or phones.
    Collection(
        "households", "Households (住户)", "Households of the register (scoped to the caller's grids).",
        ("household",), "Point", (P("id", "integer"), P("grid_code"), P("placement")),
        # placement is an enum in the database: as text, a filter or sort on it compares strings.
        relation="SELECT id, grid_code, placement::text AS placement, geom FROM household",
    ),
    # The campaign's records (issue 16): no date property, so GDAL's -where never turns into datetime=.
    Collection(
        "compounds", "Unmanaged compounds (无人管理小区)",
        "Unmanaged compounds with their management and today's lead helper unit (帮扶单位).",
        ("compound", "compound_helper", "responsible_unit"), "MultiPolygon",
        (P("id", "integer"), P("ref"), P("name"), P("management"), P("households", "integer"),
         P("community_code"), P("helper_unit"), P("helped", "boolean")),
        relation=_COMPOUNDS,
    ),
    Collection(
        "facilities", "Facilities (阵地)",
        "道德讲堂, volunteer stations, civic schools, notice boards ... with their owner; closed ones too.",
        ("facility", "facility_kind", "community", "responsible_unit"), "Point",
        (P("id", "integer"), P("kind"), P("kind_name"), P("name"), P("address"), P("owner"),
         P("community_code"), P("active", "boolean")),
        relation=_FACILITIES,
    ),
)


def collection_definition(collection_id: str) -> Collection:
    found = next((c for c in COLLECTIONS if c.id == collection_id), None)
    if found is None:
        raise NotFound("collection", collection_id)
    return found


def existing_tables(conn: psycopg.Connection, tables: set[str]) -> set[str]:
    """Which of these tables exist: the perimeter and roads migrations may not have run yet."""
    rows = conn.execute("SELECT t FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NOT NULL",
                        [sorted(tables)]).fetchall()
    return {r[0] for r in rows}


def visible_collections(conn: psycopg.Connection, roles: Roles = frozenset()) -> list[Collection]:
    """The collections one of these roles may read (gis/access/roles.py) whose tables exist.

    The rows of a personal collection (households) are then narrowed to the user's grids by the
    database's row-level security, which the request's connection runs under once it acts as that user.
    """
    offered = [c for c in COLLECTIONS if may_read_layer(roles, c.id)]
    present = existing_tables(conn, {t for c in offered for t in c.tables})
    return [c for c in offered if set(c.tables) <= present]
