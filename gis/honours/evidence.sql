-- The closed violations of the places in a list's area (%(scope)s: its street or community), newest
-- first. A place has no area of its own: it lies in the community its point intersects (the lowest code
-- on a border, so that a place on the line between two streets belongs to one list area only). One
-- statement: each closed violation's place looked up once through the community polygons' GiST index.
SELECT v.id, p.name, v.found_on, v.reason
FROM violation v
JOIN place p ON p.id = v.place_id
CROSS JOIN LATERAL (SELECT c.code FROM community c WHERE ST_Intersects(c.geom, p.geom)
                    ORDER BY c.code LIMIT 1) a
WHERE v.status = 'closed' AND starts_with(a.code, %(scope)s)
ORDER BY v.updated_at DESC, v.id DESC
LIMIT %(limit)s;

-- The inspections that found a violation at the places of the area, newest first (the same rule).
SELECT i.id, p.name, i.inspected_at, i.result
FROM inspection i
JOIN place p ON p.id = i.place_id
CROSS JOIN LATERAL (SELECT c.code FROM community c WHERE ST_Intersects(c.geom, p.geom)
                    ORDER BY c.code LIMIT 1) a
WHERE i.result IN ('violation', 'rectified', 'closed_down') AND starts_with(a.code, %(scope)s)
ORDER BY i.inspected_at DESC, i.id DESC
LIMIT %(limit)s;

-- Of the evidence a black entry names, the fields whose record lies outside the list's area: a violation
-- or inspection whose place lies in no community of the area, a report of another area.
WITH named (field, place_id, area_code) AS (
    SELECT 'violation_id', v.place_id, NULL::text FROM violation v WHERE v.id = %(violation_id)s
    UNION ALL
    SELECT 'inspection_id', i.place_id, NULL FROM inspection i WHERE i.id = %(inspection_id)s
    UNION ALL
    SELECT 'report_id', NULL, r.area_code FROM report r WHERE r.id = %(report_id)s
)
SELECT n.field
FROM named n
LEFT JOIN place p ON p.id = n.place_id
LEFT JOIN LATERAL (SELECT c.code FROM community c WHERE ST_Intersects(c.geom, p.geom)
                   ORDER BY c.code LIMIT 1) a ON p.id IS NOT NULL
WHERE NOT coalesce(starts_with(coalesce(a.code, n.area_code), %(scope)s), false)
ORDER BY n.field
