-- 四清 statistics per grid, per community and for everything, in one statement.
-- GROUPING(community, grid): 0 = a grid, 1 = a community, 3 = all. Households and persons are
-- counted in separate passes (so no count(DISTINCT) over person rows), then joined per group on
-- hashable keys. Vocabularies (key-person categories, poverty statuses) are data: their counts come
-- as JSON objects with a zero for every category. The scope's area condition is gis.areas.by_grid_code
-- on the grid's code, filled in by stats.py: parameters %(community)s, %(grid)s (NULL = all).
WITH scope AS (
    SELECT g.community_code AS community, g.code AS grid, h.id AS household_id, h.placement
    FROM grid g
    FULL JOIN household h ON h.grid_code = g.code
    WHERE {area}
),
p AS (
    SELECT s.community, s.grid, s.household_id, pe.residence, pe.employment, pe.poverty,
           k.category AS key_category, pe.elderly_alone, pe.disabled, pe.activist, pe.volunteer
    FROM scope s
    JOIN person pe ON pe.household_id = s.household_id
    LEFT JOIN key_person k ON k.person_id = pe.id
),
poor AS (SELECT DISTINCT household_id FROM person WHERE poverty IS NOT NULL),
household_totals AS (
    SELECT s.community, s.grid, GROUPING(s.community, s.grid) AS level,
           count(s.household_id) AS households,
           count(*) FILTER (WHERE s.placement = 'border') AS border_households,
           count(s.household_id) FILTER (WHERE s.grid IS NULL) AS outside_households,
           count(poor.household_id) AS poverty_households
    FROM scope s LEFT JOIN poor ON poor.household_id = s.household_id
    GROUP BY GROUPING SETS ((s.community, s.grid), (s.community), ())
),
person_totals AS (
    SELECT community, grid, GROUPING(community, grid) AS level,
           count(*) AS persons,
           count(*) FILTER (WHERE residence = 'registered') AS registered,
           count(*) FILTER (WHERE residence = 'floating') AS floating,
           count(*) FILTER (WHERE employment = 'employed') AS employed,
           count(*) FILTER (WHERE employment = 'unemployed') AS unemployed,
           count(*) FILTER (WHERE employment = 'retired') AS retired,
           count(*) FILTER (WHERE employment = 'student') AS student,
           count(*) FILTER (WHERE employment = 'preschool') AS preschool,
           count(*) FILTER (WHERE employment = 'other') AS other,
           count(*) FILTER (WHERE employment IS NULL) AS unknown,
           count(*) FILTER (WHERE key_category IS NOT NULL) AS key_persons,
           count(*) FILTER (WHERE poverty IS NOT NULL) AS poverty_persons,
           count(*) FILTER (WHERE elderly_alone) AS elderly_alone,
           count(*) FILTER (WHERE disabled) AS disabled,
           count(*) FILTER (WHERE activist) AS activists,
           count(*) FILTER (WHERE volunteer) AS volunteers
    FROM p
    GROUP BY GROUPING SETS ((community, grid), (community), ())
),
key_counts AS (
    SELECT community, grid, GROUPING(community, grid) AS level, key_category, count(*) AS n
    FROM p WHERE key_category IS NOT NULL
    GROUP BY GROUPING SETS ((community, grid, key_category), (community, key_category), (key_category))
),
poverty_counts AS (
    SELECT community, grid, GROUPING(community, grid) AS level, poverty,
           count(*) AS persons, count(DISTINCT household_id) AS households
    FROM p WHERE poverty IS NOT NULL
    GROUP BY GROUPING SETS ((community, grid, poverty), (community, poverty), (poverty))
),
key_json AS (
    SELECT t.level, t.community, t.grid, jsonb_object_agg(c.code, coalesce(k.n, 0)) AS counts
    FROM household_totals t
    CROSS JOIN key_person_category c
    LEFT JOIN key_counts k ON k.level = t.level AND k.key_category = c.code
         AND coalesce(k.community, '') = coalesce(t.community, '') AND coalesce(k.grid, '') = coalesce(t.grid, '')
    GROUP BY t.level, t.community, t.grid
),
poverty_json AS (
    SELECT t.level, t.community, t.grid,
           jsonb_object_agg(s.code, jsonb_build_object('persons', coalesce(v.persons, 0),
                                                       'households', coalesce(v.households, 0))) AS counts
    FROM household_totals t
    CROSS JOIN poverty_status s
    LEFT JOIN poverty_counts v ON v.level = t.level AND v.poverty = s.code
         AND coalesce(v.community, '') = coalesce(t.community, '') AND coalesce(v.grid, '') = coalesce(t.grid, '')
    GROUP BY t.level, t.community, t.grid
)
SELECT h.community, h.grid, h.level, gr.name AS grid_name, co.name AS community_name,
       h.households, h.border_households, h.outside_households, h.poverty_households,
       coalesce(pt.persons, 0) AS persons, coalesce(pt.registered, 0) AS registered,
       coalesce(pt.floating, 0) AS floating, coalesce(pt.employed, 0) AS employed,
       coalesce(pt.unemployed, 0) AS unemployed, coalesce(pt.retired, 0) AS retired,
       coalesce(pt.student, 0) AS student, coalesce(pt.preschool, 0) AS preschool,
       coalesce(pt.other, 0) AS other, coalesce(pt.unknown, 0) AS unknown,
       coalesce(pt.key_persons, 0) AS key_persons, coalesce(pt.poverty_persons, 0) AS poverty_persons,
       coalesce(pt.elderly_alone, 0) AS elderly_alone, coalesce(pt.disabled, 0) AS disabled,
       coalesce(pt.activists, 0) AS activists, coalesce(pt.volunteers, 0) AS volunteers,
       kj.counts AS key_persons_by_category, pj.counts AS poverty_by_status
FROM household_totals h
LEFT JOIN person_totals pt ON pt.level = h.level
     AND coalesce(pt.community, '') = coalesce(h.community, '') AND coalesce(pt.grid, '') = coalesce(h.grid, '')
JOIN key_json kj ON kj.level = h.level
     AND coalesce(kj.community, '') = coalesce(h.community, '') AND coalesce(kj.grid, '') = coalesce(h.grid, '')
JOIN poverty_json pj ON pj.level = h.level
     AND coalesce(pj.community, '') = coalesce(h.community, '') AND coalesce(pj.grid, '') = coalesce(h.grid, '')
LEFT JOIN grid gr ON gr.code = h.grid
LEFT JOIN community co ON co.code = h.community
-- Households outside every grid have no grid and no community: they count only in "all".
WHERE NOT (h.level = 0 AND h.grid IS NULL) AND NOT (h.level = 1 AND h.community IS NULL)
ORDER BY h.level DESC, h.community, h.grid
