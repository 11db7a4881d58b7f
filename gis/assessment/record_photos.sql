-- The records' own photos as evidence of the communities under %(area)s (a district, street or
-- community code) in a quarter (%(start)s..%(end)s, days in China): nobody uploads them twice. Each
-- record counts in exactly one community: the one its place lies in (a duty's post or section, a
-- shop's frontage, a compound, an inspected place), the lowest code when the point is on the border
-- of two (as facility_place() and gis/compounds/placed.sql decide), or the community its row names
-- (a facility, a report's area, a visited household's grid). Each is dated by its own day. Runs as the
-- caller: each record's row-level security decides which photos are listed, as on the record's pages.
WITH box AS (SELECT ST_Extent(geom)::geometry AS b FROM community WHERE starts_with(code, %(area)s)),
photo AS (
    SELECT 'duty_record' AS record_kind, r.id AS record_id, p.sha256, p.file_name, r.duty_day AS day,
           ST_PointOnSurface(coalesce(d.post, s.geom)) AS at, NULL::text AS code
    FROM duty_record_photo p
    JOIN duty_record r ON r.id = p.record_id
    JOIN duty d ON d.id = r.duty_id
    LEFT JOIN road_section s ON s.id = d.section_id
    WHERE r.duty_day BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'frontage_check', k.id, p.sha256, p.file_name, k.checked_on, ST_PointOnSurface(a.geom), NULL
    FROM frontage_check_photo p
    JOIN frontage_check k ON k.id = p.check_id
    JOIN frontage_agreement a ON a.id = k.agreement_id
    WHERE k.checked_on BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'compound_task', t.id, p.sha256, p.file_name, t.done_on, ST_PointOnSurface(k.geom), NULL
    FROM compound_task_photo p
    JOIN compound_task t ON t.id = p.task_id
    JOIN compound k ON k.id = t.compound_id
    WHERE t.done_on BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'facility_session', s.id, p.sha256, p.file_name, s.held_on, NULL, f.community_code
    FROM facility_session_photo p
    JOIN facility_session s ON s.id = p.session_id
    JOIN facility f ON f.id = s.facility_id
    WHERE starts_with(f.community_code, %(area)s) AND s.held_on BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'report', r.id, p.sha256, p.file_name, r.report_day, NULL, r.area_code
    FROM report_photo p
    JOIN report r ON r.id = p.report_id
    WHERE starts_with(r.area_code, %(area)s) AND r.report_day BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'inspection', i.id, p.sha256, p.file_name, (i.inspected_at AT TIME ZONE 'Asia/Shanghai')::date,
           pl.geom, NULL
    FROM inspection_photo p
    JOIN inspection i ON i.id = p.inspection_id
    JOIN place pl ON pl.id = i.place_id
    WHERE (i.inspected_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'visit', v.id, p.sha256, p.file_name, (v.visited_at AT TIME ZONE 'Asia/Shanghai')::date, NULL,
           g.community_code
    FROM visit_photo p
    JOIN visit v ON v.id = p.visit_id
    JOIN household h ON h.id = v.household_id
    JOIN grid g ON g.code = h.grid_code
    WHERE starts_with(g.community_code, %(area)s)
      AND v.visited_at >= (%(start)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
      AND v.visited_at < (%(end)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
),
placed AS (  -- a point on a shared edge lies in both polygons: the lowest code takes it
    SELECT ph.*, coalesce(ph.code, (SELECT c.code FROM community c WHERE ST_Intersects(c.geom, ph.at)
                                    ORDER BY c.code LIMIT 1)) AS community_code
    FROM photo ph CROSS JOIN box
    WHERE ph.code IS NOT NULL OR ph.at && box.b
)
SELECT ph.community_code, ph.record_kind, ph.record_id, ph.sha256, ph.file_name, ph.day, m.mime, m.bytes
FROM placed ph JOIN media m ON m.sha256 = ph.sha256
WHERE starts_with(ph.community_code, %(area)s)
ORDER BY ph.community_code, ph.record_kind, ph.record_id, ph.sha256
