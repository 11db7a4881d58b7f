-- Licences in the whole jurisdiction (辖区内出版物经营场所、食品店、五小门店等证照齐全、亮证经营):
-- every shop of the given categories without a licence that is both valid on %(day)s and displayed,
-- wherever it is (not only near schools), with the community and grid it lies in.
-- Parameters: day date, categories text[], community text|NULL, grid text|NULL.
-- {place_in_area} is gis.areas.by_geometry on the shop.
--
-- A licence is valid on the day when it has no end date or ends on or after it (the same reading as
-- ruled_place in gis/migrations/002). The state says what is wrong: missing (no licence on record),
-- not_displayed (a valid licence, none displayed), expired (licences, none valid on the day).
-- Placed by geometry: the grid from grid_for_point (gis/migrations/006: the lowest code of the grids
-- it touches, and whether it is inside, on a border or outside every grid), the community the shop
-- lies in. A shop outside every grid (or community) is listed with those left empty, never dropped.
WITH licensed AS (
    SELECT l.place_id,
           bool_or(l.displayed AND (l.valid_until IS NULL OR l.valid_until >= %(day)s::date)) AS shown,
           bool_or(l.valid_until IS NULL OR l.valid_until >= %(day)s::date) AS valid,
           CASE WHEN bool_or(l.valid_until IS NULL) THEN NULL ELSE max(l.valid_until) END AS valid_until
    FROM licence l
    JOIN place p ON p.id = l.place_id AND p.category = ANY (%(categories)s::text[])
    GROUP BY l.place_id
)
SELECT p.id AS place_id, p.ref AS place_ref, p.name AS place_name, p.category, c.name_zh AS category_name,
       p.address, state.code AS licence_state, state.name_zh AS licence_state_name,
       l.valid_until AS licence_valid_until,
       com.code AS community_code, com.name AS community_name,
       g.grid_code, gr.name AS grid_name, g.placement::text AS placement,
       CASE g.placement WHEN 'inside' THEN '网格内' WHEN 'border' THEN '网格边界' ELSE '网格外' END
           AS placement_name,
       ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat
FROM place p
JOIN place_category c ON c.code = p.category
LEFT JOIN licensed l ON l.place_id = p.id
CROSS JOIN LATERAL (
    SELECT CASE WHEN l.place_id IS NULL THEN 'missing' WHEN l.valid THEN 'not_displayed' ELSE 'expired' END
           AS code
) s
CROSS JOIN LATERAL (
    SELECT s.code, CASE s.code WHEN 'missing' THEN '无证' WHEN 'not_displayed' THEN '未亮证' ELSE '证照过期' END
           AS name_zh
) state
CROSS JOIN LATERAL grid_for_point(p.geom) g
LEFT JOIN grid gr ON gr.code = g.grid_code
LEFT JOIN LATERAL (
    SELECT cm.code, cm.name FROM community cm WHERE ST_Intersects(cm.geom, p.geom) ORDER BY cm.code LIMIT 1
) com ON true
WHERE p.category = ANY (%(categories)s::text[])
  AND NOT coalesce(l.shown, false)
  AND {place_in_area}
ORDER BY community_code, grid_code, place_ref, place_id
