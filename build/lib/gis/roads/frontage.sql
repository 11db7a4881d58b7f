-- Frontage (门前三包) of each shop: the nearest live section within a distance (indexed geography
-- KNN), the shop's position along it, and its stretch from halfway to the previous shop to halfway to
-- the next one (the section's ends for the first and last shop). {places} is a point table.
WITH placed AS (
    SELECT p.ref, p.name, n.id AS section_id, n.code, n.length_m, n.geom AS line, n.distance_m,
           ST_LineLocatePoint(n.geom, p.geom) AS f
    FROM {places} p
    CROSS JOIN LATERAL (
        SELECT s.id, s.code, s.length_m, s.geom, ST_Distance(s.geom::geography, p.geom::geography) AS distance_m
        FROM road_section s
        WHERE s.retired_on IS NULL AND ST_DWithin(s.geom::geography, p.geom::geography, %(max_distance_m)s)
        ORDER BY s.geom::geography <-> p.geom::geography
        LIMIT 1) n
    WHERE (%(categories)s::text[] IS NULL OR p.category = ANY(%(categories)s::text[]))
      AND (%(section_id)s::bigint IS NULL OR n.id = %(section_id)s)
),
stretch AS (
    SELECT *,
           coalesce((lag(f) OVER w + f) / 2, 0) AS f0,
           coalesce((f + lead(f) OVER w) / 2, 1) AS f1
    FROM placed
    WINDOW w AS (PARTITION BY section_id ORDER BY f, ref)
)
SELECT section_id, code AS section_code, ref AS place_ref, name AS place_name,
       round(distance_m::numeric, 1)::float8 AS distance_m,
       round((f * length_m)::numeric, 1)::float8 AS position_m,
       round((f0 * length_m)::numeric, 1)::float8 AS from_m,
       round((f1 * length_m)::numeric, 1)::float8 AS to_m,
       round(ST_Length(ST_LineSubstring(line, f0, f1)::geography)::numeric, 1)::float8 AS frontage_m,
       ST_AsGeoJSON(ST_LineSubstring(line, f0, f1), 7)::json AS geometry
FROM stretch
ORDER BY code, f, ref
