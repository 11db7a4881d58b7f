-- The live figures of one community (%(community)s) for a quarter: one row, one column per figure of
-- gis/assessment/figures.py. Each column is computed exactly as the JSON endpoint named for it there
-- computes its figure, over the same tables and under the same row-level security (the statement runs
-- as the caller), so that a filled value equals what the endpoint answers the same user the same day.
-- %(start)s: the quarter's first day; %(on)s: the day measured (the quarter's last day, or today if
-- earlier); %(today)s: today in China (the reports' overdue flags); %(year)s: the quarter's year.
WITH placed AS (  -- GET /compounds/coverage?level=community&on=… (gis/compounds/placed.sql)
    SELECT k.id,
           (SELECT c.code FROM community c WHERE ST_Intersects(c.geom, ST_PointOnSurface(k.geom))
            ORDER BY c.code LIMIT 1) AS community_code,
           h.id AS helper_id
    FROM compound k
    LEFT JOIN compound_helper h ON h.compound_id = k.id AND h.valid @> %(on)s::date
),
compounds AS (
    SELECT count(*)::int AS compounds, count(helper_id)::int AS helped
    FROM placed WHERE community_code = %(community)s
),
facilities AS (  -- GET /facilities?area=…&kind=…&active=true: total
    SELECT count(*) FILTER (WHERE f.kind = 'moral_lecture_hall')::int AS moral_lecture_halls,
           count(*) FILTER (WHERE f.kind = 'volunteer_station')::int AS volunteer_stations
    FROM facility f WHERE starts_with(f.community_code, %(community)s) AND f.active
),
teams AS (  -- GET /volunteers/teams?area=…: the rows of the community's own teams (scope = the code)
    SELECT coalesce(sum((SELECT coalesce(sum(h.hours), 0) FROM volunteer_hours h WHERE h.team_id = t.id)), 0)
               AS volunteer_hours,
           coalesce(sum((SELECT count(*) FROM volunteer_member m
                         WHERE m.team_id = t.id AND m.left_on IS NULL)), 0)::int AS active_volunteers
    FROM volunteer_team t WHERE t.scope = %(community)s
),
honours AS (  -- GET /honours/participation?area=…&year=…: the community's row
    SELECT round(s.taking_part::numeric / nullif(s.households, 0), 3) AS share
    FROM honour_participation_share(%(community)s, %(year)s) s WHERE s.community_code = %(community)s
),
grids AS (  -- GET /visits/figures?community=…&from=…&to=…: the grids the caller reads
    SELECT g.code FROM grid g
    WHERE g.community_code = %(community)s
      AND ((SELECT access_caller_sees_all()) OR (SELECT access_all('{admin,grid_worker}'))
           OR g.code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[]))
),
visits AS (  -- its total: visits and households visited (a household lies in one grid)
    SELECT count(*)::int AS visits, count(DISTINCT v.household_id)::int AS households_visited
    FROM visit v JOIN household h ON h.id = v.household_id
    WHERE h.grid_code IN (SELECT code FROM grids)
      AND v.visited_at >= (%(start)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
      AND v.visited_at < (%(on)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
),
reports AS (  -- GET /reports?community=… with from/to, state or overdue: total
    SELECT count(*) FILTER (WHERE in_quarter)::int AS reports_filed,
           count(*) FILTER (WHERE in_quarter AND r.state = 'closed')::int AS reports_closed,
           count(*) FILTER (WHERE (r.state = 'new' AND %(today)s::date > r.accept_by)
                               OR (r.state IN ('accepted', 'dispatched', 'returned', 'signed')
                                   AND %(today)s::date > r.handle_by))::int AS reports_overdue
    FROM report r
    CROSS JOIN LATERAL (SELECT r.reported_at >= (%(start)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
                           AND r.reported_at < (%(on)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
                        AS in_quarter) q
    WHERE r.area_code = %(community)s
)
SELECT c.helped AS compounds_helped, c.compounds,
       f.moral_lecture_halls, f.volunteer_stations,
       t.volunteer_hours, t.active_volunteers,
       (SELECT share FROM honours) AS honour_participation_share,
       v.households_visited, v.visits,
       r.reports_filed, r.reports_closed, r.reports_overdue
FROM compounds c, facilities f, teams t, visits v, reports r
