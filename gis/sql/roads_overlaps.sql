-- Pairs of live sections that cover the same stretch of road twice: the interiors meet in a line
-- (DE-9IM interior/interior of dimension 1) longer than a tolerance; crossings meet in a point only.
-- The candidates come from the GiST index alone: OFFSET 0 keeps the planner from combining it with
-- a primary-key range scan for a.id < b.id, which made the join quadratic (80 s at 50,000 sections).
SELECT a.id AS section_a, a.code AS code_a, a.road_name AS road_a,
       b.id AS section_b, b.code AS code_b, b.road_name AS road_b,
       round(ST_Length(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)::geography)::numeric, 1)::float8
           AS overlap_m
FROM road_section a
CROSS JOIN LATERAL (
    SELECT n.id, n.code, n.road_name, n.geom FROM road_section n
    WHERE n.retired_on IS NULL AND n.geom && a.geom
    OFFSET 0) b
WHERE a.retired_on IS NULL AND a.id < b.id
  AND ST_Relate(a.geom, b.geom, '1********')
  AND ST_Length(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)::geography) > %(tolerance_m)s
ORDER BY overlap_m DESC, a.code, b.code
