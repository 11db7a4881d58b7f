-- The compounds the reader sees, each placed in the community and grid holding a point of its surface
-- (computed live: a redrawn division places them anew), with the lead helper on the day asked (on).
SELECT k.id, k.ref, k.name, k.management, m.name_zh AS management_zh, k.households, k.note,
       pl.community_code, left(pl.community_code, 9) AS street_code, pl.grid_code,
       h.id AS helper_id, h.unit_id, u.name AS unit_name, lower(h.valid) AS helper_from,
       upper(h.valid) - 1 AS helper_to,
       round(ST_Area(k.geom::geography)::numeric, 1)::float8 AS area_m2
FROM compound k
JOIN compound_management m ON m.code = k.management
CROSS JOIN LATERAL (
    SELECT ST_PointOnSurface(k.geom) AS p
) s
CROSS JOIN LATERAL (
    SELECT (SELECT c.code FROM community c WHERE ST_Intersects(c.geom, s.p) ORDER BY c.code LIMIT 1)
               AS community_code,
           (SELECT g.code FROM grid g WHERE ST_Intersects(g.geom, s.p) ORDER BY g.code LIMIT 1) AS grid_code
) pl
LEFT JOIN compound_helper h ON h.compound_id = k.id AND h.valid @> %(on)s::date
LEFT JOIN responsible_unit u ON u.id = h.unit_id
