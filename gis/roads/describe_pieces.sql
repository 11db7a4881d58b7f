-- Describe the pieces before they become sections, in the (unlogged, temporary) cut tables: sources
-- that no cut touched drop out; each piece gets its code (road ref + 3-digit sequence for a whole
-- road, parent code + '-n' for a cut section), road name, ellipsoidal length and from/to labels.
DELETE FROM cut_piece p USING cut_source s
WHERE s.src_key = p.src_key AND s.parent_id IS NOT NULL AND p.parts = 1;

UPDATE cut_piece p
SET code = CASE WHEN s.parent_id IS NULL THEN r.ref || '-' || lpad(p.part::text, 3, '0')
                ELSE s.parent_code || '-' || p.part END,
    road_name = r.name,
    length_m = ST_Length(p.geom::geography),
    from_desc = road_point_label(r.id, r.geom, ST_StartPoint(p.geom)),
    to_desc = road_point_label(r.id, r.geom, ST_EndPoint(p.geom))
FROM cut_source s JOIN road r ON r.id = s.road_id
WHERE s.src_key = p.src_key;

ANALYZE cut_piece;

-- Length inside each grid, to pick each piece's main grid, community and street (labels, not figures:
-- a piece on a grid border has its whole length in both grids here, which only makes it a tie; coverage
-- shares such a stretch 1/k, in gis/roads/coverage.sql). A piece inside one grid needs no intersection.
INSERT INTO cut_share (code, grid_code, community_code, street_name, length_m)
SELECT p.code, g.code, g.community_code, c.street_name,
       CASE WHEN ST_CoveredBy(p.geom, g.geom) THEN p.length_m
            ELSE ST_Length(ST_CollectionExtract(ST_Intersection(p.geom, g.geom), 2)::geography) END
FROM cut_piece p
JOIN grid g ON ST_Intersects(p.geom, g.geom)
JOIN community c ON c.code = g.community_code;

-- What lies outside every grid is kept as a share without a grid, so no length goes missing.
INSERT INTO cut_share (code, grid_code, community_code, street_name, length_m)
SELECT p.code, NULL, c.code, c.street_name, p.length_m - coalesce(inside.m, 0)
FROM cut_piece p
LEFT JOIN (SELECT code, sum(length_m) AS m FROM cut_share GROUP BY code) inside USING (code)
LEFT JOIN LATERAL (SELECT code, street_name FROM community
                   WHERE ST_Intersects(geom, ST_LineInterpolatePoint(p.geom, 0.5)) LIMIT 1) c ON true
WHERE inside.m IS NULL OR p.length_m - inside.m > 0.01;
