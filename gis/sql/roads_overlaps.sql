-- Pairs of live sections that cover the same stretch of road twice: the interiors meet in a line
-- (DE-9IM interior/interior of dimension 1) longer than a tolerance; crossings meet in a point only.
SELECT a.id AS section_a, a.code AS code_a, a.road_name AS road_a,
       b.id AS section_b, b.code AS code_b, b.road_name AS road_b,
       round(ST_Length(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)::geography)::numeric, 1)::float8
           AS overlap_m
FROM road_section a
JOIN road_section b ON a.id < b.id AND b.retired_on IS NULL AND ST_Intersects(a.geom, b.geom)
WHERE a.retired_on IS NULL
  AND ST_Relate(a.geom, b.geom, '1********')
  AND ST_Length(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)::geography) > %(tolerance_m)s
ORDER BY overlap_m DESC, a.code, b.code
