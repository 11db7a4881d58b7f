-- 四清 statistics per grid, per community and for everything, in one statement.
-- The figures per grid come from register_grid_counts() (migration 011): aggregates over what the
-- acting user may count (a viewer's scope gives numbers, never rows); here they are summed up per
-- community and for everything. GROUPING(community, grid): 0 = a grid, 1 = a community, 3 = all.
-- Vocabularies (key-person categories, poverty statuses) are data: their counts come as JSON objects
-- with a zero for every category. The scope's area condition is gis.areas.by_grid_code on the grid's
-- code, filled in by stats.py: parameters %(community)s, %(grid)s (NULL = all).
WITH scope AS (
    SELECT g.community_code AS community, g.code AS grid, n.*
    FROM grid g
    FULL JOIN register_grid_counts(coalesce(%(grid)s::text, %(community)s::text, '')) n ON n.grid_code = g.code
    WHERE {area}
),
totals AS (
    SELECT community, grid, GROUPING(community, grid) AS level,
           coalesce(sum(households), 0)::bigint AS households,
           coalesce(sum(border_households), 0)::bigint AS border_households,
           coalesce(sum(households) FILTER (WHERE grid IS NULL), 0)::bigint AS outside_households,
           coalesce(sum(poverty_households), 0)::bigint AS poverty_households,
           coalesce(sum(persons), 0)::bigint AS persons,
           coalesce(sum(registered), 0)::bigint AS registered,
           coalesce(sum(floating), 0)::bigint AS floating,
           coalesce(sum(employed), 0)::bigint AS employed,
           coalesce(sum(unemployed), 0)::bigint AS unemployed,
           coalesce(sum(retired), 0)::bigint AS retired,
           coalesce(sum(student), 0)::bigint AS student,
           coalesce(sum(preschool), 0)::bigint AS preschool,
           coalesce(sum(other), 0)::bigint AS other,
           coalesce(sum(unknown), 0)::bigint AS unknown,
           coalesce(sum(key_persons), 0)::bigint AS key_persons,
           coalesce(sum(poverty_persons), 0)::bigint AS poverty_persons,
           coalesce(sum(elderly_alone), 0)::bigint AS elderly_alone,
           coalesce(sum(disabled), 0)::bigint AS disabled,
           coalesce(sum(activists), 0)::bigint AS activists,
           coalesce(sum(volunteers), 0)::bigint AS volunteers
    FROM scope
    GROUP BY GROUPING SETS ((community, grid), (community), ())
),
key_counts AS (
    SELECT s.community, s.grid, GROUPING(s.community, s.grid) AS level, e.key AS key_category,
           sum(e.value::bigint) AS n
    FROM scope s CROSS JOIN LATERAL jsonb_each_text(s.key_persons_by_category) e
    GROUP BY GROUPING SETS ((s.community, s.grid, e.key), (s.community, e.key), (e.key))
),
poverty_counts AS (
    SELECT s.community, s.grid, GROUPING(s.community, s.grid) AS level, e.key AS poverty,
           sum((e.value ->> 'persons')::bigint) AS persons, sum((e.value ->> 'households')::bigint) AS households
    FROM scope s CROSS JOIN LATERAL jsonb_each(s.poverty_by_status) e
    GROUP BY GROUPING SETS ((s.community, s.grid, e.key), (s.community, e.key), (e.key))
),
key_json AS (
    SELECT t.level, t.community, t.grid, jsonb_object_agg(c.code, coalesce(k.n, 0)) AS counts
    FROM totals t
    CROSS JOIN key_person_category c
    LEFT JOIN key_counts k ON k.level = t.level AND k.key_category = c.code
         AND coalesce(k.community, '') = coalesce(t.community, '') AND coalesce(k.grid, '') = coalesce(t.grid, '')
    GROUP BY t.level, t.community, t.grid
),
poverty_json AS (
    SELECT t.level, t.community, t.grid,
           jsonb_object_agg(s.code, jsonb_build_object('persons', coalesce(v.persons, 0),
                                                       'households', coalesce(v.households, 0))) AS counts
    FROM totals t
    CROSS JOIN poverty_status s
    LEFT JOIN poverty_counts v ON v.level = t.level AND v.poverty = s.code
         AND coalesce(v.community, '') = coalesce(t.community, '') AND coalesce(v.grid, '') = coalesce(t.grid, '')
    GROUP BY t.level, t.community, t.grid
)
SELECT t.*, gr.name AS grid_name, co.name AS community_name,
       kj.counts AS key_persons_by_category, pj.counts AS poverty_by_status
FROM totals t
JOIN key_json kj ON kj.level = t.level
     AND coalesce(kj.community, '') = coalesce(t.community, '') AND coalesce(kj.grid, '') = coalesce(t.grid, '')
JOIN poverty_json pj ON pj.level = t.level
     AND coalesce(pj.community, '') = coalesce(t.community, '') AND coalesce(pj.grid, '') = coalesce(t.grid, '')
LEFT JOIN grid gr ON gr.code = t.grid
LEFT JOIN community co ON co.code = t.community
-- Households outside every grid have no grid and no community: they count only in "all".
WHERE NOT (t.level = 0 AND t.grid IS NULL) AND NOT (t.level = 1 AND t.community IS NULL)
ORDER BY t.level DESC, t.community, t.grid
