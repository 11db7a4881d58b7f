"""What the perimeter map shows, as GeoJSON: campuses, their true zones, violating and compliant places."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from shapely.geometry import shape

from gis.local_tm import local_tm_srid
from gis.perimeter.check import Scope, check_centre, perimeter_violations, resolve_school

# Zones are buffers of the campus in the local TM (conformal, scale error < 3e-5 within 50 km of its
# centre), transformed back: true distances on the ground, not circles in degrees. Each school's
# zone is as wide as the farthest rule in force for its level and region (perimeter_rules_in_force,
# gis/migrations/009: the most specific region wins).
_ZONES_SQL = """
WITH school_in AS (
    SELECT s.id, s.ref, s.name, s.level, s.geom, s.gates,
           (SELECT c.code FROM community c WHERE ST_Intersects(c.geom, ST_PointOnSurface(s.geom))
            ORDER BY c.code LIMIT 1) AS region_code
    FROM school s WHERE %(school)s::bigint IS NULL OR s.id = %(school)s::bigint
),
reach AS (
    SELECT s.id, max(r.distance_m) AS distance_m
    FROM school_in s CROSS JOIN LATERAL perimeter_rules_in_force(s.level, s.region_code) r
    GROUP BY s.id
)
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
           'type', 'Feature', 'geometry', ST_AsGeoJSON(s.geom, 7)::json,
           'properties', json_build_object('id', s.id, 'ref', s.ref, 'name', s.name, 'level', s.level,
                                           'zone_m', r.distance_m))), '[]'::json)),
       json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
           'type', 'Feature',
           'geometry', ST_AsGeoJSON(ST_Transform(
                ST_Buffer(ST_Transform(s.geom, %(srid)s::int), r.distance_m, 32), 4326), 7)::json,
           'properties', json_build_object('id', s.id, 'name', s.name, 'zone_m', r.distance_m)))
           FILTER (WHERE r.distance_m IS NOT NULL), '[]'::json)),
       ST_XMin(ST_Extent(s.geom)), ST_YMin(ST_Extent(s.geom)),
       ST_XMax(ST_Extent(s.geom)), ST_YMax(ST_Extent(s.geom))
FROM school_in s LEFT JOIN reach r ON r.id = s.id
"""

# Places of a ruled category inside some zone, for the muted "compliant" layer (violators are
# drawn from the check itself).
_NEAR_SQL = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
           'type', 'Feature', 'geometry', ST_AsGeoJSON(n.geom, 7)::json,
           'properties', json_build_object('place_id', n.id, 'place_ref', n.ref, 'place_name', n.name,
                                           'category', n.category))), '[]'::json)),
       count(*)
FROM (
    SELECT DISTINCT ON (p.id) p.id, p.ref, p.name, p.category, p.geom
    FROM school s
    JOIN ruled_place p
      ON p.geom && ST_Expand(s.geom, %(reach)s / (111000 * cos(radians(least(89.0,
                                     greatest(abs(ST_YMin(s.geom)), abs(ST_YMax(s.geom))) + 0.01)))),
                             %(reach)s / 110000.0)
    WHERE (%(school)s::bigint IS NULL OR s.id = %(school)s::bigint)
      AND ST_DWithin(s.geom::geography, p.geom::geography, %(reach)s)
      AND p.id NOT IN (SELECT unnest(%(violators)s::bigint[]))
    ORDER BY p.id
    LIMIT %(limit)s
) n
"""
COMPLIANT_LIMIT = 20_000  # more muted points than this make a page too heavy to print


def _frame(campuses: tuple[float, ...] | None, zones: dict[str, Any],
           violations: list[dict[str, Any]]) -> tuple[float, float, float, float] | None:
    """What the map frames: the campuses, their whole zones (the rule's distance) and every violation,
    which may lie beyond the zone of a school whose rule is shorter than another's."""
    boxes = [shape(f["geometry"]).bounds for f in zones["features"]]
    boxes += [(v["lon"], v["lat"], v["lon"], v["lat"]) for v in violations]
    if campuses is not None:
        boxes.append(campuses)
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def perimeter_map_data(conn: psycopg.Connection, day: date, school: str | None = None) -> dict[str, Any]:
    """Campuses, zones, violations (with rule, distance and licence state) and compliant places near."""
    school_id = resolve_school(conn, school) if school else None
    scope = Scope(school=school)
    srid = local_tm_srid(conn, *check_centre(conn, scope, school_id))
    row = conn.execute(_ZONES_SQL, {"school": school_id, "srid": srid}).fetchone()  # type: ignore[arg-type]
    assert row is not None
    campuses, zones, *bbox = row
    violations = perimeter_violations(conn, day, scope)
    reach = max((f["properties"]["zone_m"] or 0 for f in zones["features"]), default=0)
    near = conn.execute(_NEAR_SQL, {"violators": [v["place_id"] for v in violations], "school": school_id,
                                    "reach": float(reach), "limit": COMPLIANT_LIMIT}).fetchone()  # type: ignore[arg-type]
    assert near is not None
    return {"campuses": campuses, "zones": zones, "violations": violations, "compliant": near[0],
            "compliant_capped": near[1] >= COMPLIANT_LIMIT,
            "bbox": _frame(tuple(bbox) if bbox[0] is not None else None, zones, violations), "day": day,
            "school": campuses["features"][0]["properties"] if school_id and campuses["features"] else None}
