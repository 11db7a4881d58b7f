-- Pairs of compounds that overlap by more than min_m2 square metres (touching edges are no overlap),
-- like the division check: each pair once, with the shared area, largest first; among (if given):
-- only the pairs involving these compounds.
SELECT a.id AS compound_id, a.name, b.id AS other_id, b.name AS other_name,
       round(ST_Area(ST_Intersection(a.geom, b.geom)::geography)::numeric, 1)::float8 AS overlap_m2
FROM compound a
JOIN compound b ON a.id < b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
                   AND NOT ST_Touches(a.geom, b.geom)
WHERE (%(among)s::bigint[] IS NULL OR a.id = ANY (%(among)s) OR b.id = ANY (%(among)s))
  AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > %(min_m2)s
ORDER BY overlap_m2 DESC, a.id, b.id
