-- Coverage of the live sections on one day (see gis.roads.coverage for the definition): per street
-- each section whole, at its street; per community and per grid each section by the length of it
-- inside each polygon, a stretch held by k polygons at once (a road drawn along the border of two
-- grids) counting 1/k to each, what lies outside every polygon under key NULL. So at every level
-- the rows add up to the district total, and every section counts once. A stretch within
-- BORDER_SNAP_DEG (about 1 cm) of a polygon is in it: a road digitised on a border is on it, not a
-- hair outside both.
-- Shares come from the geometries as they are today, not from the cut: a redrawn grid is counted
-- as drawn. The usual section lies inside one polygon and touches no other: it needs no overlay.
-- With %(community)s only the sections whose box meets that community's are looked at: its own row
-- is exact (every section within the snap of it is among them), the other rows are not, and the
-- row carries section_ids, the sections it holds (a share of at least 5 cm) for the map to draw.
WITH scope AS (  -- the box to look in: everywhere, or the community's
    SELECT (SELECT ST_Expand(geom, %(snap)s) FROM community WHERE code = %(community)s) AS box,
           %(community)s::text IS NULL AS everywhere
),
live AS (
    SELECT s.id, s.geom, s.length_m, s.street_name, a.id IS NOT NULL AS assigned
    FROM road_section s
    CROSS JOIN scope
    LEFT JOIN road_section_assignment a ON a.section_id = s.id AND a.valid @> %(on)s::date
    WHERE s.retired_on IS NULL AND (scope.everywhere OR s.geom && scope.box)
),
area AS (
    SELECT 'grid' AS level, code, geom FROM grid
    UNION ALL
    SELECT 'community', code, geom FROM community
),
-- Polygon by polygon, the live sections within the snap of it, and whether it holds them whole.
-- Going polygon by polygon lets PostGIS prepare each polygon once for ST_ContainsProperly, and the
-- distance test is only needed for the few sections not properly inside (MATERIALIZED: otherwise the
-- planner moves both tests after the sort by section, which undoes the preparing; 2x slower).
touch AS MATERIALIZED (
    SELECT ar.level, ar.code, s.id, s.inside
    FROM area ar
    CROSS JOIN scope
    CROSS JOIN LATERAL (SELECT s.id, s.geom, ST_ContainsProperly(ar.geom, s.geom) AS inside
                        FROM road_section s
                        WHERE s.retired_on IS NULL AND s.geom && ST_Expand(ar.geom, %(snap)s)
                          AND (scope.everywhere OR s.geom && scope.box)
                        OFFSET 0) s
    WHERE s.inside OR ST_DWithin(ar.geom, s.geom, %(snap)s)
),
-- A section wholly inside the one polygon of its level that it meets needs no overlay.
hit AS (
    SELECT id, level, code, inside AND count(*) OVER (PARTITION BY id, level) = 1 AS whole FROM touch
),
-- Where the rest run inside each polygon, as intervals of the line's fraction [lo, hi].
span AS (
    SELECT h.id, h.level, h.code, least(f.a, f.b) AS lo, greatest(f.a, f.b) AS hi
    FROM hit h
    JOIN area ar ON ar.level = h.level AND ar.code = h.code
    JOIN live l ON l.id = h.id
    CROSS JOIN LATERAL ST_Dump(ST_CollectionExtract(ST_Intersection(l.geom, ST_Buffer(ar.geom, %(snap)s, 'quad_segs=2')), 2)) d
    CROSS JOIN LATERAL (SELECT ST_LineLocatePoint(l.geom, ST_StartPoint(d.geom)) AS a,
                               ST_LineLocatePoint(l.geom, ST_EndPoint(d.geom)) AS b) f
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
-- One row per overlaid section and polygon (or NULL: outside every polygon of the level).
overlaid AS (
    SELECT ps.level, ps.code, ps.id, sum(ps.length_m) AS length_m, l.assigned
    FROM piece_share ps JOIN live l ON l.id = ps.id
    GROUP BY ps.level, ps.code, ps.id, l.assigned
),
-- Sums per polygon, branch by branch: a (level, polygon, section) lies in exactly one branch, so the
-- branches add up. A sliver under 5 cm (a road crossing a border, within the snap) adds its length
-- but does not make the section one of the polygon's.
held AS (
    SELECT h.level, h.code, sum(l.length_m) AS total, sum(l.length_m) FILTER (WHERE l.assigned) AS assigned,
           count(*) FILTER (WHERE l.length_m >= 0.05) AS sections,
           count(*) FILTER (WHERE l.length_m >= 0.05 AND NOT l.assigned) AS unassigned
    FROM hit h JOIN live l ON l.id = h.id
    WHERE h.whole
    GROUP BY h.level, h.code
    UNION ALL
    SELECT level, code, sum(length_m), sum(length_m) FILTER (WHERE assigned),
           count(*) FILTER (WHERE length_m >= 0.05), count(*) FILTER (WHERE length_m >= 0.05 AND NOT assigned)
    FROM overlaid
    GROUP BY level, code
    UNION ALL  -- sections that touch no polygon of a level lie wholly outside them
    SELECT lv.level, NULL, sum(l.length_m), sum(l.length_m) FILTER (WHERE l.assigned),
           count(*) FILTER (WHERE l.length_m >= 0.05), count(*) FILTER (WHERE l.length_m >= 0.05 AND NOT l.assigned)
    FROM live l CROSS JOIN (VALUES ('grid'), ('community')) lv (level)
    WHERE NOT EXISTS (SELECT 1 FROM hit h WHERE h.id = l.id AND h.level = lv.level)
    GROUP BY lv.level
    UNION ALL
    SELECT lv.level, CASE WHEN lv.level = 'street' THEN l.street_name END, sum(l.length_m),
           sum(l.length_m) FILTER (WHERE l.assigned),
           count(*) FILTER (WHERE l.length_m >= 0.05), count(*) FILTER (WHERE l.length_m >= 0.05 AND NOT l.assigned)
    FROM live l CROSS JOIN (VALUES ('street'), ('total')) lv (level)
    GROUP BY 1, 2
),
-- With %(community)s: the sections it holds, by the same rule as its "sections" figure.
member AS (
    SELECT h.id FROM hit h JOIN live l ON l.id = h.id
    WHERE h.whole AND h.level = 'community' AND h.code = %(community)s AND l.length_m >= 0.05
    UNION ALL
    SELECT id FROM overlaid WHERE level = 'community' AND code = %(community)s AND length_m >= 0.05
)
SELECT level, code AS key,
       round(sum(total)::numeric, 1)::float8 AS total_m,
       round(coalesce(sum(assigned), 0)::numeric, 1)::float8 AS assigned_m,
       round((100 * coalesce(sum(assigned), 0) / nullif(sum(total), 0))::numeric, 2)::float8 AS assigned_pct,
       sum(sections)::int AS sections, sum(unassigned)::int AS unassigned_sections,
       CASE WHEN level = 'community' AND code = %(community)s
            THEN (SELECT array_agg(id ORDER BY id) FROM member) END AS section_ids
FROM held
GROUP BY level, code
HAVING sum(total) >= 0.05  -- nor is a polygon that holds only such slivers a row
