-- Replace every source that was cut (or a bare road) by its pieces: new sections with codes that
-- extend the parent's, current and future assignments moving to the children, the parent retired
-- when it keeps some history and deleted when it keeps none.
WITH cut AS (
    SELECT src.*, p.part, p.parts, p.geom AS piece
    FROM cut_piece p JOIN cut_source src USING (src_key)
    WHERE src.parent_id IS NULL OR p.parts > 1
),
retired AS (
    UPDATE road_section s SET retired_on = current_date
    WHERE s.id IN (SELECT parent_id FROM cut) RETURNING s.id
)
INSERT INTO road_section (road_id, parent_id, code, road_name, length_m, geom)
SELECT cut.road_id, cut.parent_id,
       CASE WHEN cut.parent_id IS NULL THEN r.ref || '-' || lpad(cut.part::text, 3, '0')
            ELSE cut.parent_code || '-' || cut.part END,
       r.name, ST_Length(cut.piece::geography), cut.piece
FROM cut JOIN road r ON r.id = cut.road_id
ORDER BY cut.road_id, cut.src_key, cut.part
RETURNING id
