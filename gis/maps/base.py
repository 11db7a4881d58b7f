"""The light base of a map with no tiles (底图): the roads and buildings the service holds, in an area.

A map on the default ``none`` basemap is blank paper: without this a grid's boundary floats in white
and nobody can tell where it is. Each map asks for its own area only (its extent plus a margin, as
far as a reader pans around it), the geometries clipped to that box, simplified to ~1 m and rounded
to 6 decimals (~0.1 m): a community's base is tens of kilobytes, not the city's roads. Roads and
buildings are no secret (no row-level security): every reader of a map sees the same base.
"""

from __future__ import annotations

from typing import Any

import psycopg

# Around what a map frames: a reader pans a little; beyond this the paper is blank again. 0.003° is
# 270-330 m at the latitudes of China.
MARGIN_DEG = 0.003
SIMPLIFY_DEG = 0.00001  # ~1 m
MAX_ROADS = 5_000
MAX_BUILDINGS = 20_000  # ~1.5 MB of page; a whole district's buildings would not open

# One statement: each table's rows whose clipped geometry is not empty (a road that only touches the
# box's edge clips to a point, which is no line), as a FeatureCollection, the first rows by id when
# there are more than the cap.
_BASE = """
WITH box AS (SELECT ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326) AS b),
roads AS (
    SELECT r.id, g FROM road r CROSS JOIN box
    CROSS JOIN LATERAL ST_CollectionExtract(ST_ClipByBox2D(r.geom, box.b), 2) AS g
    WHERE r.geom && box.b AND NOT ST_IsEmpty(g)
    ORDER BY r.id LIMIT %(max_roads)s + 1
),
buildings AS (
    SELECT b.id, g FROM building b CROSS JOIN box
    CROSS JOIN LATERAL ST_CollectionExtract(ST_ClipByBox2D(b.geom, box.b), 3) AS g
    WHERE b.geom && box.b AND NOT ST_IsEmpty(g)
    ORDER BY b.id LIMIT %(max_buildings)s + 1
)
SELECT (SELECT coalesce(json_agg(ST_AsGeoJSON(ST_SimplifyPreserveTopology(g, %(tol)s), 6)::json
                                 ORDER BY id) FILTER (WHERE n <= %(max_roads)s), '[]')
        FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM roads) x),
       (SELECT count(*) > %(max_roads)s FROM roads),
       (SELECT coalesce(json_agg(ST_AsGeoJSON(ST_SimplifyPreserveTopology(g, %(tol)s), 6)::json
                                 ORDER BY id) FILTER (WHERE n <= %(max_buildings)s), '[]')
        FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM buildings) x),
       (SELECT count(*) > %(max_buildings)s FROM buildings)
"""


Box = tuple[float, float, float, float]


def base_area(bbox: Box, margin: float = MARGIN_DEG) -> Box:
    """The area a map's base covers: its extent ``bbox`` (minlon, minlat, maxlon, maxlat) and a margin."""
    w, s, e, n = bbox
    return (w - margin, s - margin, e + margin, n + margin)


def base_layer(conn: psycopg.Connection, bbox: Box, margin: float = MARGIN_DEG) -> dict[str, Any]:
    """{area, roads: [GeoJSON geometry, ...], buildings: [...], truncated}: the roads and buildings
    inside ``base_area(bbox, margin)``, clipped to it."""
    area = base_area(bbox, margin)
    w, s, e, n = area
    row = conn.execute(_BASE, {"w": w, "s": s, "e": e, "n": n, "tol": SIMPLIFY_DEG,
                               "max_roads": MAX_ROADS, "max_buildings": MAX_BUILDINGS}).fetchone()
    assert row is not None
    roads, roads_cut, buildings, buildings_cut = row
    return {"area": area, "roads": roads, "buildings": buildings,
            "truncated": bool(roads_cut or buildings_cut)}
