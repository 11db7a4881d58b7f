"""The street map's data (街道一图): a street's grids and household counts at once, details by viewport.

A whole street (2,000 grids, 100,000 households, 300,000 places) cannot ride in one page. The page
carries the grid boundaries, simplified in SQL and rounded to 6 decimals (~0.1 m), with each grid's
household count at a point inside it; households and places come on demand, for the browser's
viewport only, as compact JSON arrays built in SQL (one statement each, on the GiST indexes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from gis.access.roles import COUNTS
from gis.errors import InvalidInput, NotFound
from gis.maps.base import base_layer
from gis.perimeter.specs import PLACE_CATEGORIES

STREET_CODE = re.compile(r"^[1-9][0-9]{8}$")  # 6 county (GB/T 2260) + 3 street
# ~1 m: invisible at the zooms the whole street is seen at, and it drops the grids' redundant vertices.
SIMPLIFY_DEG = 0.00001
MAX_ROWS = 10_000  # per viewport request; the page asks again when the user zooms in
# A viewport wider than this is an overview: the page never asks for details there.
MAX_SPAN_DEG = 0.5

_OVERVIEW = """
WITH g AS (
    SELECT g.code, g.name, g.community_code, c.name AS community_name, g.geom,
           ST_PointOnSurface(g.geom) AS pos
    FROM grid g LEFT JOIN community c ON c.code = g.community_code WHERE starts_with(g.code, %(street)s)
), n AS (  -- counts, never rows: a viewer may count what she may not read
    SELECT c.grid_code, c.households FROM register_household_counts(%(street)s) c
), a AS (  -- which grids she may count (migration 015): the others' figures are null, never 0
    SELECT a.grid_code, a.counted FROM map_grid_access(%(street)s) a
)
SELECT (SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
            json_build_object(
                'type', 'Feature',
                'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(g.geom, %(tolerance)s), 6)::json,
                'properties', json_build_object(
                    'c', g.code, 'n', g.name, 'k', g.community_name,
                    'h', CASE WHEN a.counted THEN coalesce(n.households, 0) END,
                    'p', json_build_array(round(ST_Y(g.pos)::numeric, 6), round(ST_X(g.pos)::numeric, 6))))
            ORDER BY g.code), '[]'))
        FROM g LEFT JOIN n ON n.grid_code = g.code LEFT JOIN a ON a.grid_code = g.code) AS grids,
       (SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
            json_build_object(
                'type', 'Feature',
                'geometry',
                    ST_AsGeoJSON(ST_SimplifyPreserveTopology(ST_Boundary(c.geom), %(tolerance)s), 6)::json,
                'properties', json_build_object('c', c.code, 'n', c.name)) ORDER BY c.code), '[]'))
        FROM community c WHERE starts_with(c.code, %(street)s)) AS communities,
       (SELECT array[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)]
        FROM (SELECT ST_Extent(c.geom)::geometry AS e FROM community c
              WHERE starts_with(c.code, %(street)s)) x) AS bbox,
       (SELECT min(c.street_name) FROM community c WHERE starts_with(c.code, %(street)s)) AS street_name,
       (SELECT count(*) FROM community c WHERE starts_with(c.code, %(street)s)) AS communities_n,
       (SELECT CASE WHEN access_holds(%(street)s, %(counters)s::text[]) THEN coalesce(sum(households), 0) END
        FROM n) AS households_n,
       -- the campuses on the street, each with its name at a point inside it (labelled on the map)
       (SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
            json_build_object(
                'type', 'Feature',
                'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(s.geom, %(tolerance)s), 6)::json,
                'properties', json_build_object(
                    'n', s.name,
                    'p', json_build_array(round(ST_Y(pos)::numeric, 6), round(ST_X(pos)::numeric, 6))))
            ORDER BY s.id), '[]'))
        FROM school s CROSS JOIN LATERAL ST_PointOnSurface(s.geom) AS pos
        WHERE EXISTS (SELECT 1 FROM community c WHERE starts_with(c.code, %(street)s)
                      AND c.geom && s.geom AND ST_Intersects(c.geom, pos))) AS schools
"""

# The rows of a table inside a box as JSON text {truncated, rows: [[id, lat, lon, ...columns], ...]}:
# the first %(limit)s by id, one more fetched to tell whether the answer was cut (numbered after the
# LIMIT, so that the sort keeps only the first rows).
_IN_BOX = """
WITH t AS (
    SELECT t.id, t.geom, {fields}
    FROM {table} t WHERE t.geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)
    ORDER BY t.id LIMIT %(limit)s + 1
)
SELECT json_build_object(
    'truncated', count(*) > %(limit)s,
    'rows', coalesce(json_agg(json_build_array(
        r.id, round(ST_Y(r.geom)::numeric, 6), round(ST_X(r.geom)::numeric, 6), {columns})
        ORDER BY r.id) FILTER (WHERE r.rn <= %(limit)s), '[]'))::text
FROM (SELECT t.*, row_number() OVER (ORDER BY t.id) AS rn FROM t) r{join}
"""

# Households: [..., placement (0 inside, 1 border, 2 outside), address, grid, persons].
_HOUSEHOLDS = sql.SQL(_IN_BOX).format(
    table=sql.Identifier("household"), fields=sql.SQL("t.placement, t.address, t.grid_code"),
    columns=sql.SQL("array_position(enum_range(NULL::grid_placement), r.placement) - 1, "
                    "r.address, r.grid_code, m.persons"),
    join=sql.SQL("\nCROSS JOIN LATERAL (SELECT count(*) AS persons FROM person p"
                 " WHERE p.household_id = r.id) m"))

# Places: [..., category (index into PLACE_CATEGORIES), name, address].
_PLACES = sql.SQL(_IN_BOX).format(
    table=sql.Identifier("place"), fields=sql.SQL("t.category, t.name, t.address"),
    columns=sql.SQL("array_position(%(categories)s::text[], r.category) - 1, r.name, r.address"),
    join=sql.SQL(""))


@dataclass
class StreetOverview:
    """What the street map page embeds: grids (FeatureCollection, properties c=code, n=name,
    k=community name, h=households or null where the user may not count the grid, p=[lat, lon] inside
    the grid), community boundaries, the street's extent, its schools (n=name, p=label point) and,
    when asked for, the roads and buildings (gis.maps.base.base_layer). ``household_count`` is None
    unless the user's counting scopes hold the whole street: a sum over her grids alone is not the
    street's."""

    code: str
    name: str
    bbox: tuple[float, float, float, float]
    grids: dict[str, Any]
    communities: dict[str, Any]
    community_count: int
    household_count: int | None
    schools: dict[str, Any] = field(default_factory=lambda: {"type": "FeatureCollection", "features": []})
    base: dict[str, Any] | None = None

    @property
    def grid_count(self) -> int:
        return len(self.grids["features"])


def street_code_problem(code: str) -> str | None:
    return None if STREET_CODE.match(code) else "must be a 9-digit street code (6 county + 3 street digits)"


def check_street_code(code: str) -> str:
    if (problem := street_code_problem(code)) is not None:
        raise InvalidInput.one("code", problem)
    return code


def street_overview(conn: psycopg.Connection, code: str, base: bool = False) -> StreetOverview:
    """The street's grids, simplified, with household counts, and its schools; with ``base`` its roads
    and buildings. A malformed code is InvalidInput, a street without communities NotFound."""
    check_street_code(code)
    row = conn.execute(_OVERVIEW, {"street": code, "tolerance": SIMPLIFY_DEG,
                                   "counters": sorted(COUNTS)}).fetchone()
    assert row is not None
    grids, communities, bbox, street_name, community_count, household_count, schools = row
    if not community_count:
        raise NotFound("street", code)
    return StreetOverview(code=code, name=street_name or code, bbox=tuple(bbox),  # type: ignore[arg-type]
                          grids=grids, communities=communities, community_count=community_count,
                          household_count=None if household_count is None else int(household_count),
                          schools=schools, base=base_layer(conn, tuple(bbox), 0) if base else None)  # type: ignore[arg-type]


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """'minlon,minlat,maxlon,maxlat' -> floats, checked (order, range, not a whole-street overview)."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput.one("bbox", "must be four numbers: minlon,minlat,maxlon,maxlat") from None
    if len(values) != 4:
        raise InvalidInput.one("bbox", "must be four numbers: minlon,minlat,maxlon,maxlat")
    w, s, e, n = values
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InvalidInput.one("bbox", "must be minlon,minlat,maxlon,maxlat with min < max, in degrees")
    if e - w > MAX_SPAN_DEG or n - s > MAX_SPAN_DEG:
        raise InvalidInput.one("bbox", f"spans more than {MAX_SPAN_DEG}°: zoom in")
    return w, s, e, n


def _box(bbox: tuple[float, float, float, float], limit: int) -> dict[str, Any]:
    if not 1 <= limit <= MAX_ROWS:
        raise InvalidInput.one("limit", f"must be 1-{MAX_ROWS}")
    w, s, e, n = bbox
    return {"w": w, "s": s, "e": e, "n": n, "limit": limit}


def households_in_box(conn: psycopg.Connection, bbox: tuple[float, float, float, float],
                      limit: int = MAX_ROWS) -> str:
    """The households in the box as JSON text {truncated, rows: [[id, lat, lon, placement, address,
    grid, persons], ...]}: the row-level security of the connection decides which ones."""
    row = conn.execute(_HOUSEHOLDS, _box(bbox, limit)).fetchone()
    assert row is not None
    return row[0]


def places_in_box(conn: psycopg.Connection, bbox: tuple[float, float, float, float],
                  limit: int = MAX_ROWS) -> str:
    """The places (经营场所) in the box as JSON text {truncated, rows: [[id, lat, lon, category,
    name, address], ...]}; category indexes PLACE_CATEGORIES."""
    row = conn.execute(_PLACES, {**_box(bbox, limit), "categories": list(PLACE_CATEGORIES)}).fetchone()
    assert row is not None
    return row[0]
