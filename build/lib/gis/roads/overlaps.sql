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
  -- cheap pre-filter: a shared stretch of L metres spans at least L / sqrt(2) m in x or in y, so the
  -- boxes' common part must too (1 degree < 112 km); sections meeting end to end fail it
  AND greatest(least(ST_XMax(a.geom), ST_XMax(b.geom)) - greatest(ST_XMin(a.geom), ST_XMin(b.geom)),
               least(ST_YMax(a.geom), ST_YMax(b.geom)) - greatest(ST_YMin(a.geom), ST_YMin(b.geom)))
      > %(tolerance_m)s / 160000.0
  AND ST_Relate(a.geom, b.geom, '1********')
  AND ST_Length(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)::geography) > %(tolerance_m)s
ORDER BY overlap_m DESC, a.code, b.code
