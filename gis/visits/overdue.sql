-- The households of an area whose last visit that counts (an outcome that resets the clock) lies
-- further back than their policy's interval on the day %(on)s (in China), or that were never visited.
-- A household's interval is the strictest group any member belongs to (a key person's category,
-- elderly living alone, a poor household), every household at least the 'household' group's.
-- Run as the caller: row-level security keeps it to the households (and key persons) she reads.
WITH hh AS MATERIALIZED (
    SELECT h.id, h.ref, h.address, h.building, h.unit, h.room, h.grid_code
    FROM household h
    WHERE (%(grid)s::text IS NULL OR h.grid_code = %(grid)s)
      AND (%(community)s::text IS NULL
           OR h.grid_code IN (SELECT g.code FROM grid g WHERE g.community_code = %(community)s))
), groups AS (
    SELECT p.household_id, vp.group_code, vp.interval_days
    FROM hh JOIN person p ON p.household_id = hh.id
    JOIN key_person k ON k.person_id = p.id
    JOIN visit_policy vp ON vp.key_category = k.category
    UNION ALL
    SELECT p.household_id, vp.group_code, vp.interval_days
    FROM hh JOIN person p ON p.household_id = hh.id AND p.elderly_alone
    JOIN visit_policy vp ON vp.kind = 'elderly_alone'
    UNION ALL
    SELECT p.household_id, vp.group_code, vp.interval_days
    FROM hh JOIN person p ON p.household_id = hh.id AND p.poverty IS NOT NULL
    JOIN visit_policy vp ON vp.kind = 'poverty'
    UNION ALL
    SELECT hh.id, vp.group_code, vp.interval_days
    FROM hh JOIN visit_policy vp ON vp.kind = 'household'
), strictest AS (
    SELECT DISTINCT ON (household_id) household_id, group_code, interval_days
    FROM groups ORDER BY household_id, interval_days, group_code
), last AS (
    SELECT v.household_id, max(v.visited_at) AS last_visit_at
    FROM visit v JOIN hh ON hh.id = v.household_id
    JOIN visit_outcome o ON o.code = v.outcome AND o.resets_clock
    WHERE v.visited_at < (%(on)s::date + 1)::timestamp AT TIME ZONE %(tz)s
    GROUP BY v.household_id
), judged AS (
    SELECT hh.*, s.group_code, s.interval_days, l.last_visit_at,
           %(on)s::date - (l.last_visit_at AT TIME ZONE %(tz)s)::date AS days_since
    FROM hh JOIN strictest s ON s.household_id = hh.id
    LEFT JOIN last l ON l.household_id = hh.id
)
SELECT j.id AS household_id, j.ref, j.address, j.building, j.unit, j.room, j.grid_code,
       j.group_code, vp.name_zh AS group_zh, j.interval_days, j.last_visit_at, j.days_since,
       CASE WHEN j.days_since IS NULL THEN NULL ELSE j.days_since - j.interval_days END AS days_overdue
FROM judged j JOIN visit_policy vp ON vp.group_code = j.group_code
WHERE j.days_since IS NULL OR j.days_since > j.interval_days
ORDER BY j.days_since IS NOT NULL, j.days_since - j.interval_days DESC, j.id
