-- The records' own photos as evidence of a community (%(community)s) in a quarter (%(start)s..%(end)s,
-- days in China): nobody uploads them twice. Each record is placed in the community its place lies in
-- (a duty's post or section, a shop's frontage, a compound, a facility, a report's area, an inspected
-- place, a visited household's grid) and dated by its own day. Runs as the caller: each record's
-- row-level security decides which photos are listed, as on the record's own pages.
WITH c AS (SELECT code, geom FROM community WHERE code = %(community)s),
photo AS (
    SELECT 'duty_record' AS record_kind, r.id AS record_id, p.sha256, p.file_name, r.duty_day AS day
    FROM duty_record_photo p
    JOIN duty_record r ON r.id = p.record_id
    JOIN duty d ON d.id = r.duty_id
    LEFT JOIN road_section s ON s.id = d.section_id
    JOIN c ON ST_Intersects(c.geom, ST_PointOnSurface(coalesce(d.post, s.geom)))
    WHERE r.duty_day BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'frontage_check', k.id, p.sha256, p.file_name, k.checked_on
    FROM frontage_check_photo p
    JOIN frontage_check k ON k.id = p.check_id
    JOIN frontage_agreement a ON a.id = k.agreement_id
    JOIN c ON ST_Intersects(c.geom, a.geom)
    WHERE k.checked_on BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'compound_task', t.id, p.sha256, p.file_name, t.done_on
    FROM compound_task_photo p
    JOIN compound_task t ON t.id = p.task_id
    JOIN compound k ON k.id = t.compound_id
    JOIN c ON ST_Intersects(c.geom, ST_PointOnSurface(k.geom))
    WHERE t.done_on BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'facility_session', s.id, p.sha256, p.file_name, s.held_on
    FROM facility_session_photo p
    JOIN facility_session s ON s.id = p.session_id
    JOIN facility f ON f.id = s.facility_id
    WHERE f.community_code = %(community)s AND s.held_on BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'report', r.id, p.sha256, p.file_name, r.report_day
    FROM report_photo p
    JOIN report r ON r.id = p.report_id
    WHERE r.area_code = %(community)s AND r.report_day BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'inspection', i.id, p.sha256, p.file_name, (i.inspected_at AT TIME ZONE 'Asia/Shanghai')::date
    FROM inspection_photo p
    JOIN inspection i ON i.id = p.inspection_id
    JOIN place pl ON pl.id = i.place_id
    JOIN c ON ST_Intersects(c.geom, pl.geom)
    WHERE (i.inspected_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT 'visit', v.id, p.sha256, p.file_name, (v.visited_at AT TIME ZONE 'Asia/Shanghai')::date
    FROM visit_photo p
    JOIN visit v ON v.id = p.visit_id
    JOIN household h ON h.id = v.household_id
    JOIN grid g ON g.code = h.grid_code
    WHERE g.community_code = %(community)s
      AND v.visited_at >= (%(start)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
      AND v.visited_at < (%(end)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
)
SELECT ph.record_kind, ph.record_id, ph.sha256, ph.file_name, ph.day, m.mime, m.bytes
FROM photo ph JOIN media m ON m.sha256 = ph.sha256
ORDER BY ph.record_kind, ph.record_id, ph.sha256
