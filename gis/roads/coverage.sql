-- Coverage of the live sections on one day (see gis.roads.coverage for the definition): per street
-- each section whole, at its street; per community and per grid each section by the length of it
-- inside each polygon, a stretch held by k polygons at once (a road drawn along the border of two
-- grids) counting 1/k to each, what lies outside every polygon under key NULL. So at every level
-- the rows add up to the district total, and every section counts once. A stretch within
-- BORDER_SNAP_DEG (about 1 cm) of a polygon is in it: a road digitised on a border is on it, not a
-- hair outside both.
-- Shares come from the geometries as they are today, not from the cut: a redrawn grid is counted
-- as drawn. The usual section lies inside one polygon and touches no other: it needs no overlay.
WITH live AS (
    SELECT s.id, s.geom, s.length_m, s.street_name, a.id IS NOT NULL AS assigned
    FROM road_section s
    LEFT JOIN road_section_assignment a ON a.section_id = s.id AND a.valid @> %(on)s::date
    WHERE s.retired_on IS NULL
),
area AS (
    SELECT 'grid' AS level, code, geom FROM grid
    UNION ALL
    SELECT 'community', code, geom FROM community
),
hit AS (
    SELECT l.id, ar.level, ar.code, ar.geom, l.geom AS line, l.length_m,
           count(*) OVER (PARTITION BY l.id, ar.level) = 1 AND ST_ContainsProperly(ar.geom, l.geom) AS whole
    FROM live l JOIN area ar ON ST_DWithin(ar.geom, l.geom, %(snap)s)
),
-- Where the rest run inside each polygon, as intervals of the line's fraction [lo, hi].
span AS (
    SELECT h.id, h.level, h.code, least(f.a, f.b) AS lo, greatest(f.a, f.b) AS hi
    FROM hit h
    CROSS JOIN LATERAL ST_Dump(ST_CollectionExtract(ST_Intersection(h.line, ST_Buffer(h.geom, %(snap)s, 'quad_segs=2')), 2)) d
    CROSS JOIN LATERAL (SELECT ST_LineLocatePoint(h.line, ST_StartPoint(d.geom)) AS a,
                               ST_LineLocatePoint(h.line, ST_EndPoint(d.geom)) AS b) f
    WHERE NOT h.whole
),
-- Cut the line wherever an interval starts or ends: on each piece the set of polygons is constant.
cut AS (
    SELECT id, level, lo AS t FROM span
    UNION SELECT id, level, hi FROM span
    UNION SELECT id, level, 0 FROM hit WHERE NOT whole
    UNION SELECT id, level, 1 FROM hit WHERE NOT whole
),
piece AS (
    SELECT id, level, t0, t1 FROM (
        SELECT id, level, t AS t0, lead(t) OVER (PARTITION BY id, level ORDER BY t) AS t1 FROM cut) c
    WHERE t1 > t0
),
piece_share AS (
    SELECT p.id, p.level, sp.code,
           ST_Length(ST_LineSubstring(l.geom, p.t0, p.t1)::geography)
           / greatest(count(sp.code) OVER (PARTITION BY p.id, p.level, p.t0), 1) AS length_m
    FROM piece p
    JOIN live l ON l.id = p.id
    LEFT JOIN span sp ON sp.id = p.id AND sp.level = p.level AND (p.t0 + p.t1) / 2 BETWEEN sp.lo AND sp.hi
),
share AS (
    SELECT id, level, code, length_m FROM hit WHERE whole
    UNION ALL
    SELECT id, level, code, length_m FROM piece_share
    UNION ALL  -- sections that touch no polygon of a level lie wholly outside them
    SELECT l.id, lv.level, NULL, l.length_m
    FROM live l CROSS JOIN (VALUES ('grid'), ('community')) lv (level)
    WHERE NOT EXISTS (SELECT 1 FROM hit h WHERE h.id = l.id AND h.level = lv.level)
    UNION ALL
    SELECT id, 'street', street_name, length_m FROM live
    UNION ALL
    SELECT id, 'total', NULL, length_m FROM live
),
-- One row per section and polygon; a sliver under 5 cm (a road crossing a border, within the snap)
-- adds its length but does not make the section one of the polygon's.
held AS (
    SELECT sh.level, sh.code, sh.id, sum(sh.length_m) AS length_m, l.assigned
    FROM share sh JOIN live l ON l.id = sh.id
    GROUP BY sh.level, sh.code, sh.id, l.assigned
)
SELECT level, code AS key,
       round(sum(length_m)::numeric, 1)::float8 AS total_m,
       round(coalesce(sum(length_m) FILTER (WHERE assigned), 0)::numeric, 1)::float8 AS assigned_m,
       round((100 * coalesce(sum(length_m) FILTER (WHERE assigned), 0)
              / nullif(sum(length_m), 0))::numeric, 2)::float8 AS assigned_pct,
       count(*) FILTER (WHERE length_m >= 0.05) AS sections,
       count(*) FILTER (WHERE length_m >= 0.05 AND NOT assigned) AS unassigned_sections
FROM held
GROUP BY level, code
HAVING sum(length_m) >= 0.05  -- nor is a polygon that holds only such slivers a row
