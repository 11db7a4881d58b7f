-- report_owners() (migration 022) as one LATERAL chain per report. Inside a SQL function the planner
-- took unnest(ids, ...) for 10 rows and joined the routing steps by id with nested loops: 10,000
-- reports filtered 87 million rows (10-14 s). Each report now asks its own index questions (nearest
-- live section within 30 m, its unit on the report's day, the grid, the community, else the nearest
-- community). Same rows as before on 10,000 reports and on the 500-report truth set
-- (tests/reports/test_routing_truth.py). Privileges stay as migration 022 set them.
CREATE OR REPLACE FUNCTION report_owners(ids bigint[], points geometry[], categories text[], days date[])
RETURNS TABLE (id bigint, owner_kind text, unit_id bigint, grid_code text, community_code text,
               area_code text, county text, routed_rule text, routed_grid text, routed_section bigint,
               routed_section_m double precision, routed_assignment bigint, routed_valid daterange,
               routed_unit bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
WITH r AS MATERIALIZED (
    SELECT u.id, u.geom, u.geom::geography AS geog, u.day, k.handler
    FROM unnest(ids, points, categories, days) AS u(id, geom, category, day)
    JOIN report_category k ON k.code = u.category)
SELECT r.id,
       CASE WHEN s.unit_id IS NOT NULL THEN 'unit' WHEN g.staffed THEN 'grid'
            WHEN coalesce(g.community_code, c.code) IS NOT NULL THEN 'community' ELSE 'street' END,
       s.unit_id, g.code,
       coalesce(g.community_code, c.code, n.code), coalesce(g.community_code, c.code, n.code),
       left(coalesce(g.community_code, c.code, n.code), 6),
       CASE WHEN s.unit_id IS NOT NULL THEN 'section' WHEN g.staffed THEN 'grid'
            WHEN coalesce(g.community_code, c.code) IS NOT NULL THEN 'community' ELSE 'nearest_community' END,
       g.code, s.section_id, s.metres, s.assignment_id, s.valid, s.unit_id
FROM r
LEFT JOIN LATERAL (
    SELECT sec.section_id, sec.metres, a.id AS assignment_id, a.valid, a.unit_id
    FROM (SELECT rs.id AS section_id, ST_Distance(rs.geom::geography, r.geog) AS metres
          FROM road_section rs
          WHERE r.handler = 'street' AND rs.retired_on IS NULL AND ST_DWithin(rs.geom::geography, r.geog, 30)
          ORDER BY 2, 1 LIMIT 1) sec
    LEFT JOIN road_section_assignment a ON a.section_id = sec.section_id AND a.valid @> r.day) s ON true
LEFT JOIN LATERAL (
    SELECT gr.code, gr.community_code,
           EXISTS (SELECT 1 FROM grid_worker_grid wg WHERE wg.grid_code = gr.code AND wg.role = 'worker') AS staffed
    FROM grid gr WHERE ST_Intersects(gr.geom, r.geom) ORDER BY gr.code LIMIT 1) g ON true
LEFT JOIN LATERAL (
    SELECT co.code FROM community co WHERE ST_Intersects(co.geom, r.geom) ORDER BY co.code LIMIT 1) c ON true
LEFT JOIN LATERAL (
    SELECT k.code FROM (SELECT co.code, co.geom FROM community co ORDER BY co.geom <-> r.geom LIMIT 5) k
    WHERE c.code IS NULL
    ORDER BY ST_Distance(k.geom::geography, r.geog), k.code LIMIT 1) n ON true
$$;
