-- 四清 statistics per grid, per community and for everything, in one pass over the register.
-- GROUPING(community, grid): 0 = a grid, 1 = a community, 3 = all. Vocabularies (key-person
-- categories, poverty statuses) are data, so their counts are aggregated per row as JSON objects
-- with a zero for every category. Parameters: %(community)s, %(grid)s (NULL = no filter).
WITH p AS (
    SELECT g.community_code AS community, g.code AS grid, h.id AS household_id, h.placement,
           pe.id AS person_id, pe.residence, pe.employment, pe.poverty, k.category AS key_category,
           pe.elderly_alone, pe.disabled, pe.activist, pe.volunteer
    FROM grid g
    FULL JOIN household h ON h.grid_code = g.code
    LEFT JOIN person pe ON pe.household_id = h.id
    LEFT JOIN key_person k ON k.person_id = pe.id
    WHERE (%(community)s::text IS NULL OR g.community_code = %(community)s)
      AND (%(grid)s::text IS NULL OR g.code = %(grid)s)
),
totals AS (
    SELECT community, grid, GROUPING(community, grid) AS level,
           count(DISTINCT household_id) AS households,
           count(DISTINCT household_id) FILTER (WHERE placement = 'border') AS border_households,
           count(DISTINCT household_id) FILTER (WHERE grid IS NULL) AS outside_households,
           count(person_id) AS persons,
           count(person_id) FILTER (WHERE residence = 'registered') AS registered,
           count(person_id) FILTER (WHERE residence = 'floating') AS floating,
           count(person_id) FILTER (WHERE employment = 'employed') AS employed,
           count(person_id) FILTER (WHERE employment = 'unemployed') AS unemployed,
           count(person_id) FILTER (WHERE employment = 'retired') AS retired,
           count(person_id) FILTER (WHERE employment = 'student') AS student,
           count(person_id) FILTER (WHERE employment = 'preschool') AS preschool,
           count(person_id) FILTER (WHERE employment = 'other') AS other,
           count(person_id) FILTER (WHERE employment IS NULL) AS unknown,
           count(person_id) FILTER (WHERE key_category IS NOT NULL) AS key_persons,
           count(person_id) FILTER (WHERE poverty IS NOT NULL) AS poverty_persons,
           count(DISTINCT household_id) FILTER (WHERE poverty IS NOT NULL) AS poverty_households,
           count(person_id) FILTER (WHERE elderly_alone) AS elderly_alone,
           count(person_id) FILTER (WHERE disabled) AS disabled,
           count(person_id) FILTER (WHERE activist) AS activists,
           count(person_id) FILTER (WHERE volunteer) AS volunteers
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
)
SELECT t.*, gr.name AS grid_name, co.name AS community_name,
       (SELECT jsonb_object_agg(c.code, coalesce(k.n, 0))
        FROM key_person_category c
        LEFT JOIN key_counts k ON k.key_category = c.code AND k.level = t.level
             AND k.community IS NOT DISTINCT FROM t.community AND k.grid IS NOT DISTINCT FROM t.grid
       ) AS key_persons_by_category,
       (SELECT jsonb_object_agg(s.code, jsonb_build_object('persons', coalesce(v.persons, 0),
                                                           'households', coalesce(v.households, 0)))
        FROM poverty_status s
        LEFT JOIN poverty_counts v ON v.poverty = s.code AND v.level = t.level
             AND v.community IS NOT DISTINCT FROM t.community AND v.grid IS NOT DISTINCT FROM t.grid
       ) AS poverty_by_status
FROM totals t
LEFT JOIN grid gr ON gr.code = t.grid
LEFT JOIN community co ON co.code = t.community
-- Households outside every grid have no grid and no community: they count only in "all".
WHERE NOT (t.level = 0 AND t.grid IS NULL) AND NOT (t.level = 1 AND t.community IS NULL)
ORDER BY t.level DESC, t.community, t.grid
