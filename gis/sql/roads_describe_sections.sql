-- Describe new sections: from/to as the crossing road's name (if any) and the chainage on the
-- road (桩号 K1+250); their length inside each grid (by ST_Intersection, in metres on the
-- ellipsoid); the main grid, community and street as the ones holding the longest share.
WITH ends AS (
    SELECT s.id, e.which, e.pt,
           ST_LineLocatePoint(r.geom, e.pt) * ST_Length(r.geom::geography) AS chain_m,
           (SELECT o.name FROM road o
            WHERE o.id <> s.road_id AND ST_DWithin(o.geom, e.pt, 1e-6)
            ORDER BY o.geom <-> e.pt LIMIT 1) AS crossing
    FROM road_section s JOIN road r ON r.id = s.road_id
    CROSS JOIN LATERAL (VALUES ('from', ST_StartPoint(s.geom)), ('to', ST_EndPoint(s.geom))) AS e(which, pt)
    WHERE s.id = ANY(%(new_ids)s)
),
label AS (
    SELECT id, which,
           coalesce(crossing || ' / ', '') || 'K' || floor(chain_m / 1000)::int || '+'
               || lpad(mod(floor(chain_m)::int, 1000)::text, 3, '0') AS text
    FROM ends
),
pair AS (
    SELECT id, max(text) FILTER (WHERE which = 'from') AS from_desc,
           max(text) FILTER (WHERE which = 'to') AS to_desc
    FROM label GROUP BY id
)
UPDATE road_section s
SET from_desc = pair.from_desc, to_desc = pair.to_desc
FROM pair
WHERE s.id = pair.id;

INSERT INTO road_section_share (section_id, grid_code, community_code, street_name, length_m)
SELECT s.id, g.code, g.community_code, c.street_name,
       ST_Length(ST_CollectionExtract(ST_Intersection(s.geom, g.geom), 2)::geography)
FROM road_section s
JOIN grid g ON ST_Intersects(s.geom, g.geom)
JOIN community c ON c.code = g.community_code
WHERE s.id = ANY(%(new_ids)s);

-- What lies outside every grid is kept as a share without a grid, so no length goes missing.
INSERT INTO road_section_share (section_id, grid_code, community_code, street_name, length_m)
SELECT s.id, NULL, c.code, c.street_name, s.length_m - coalesce(inside.m, 0)
FROM road_section s
LEFT JOIN LATERAL (SELECT sum(length_m) AS m FROM road_section_share sh WHERE sh.section_id = s.id) inside
    ON true
LEFT JOIN LATERAL (SELECT code, street_name FROM community
                   WHERE ST_Intersects(geom, ST_LineInterpolatePoint(s.geom, 0.5)) LIMIT 1) c ON true
WHERE s.id = ANY(%(new_ids)s)
  AND (inside.m IS NULL OR s.length_m - inside.m > 0.01);

UPDATE road_section s
SET grid_code = main.grid_code, community_code = main.community_code, street_name = main.street_name,
    grid_codes = main.grid_codes
FROM (
    SELECT section_id,
           (array_agg(grid_code ORDER BY grid_code IS NULL, length_m DESC))[1] AS grid_code,
           (array_agg(community_code ORDER BY community_code IS NULL, length_m DESC))[1] AS community_code,
           (array_agg(street_name ORDER BY street_name IS NULL, length_m DESC))[1] AS street_name,
           coalesce(array_agg(grid_code ORDER BY length_m DESC) FILTER (WHERE grid_code IS NOT NULL),
                    '{}') AS grid_codes
    FROM road_section_share WHERE section_id = ANY(%(new_ids)s) GROUP BY section_id
) main
WHERE s.id = main.section_id;
