-- Coverage of the live sections on one day: total, assigned and unassigned length per street,
-- community and grid (by each section's length share inside the grid), and the district total.
-- One pass with GROUPING SETS; the exclusion constraint makes the join give at most one holder.
SELECT CASE WHEN grouping(sh.grid_code) = 0 THEN 'grid'
            WHEN grouping(sh.community_code) = 0 THEN 'community'
            WHEN grouping(sh.street_name) = 0 THEN 'street'
            ELSE 'total' END AS level,
       CASE WHEN grouping(sh.grid_code) = 0 THEN sh.grid_code
            WHEN grouping(sh.community_code) = 0 THEN sh.community_code
            ELSE sh.street_name END AS key,
       round(sum(sh.length_m)::numeric, 1)::float8 AS total_m,
       round(coalesce(sum(sh.length_m) FILTER (WHERE a.id IS NOT NULL), 0)::numeric, 1)::float8 AS assigned_m,
       round((100 * coalesce(sum(sh.length_m) FILTER (WHERE a.id IS NOT NULL), 0)
              / nullif(sum(sh.length_m), 0))::numeric, 2)::float8 AS assigned_pct,
       count(DISTINCT sh.section_id) AS sections,
       count(DISTINCT sh.section_id) FILTER (WHERE a.id IS NULL) AS unassigned_sections
FROM road_section_share sh
JOIN road_section s ON s.id = sh.section_id AND s.retired_on IS NULL
LEFT JOIN road_section_assignment a ON a.section_id = s.id AND a.valid @> %(on)s::date
GROUP BY GROUPING SETS ((sh.street_name), (sh.community_code), (sh.grid_code), ())
