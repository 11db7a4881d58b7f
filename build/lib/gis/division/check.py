"""Division check (全覆盖、无缝隙、不交叉): a community's grids must cover it, without gaps or overlaps.

The result is a GeoJSON FeatureCollection of the faults, so the map can draw it as is. Areas are
on the ellipsoid (``geography``); parts smaller than ``tolerance_m2`` are floating-point noise
along shared edges, not faults, and are left out.
"""

from __future__ import annotations

import psycopg

from gis.errors import InvalidInput, NotFound

# Each statement returns (geometry GeoJSON, area_m2, grids[]) rows, one per polygon part.
# Overlay runs on the stored (planar lon/lat) geometry, but a cast to geography reads each edge as a
# geodesic: a hair-thin sliver between a straight edge and the same edge with extra vertices then
# gets a spurious area of ~1 m² per km. Segmentizing to ~10 m edges first makes the two readings
# agree to ~1e-5 m², so that the tolerance separates noise from real faults.
_AREA = "ST_Area(ST_Segmentize({g}, 0.0001)::geography)"
_GAPS = """
    WITH c AS (SELECT geom FROM community WHERE code = %(community)s),
         covered AS (SELECT ST_Union(geom) AS geom FROM grid WHERE community_code = %(community)s),
         part AS (SELECT (ST_Dump(ST_CollectionExtract(
                      CASE WHEN covered.geom IS NULL THEN c.geom ELSE ST_Difference(c.geom, covered.geom) END,
                      3))).geom AS geom
                  FROM c, covered)
    SELECT ST_AsGeoJSON(part.geom, 8)::json, {area},
           -- the grids bordering the gap: whoever should have covered it
           ARRAY(SELECT g.code FROM grid g WHERE g.community_code = %(community)s
                 AND ST_Intersects(g.geom, part.geom) ORDER BY g.code)
    FROM part
    WHERE {area} >= %(tolerance)s
    ORDER BY 2 DESC
""".format(area=_AREA.format(g="part.geom"))

_OVERLAPS = """
    WITH part AS (
        SELECT a.code AS a, b.code AS b,
               (ST_Dump(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3))).geom AS geom
        FROM grid a JOIN grid b ON a.code < b.code AND ST_Intersects(a.geom, b.geom)
        WHERE a.community_code = %(community)s AND b.community_code = %(community)s
    )
    SELECT ST_AsGeoJSON(geom, 8)::json, {area}, ARRAY[a, b]
    FROM part
    WHERE {area} >= %(tolerance)s
    ORDER BY 2 DESC
""".format(area=_AREA.format(g="geom"))

_OUTSIDE = """
    WITH part AS (
        SELECT g.code, (ST_Dump(ST_CollectionExtract(ST_Difference(g.geom, c.geom), 3))).geom AS geom
        FROM grid g JOIN community c ON c.code = g.community_code
        WHERE g.community_code = %(community)s
    )
    SELECT ST_AsGeoJSON(geom, 8)::json, {area}, ARRAY[code]
    FROM part
    WHERE {area} >= %(tolerance)s
    ORDER BY 2 DESC
""".format(area=_AREA.format(g="geom"))

CHECKS = {"gap": _GAPS, "overlap": _OVERLAPS, "outside": _OUTSIDE}


def check_division(conn: psycopg.Connection, community_code: str, tolerance_m2: float = 0.01) -> dict:
    """Gaps (community minus the union of its grids), overlaps (pairwise grid intersections, polygonal
    part only) and grid area outside the community, as a GeoJSON FeatureCollection with ``ok``. Since
    migration 010 a grid cannot be written more than 1 m outside its community: "outside" finds slivers
    within that tolerance and grids drawn before it."""
    if not tolerance_m2 >= 0:
        raise InvalidInput.one("tolerance_m2", "must be 0 or more")
    if conn.execute("SELECT 1 FROM community WHERE code = %s", [community_code]).fetchone() is None:
        raise NotFound("community", community_code)
    params = {"community": community_code, "tolerance": tolerance_m2}
    features = []
    for kind, statement in CHECKS.items():
        for geometry, area, grids in conn.execute(statement, params):  # type: ignore[call-overload]
            features.append({"type": "Feature", "geometry": geometry,
                             "properties": {"kind": kind, "area_m2": float(area), "grids": list(grids)}})
    return {"type": "FeatureCollection", "community": community_code, "ok": not features,
            "tolerance_m2": tolerance_m2, "features": features}
