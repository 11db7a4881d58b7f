-- Children take over their parent's current and future assignments from today; the parent's
-- history ends yesterday; a parent left without any history is deleted.
WITH child AS (
    SELECT id, parent_id FROM road_section WHERE id = ANY(%(new_ids)s) AND parent_id IS NOT NULL
),
moved AS (
    INSERT INTO road_section_assignment (section_id, unit_id, valid, duty_day, note)
    SELECT child.id, a.unit_id, a.valid * daterange(current_date, NULL), a.duty_day, a.note
    FROM child JOIN road_section_assignment a ON a.section_id = child.parent_id
    WHERE upper_inf(a.valid) OR upper(a.valid) > current_date
    RETURNING section_id
),
capped AS (
    UPDATE road_section_assignment a SET valid = daterange(lower(a.valid), current_date)
    WHERE a.section_id IN (SELECT parent_id FROM child) AND lower(a.valid) < current_date
      AND (upper_inf(a.valid) OR upper(a.valid) > current_date)
    RETURNING a.id
)
DELETE FROM road_section_assignment a
WHERE a.section_id IN (SELECT parent_id FROM child) AND lower(a.valid) >= current_date
