-- The live figures of every community under %(area)s (a district, street or community code) for a
-- quarter: one row per community, one column per figure of gis/assessment/figures.py. Each column is
-- computed exactly as the JSON endpoint named for it there computes its figure, over the same tables
-- and under the same row-level security (the statement runs as the caller), so that a filled value
-- equals what the endpoint answers the same user the same day. Set-based: the gap report of a street
-- is this one statement, not one per community.
-- %(start)s: the quarter's first day; %(on)s: the day measured (the quarter's last day, or today if
-- earlier); %(today)s: today in China (the reports' overdue flags); %(year)s: the quarter's year.
-- (Braces are doubled: the text is a psycopg.sql template.) Two figures are the other capabilities' own statements, run here unchanged rather than copied
-- (figures.py composes them in): road_coverage is gis/roads/coverage.sql (GET /roads/coverage)
-- and perimeter_check is gis/perimeter/check.sql (GET /perimeter/violations); their parameters
-- (%(community)s: NULL, or the one community asked for, which narrows both to it as their endpoints
-- do; %(snap)s, %(srid)s, %(school)s, %(grid)s, %(place)s) are bound by figures.py.
WITH area AS (
    SELECT code, geom FROM community WHERE starts_with(code, %(area)s)
),
placed AS (  -- GET /compounds/coverage?level=community&on=… (gis/compounds/placed.sql): lowest code
    SELECT (SELECT c.code FROM community c WHERE ST_Intersects(c.geom, ST_PointOnSurface(k.geom))
            ORDER BY c.code LIMIT 1) AS community_code,
           h.id AS helper_id
    FROM compound k
    LEFT JOIN compound_helper h ON h.compound_id = k.id AND h.valid @> %(on)s::date
    WHERE k.geom && (SELECT ST_Extent(geom) FROM area)
),
compounds AS (
    SELECT community_code AS code, count(*)::int AS compounds, count(helper_id)::int AS helped
    FROM placed GROUP BY community_code
),
facilities AS (  -- GET /facilities?area=…&kind=…&active=true: total
    SELECT f.community_code AS code,
           count(*) FILTER (WHERE f.kind = 'moral_lecture_hall')::int AS moral_lecture_halls,
           count(*) FILTER (WHERE f.kind = 'volunteer_station')::int AS volunteer_stations
    FROM facility f WHERE starts_with(f.community_code, %(area)s) AND f.active
    GROUP BY f.community_code
),
teams AS (  -- GET /volunteers/teams?area=…: the rows of the community's own teams (scope = the code)
    SELECT t.scope AS code,
           coalesce(sum((SELECT coalesce(sum(h.hours), 0) FROM volunteer_hours h WHERE h.team_id = t.id)), 0)
               AS volunteer_hours,
           coalesce(sum((SELECT count(*) FROM volunteer_member m
                         WHERE m.team_id = t.id AND m.left_on IS NULL)), 0)::int AS active_volunteers
    FROM volunteer_team t WHERE t.scope IN (SELECT code FROM area)
    GROUP BY t.scope
),
honours AS (  -- GET /honours/participation?area=…&year=…: the community's row
    SELECT s.community_code AS code, round(s.taking_part::numeric / nullif(s.households, 0), 3) AS share
    FROM honour_participation_share(%(area)s, %(year)s) s
),
grids AS (  -- GET /visits/figures?community=…&from=…&to=…: the grids the caller reads
    SELECT g.code, g.community_code FROM grid g
    WHERE g.community_code IN (SELECT code FROM area)
      AND ((SELECT access_caller_sees_all()) OR (SELECT access_all('{{admin,grid_worker}}'))
           OR g.code = ANY ((SELECT access_grids('{{admin,grid_worker}}'))::text[]))
),
visits AS (  -- its total: visits and households visited (a household lies in one grid)
    SELECT g.community_code AS code, count(*)::int AS visits,
           count(DISTINCT v.household_id)::int AS households_visited
    FROM visit v JOIN household h ON h.id = v.household_id JOIN grids g ON g.code = h.grid_code
    WHERE v.visited_at >= (%(start)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
      AND v.visited_at < (%(on)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
    GROUP BY g.community_code
),
reports AS (  -- GET /reports?community=… with from/to, state or overdue: total
    SELECT r.area_code AS code,
           count(*) FILTER (WHERE in_quarter)::int AS reports_filed,
           count(*) FILTER (WHERE in_quarter AND r.state = 'closed')::int AS reports_closed,
           count(*) FILTER (WHERE (r.state = 'new' AND %(today)s::date > r.accept_by)
                               OR (r.state IN ('accepted', 'dispatched', 'returned', 'signed')
                                   AND %(today)s::date > r.handle_by))::int AS reports_overdue
    FROM report r
    CROSS JOIN LATERAL (SELECT r.reported_at >= (%(start)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
                           AND r.reported_at < (%(on)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
                        AS in_quarter) q
    WHERE starts_with(r.area_code, %(area)s)
    GROUP BY r.area_code
),
road_coverage AS (  -- GET /roads/coverage?on=…: the community's row, assigned_pct (no row: no figure)
    {road_coverage}
),
roads AS (
    SELECT key AS code, assigned_pct AS road_coverage_pct FROM road_coverage
    WHERE level = 'community' AND key IN (SELECT code FROM area)
),
perimeter_check AS (  -- GET /perimeter/violations?community=…&date=…: the places breaking a rule
    {perimeter_check}
),
perimeter AS (  -- listed under every community its place intersects, as the endpoint's filter does
    SELECT a.code, count(*)::int AS perimeter_violations
    FROM perimeter_check v JOIN place p ON p.id = v.place_id JOIN area a ON ST_Intersects(a.geom, p.geom)
    GROUP BY a.code
)
SELECT a.code,
       coalesce(c.helped, 0) AS compounds_helped, coalesce(c.compounds, 0) AS compounds,
       coalesce(f.moral_lecture_halls, 0) AS moral_lecture_halls,
       coalesce(f.volunteer_stations, 0) AS volunteer_stations,
       coalesce(t.volunteer_hours, 0) AS volunteer_hours, coalesce(t.active_volunteers, 0) AS active_volunteers,
       ho.share AS honour_participation_share,
       coalesce(v.households_visited, 0) AS households_visited, coalesce(v.visits, 0) AS visits,
       coalesce(r.reports_filed, 0) AS reports_filed, coalesce(r.reports_closed, 0) AS reports_closed,
       coalesce(r.reports_overdue, 0) AS reports_overdue,
       ro.road_coverage_pct, coalesce(pv.perimeter_violations, 0) AS perimeter_violations
FROM area a
LEFT JOIN compounds c ON c.code = a.code
LEFT JOIN facilities f ON f.code = a.code
LEFT JOIN teams t ON t.code = a.code
LEFT JOIN honours ho ON ho.code = a.code
LEFT JOIN visits v ON v.code = a.code
LEFT JOIN reports r ON r.code = a.code
LEFT JOIN roads ro ON ro.code = a.code
LEFT JOIN perimeter pv ON pv.code = a.code
ORDER BY a.code
