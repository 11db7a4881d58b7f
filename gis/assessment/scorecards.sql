-- The quarter's scorecards of every community under %(area)s that a sheet of %(quarter)s scores: one row
-- per community and item of its sheet (the most specific scope), in code and sheet order, with the
-- item's live figure and its evidence count; gis/assessment/scorecard.py judges targets and gaps.
-- (A psycopg.sql template: braces are placeholders.) One statement for a street's dozen communities or a district's hundreds: fig is figures.sql
-- (every community's figures), photos is record_photos.sql (every record counted in one
-- community), both over the same %(area)s.
WITH fig AS (
    {figures}
),
photos AS (
    {record_photos}
),
scored AS (
    SELECT a.code, a.name, s.id AS sheet_id, s.title
    FROM community a
    CROSS JOIN LATERAL (SELECT s.id, s.title FROM assessment_sheet s
                        WHERE s.quarter = %(quarter)s AND starts_with(a.code, s.scope)
                        ORDER BY length(s.scope) DESC LIMIT 1) s
    WHERE starts_with(a.code, %(area)s)
),
uploads AS (  -- the items recorded for a scoring item and not superseded
    SELECT e.community_code, e.item_no, count(*) AS n
    FROM evidence_item e
    WHERE e.quarter = %(quarter)s AND starts_with(e.community_code, %(area)s) AND e.item_no IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM evidence_item n WHERE n.supersedes = e.id)
    GROUP BY e.community_code, e.item_no
),
by_kind AS (
    SELECT community_code, record_kind, count(*) AS n FROM photos GROUP BY community_code, record_kind
)
SELECT sc.code AS community, sc.name AS community_name, sc.sheet_id, sc.title,
       i.item_no, i.section, i.content, i.points, i.measure, i.figure, i.target, i.direction,
       i.evidence_from,
       to_jsonb(f) -> i.figure AS value, f.compounds_helped AS helped_n, f.compounds AS compounds_n,
       (coalesce(u.n, 0) + coalesce((SELECT sum(k.n) FROM by_kind k WHERE k.community_code = sc.code
                                     AND k.record_kind = ANY (i.evidence_from)), 0))::int AS evidence
FROM scored sc
JOIN assessment_item i ON i.sheet_id = sc.sheet_id
LEFT JOIN fig f ON f.code = sc.code
LEFT JOIN uploads u ON u.community_code = sc.code AND u.item_no = i.item_no
ORDER BY sc.code, i.position
