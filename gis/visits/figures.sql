-- Visit figures per grid of an area, for the days %(start)s..%(end)s (in China): visits, households
-- visited, visits flagged far, households, and households overdue on %(end)s (the overdue list's own
-- query, so a grid's figure is exactly the length of its list). Grids the caller reads only.
WITH od AS (
/*overdue*/
), vis AS (
    SELECT v.household_id, v.far, h.grid_code
    FROM visit v JOIN household h ON h.id = v.household_id
    WHERE v.visited_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
      AND v.visited_at < (%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s
      AND (%(grid)s::text IS NULL OR h.grid_code = %(grid)s)
      AND (%(community)s::text IS NULL
           OR h.grid_code IN (SELECT g.code FROM grid g WHERE g.community_code = %(community)s))
), grids AS (
    SELECT g.code, g.name, g.community_code
    FROM grid g
    WHERE (%(grid)s::text IS NULL OR g.code = %(grid)s)
      AND (%(community)s::text IS NULL OR g.community_code = %(community)s)
      AND ((SELECT access_caller_sees_all()) OR (SELECT access_all('{admin,grid_worker}'))
           OR g.code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[]))
)
SELECT g.code AS grid_code, g.name, g.community_code,
       (SELECT count(*) FROM household h WHERE h.grid_code = g.code) AS households,
       coalesce(v.visits, 0) AS visits, coalesce(v.households_visited, 0) AS households_visited,
       coalesce(v.far_visits, 0) AS far_visits, coalesce(o.overdue, 0) AS overdue
FROM grids g
LEFT JOIN (SELECT grid_code, count(*) AS visits, count(DISTINCT household_id) AS households_visited,
                  count(*) FILTER (WHERE far) AS far_visits
           FROM vis GROUP BY grid_code) v ON v.grid_code = g.code
LEFT JOIN (SELECT grid_code, count(*) AS overdue FROM od GROUP BY grid_code) o ON o.grid_code = g.code
ORDER BY g.code;

-- Visit figures per worker: the visits each user recorded in the area and period (visits, households
-- visited, far), and for the grid workers of the area's grids the households overdue in the grids they
-- serve. A visitor who holds no grid there (an admin who visited) has no overdue figure.
WITH od AS (
/*overdue*/
), vis AS (
    SELECT v.household_id, v.far, v.visitor_id, v.visitor
    FROM visit v JOIN household h ON h.id = v.household_id
    WHERE v.visited_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
      AND v.visited_at < (%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s
      AND (%(grid)s::text IS NULL OR h.grid_code = %(grid)s)
      AND (%(community)s::text IS NULL
           OR h.grid_code IN (SELECT g.code FROM grid g WHERE g.community_code = %(community)s))
), served AS (
    SELECT w.user_id, w.username, array_agg(w.grid_code ORDER BY w.grid_code) AS grids,
           sum(coalesce(o.n, 0))::bigint AS overdue
    FROM visit_grid_workers(coalesce(%(grid)s, %(community)s, '')) w
    LEFT JOIN (SELECT grid_code, count(*) AS n FROM od GROUP BY grid_code) o ON o.grid_code = w.grid_code
    WHERE (%(grid)s::text IS NULL OR w.grid_code = %(grid)s)
    GROUP BY w.user_id, w.username
), done AS (
    SELECT visitor_id, min(visitor) AS visitor, count(*) AS visits,
           count(DISTINCT household_id) AS households_visited, count(*) FILTER (WHERE far) AS far_visits
    FROM vis GROUP BY visitor_id
)
SELECT coalesce(d.visitor_id, s.user_id) AS user_id, coalesce(d.visitor, s.username) AS username,
       coalesce(s.grids, '{}') AS grids, coalesce(d.visits, 0) AS visits,
       coalesce(d.households_visited, 0) AS households_visited, coalesce(d.far_visits, 0) AS far_visits,
       s.overdue
FROM done d FULL JOIN served s ON s.user_id = d.visitor_id
ORDER BY 2
