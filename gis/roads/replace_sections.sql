-- Replace every source that was cut (or a bare road) by its described pieces in one statement: the
-- parents retired, the new sections with their main grid/community/street (the longest share; of two
-- grids sharing a road on their border, the first by code) and the grids they run through. These are
-- labels for lists and rosters; coverage figures come from gis/roads/coverage.sql. Returns the new ids.
WITH main AS (
    SELECT DISTINCT ON (code) code, grid_code, community_code, street_name
    FROM cut_share ORDER BY code, grid_code IS NULL, length_m DESC, grid_code
),
grids AS (
    SELECT code, array_agg(grid_code ORDER BY length_m DESC, grid_code) FILTER (WHERE grid_code IS NOT NULL) AS codes
    FROM cut_share GROUP BY code
),
retired AS (
    UPDATE road_section s SET retired_on = current_date
    WHERE s.id IN (SELECT src.parent_id FROM cut_source src
                   WHERE EXISTS (SELECT 1 FROM cut_piece p WHERE p.src_key = src.src_key))
    RETURNING s.id
),
ins AS (
    INSERT INTO road_section (road_id, parent_id, code, road_name, from_desc, to_desc, length_m,
                              street_name, community_code, grid_code, grid_codes, geom)
    SELECT src.road_id, src.parent_id, p.code, p.road_name, p.from_desc, p.to_desc, p.length_m,
           main.street_name, main.community_code, main.grid_code, coalesce(grids.codes, '{}'), p.geom
    FROM cut_piece p
    JOIN cut_source src USING (src_key)
    LEFT JOIN main USING (code)
    LEFT JOIN grids USING (code)
    ORDER BY src.road_id, p.code
    RETURNING id, code
)
SELECT id FROM ins
