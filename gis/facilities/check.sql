-- The facility check (阵地达标): per community under %(prefix)s and kind with a target, the active
-- facilities counted against the most specific target; only the failures (too few, too many). One
-- statement: targets resolved per community with DISTINCT ON, counts from the stored community code.
-- Facilities are public places, but the check answers for the reader's area: the communities under
-- one of her scopes (a street admin: her street's; a grid worker's grid: its community), all of them
-- for a scope of everything or the owner's session (the CLI, benchmarks). The scopes are read once
-- (MATERIALIZED: inlined, the SECURITY DEFINER lookups ran once per community, 25x slower).
WITH reader AS MATERIALIZED (
    SELECT access_caller_sees_all() AS everything,
           access_scopes('{admin,grid_worker,inspector,planner,viewer,unit,reporter}') AS scopes
), c AS (
    SELECT m.code, m.name
    FROM community m CROSS JOIN reader r
    WHERE starts_with(m.code, %(prefix)s)
      AND (r.everything OR '' = ANY (r.scopes)
           OR EXISTS (SELECT 1 FROM unnest(r.scopes) s WHERE starts_with(m.code, s) OR starts_with(s, m.code)))
), t AS (
    SELECT DISTINCT ON (c.code, t.kind) c.code, c.name, t.kind, t.min_count, t.max_count
    FROM c JOIN facility_target t ON starts_with(c.code, t.scope)
    WHERE %(kind)s::text IS NULL OR t.kind = %(kind)s
    ORDER BY c.code, t.kind, length(t.scope) DESC
), n AS (
    SELECT f.community_code, f.kind, count(*) AS n
    FROM facility f
    WHERE f.active AND starts_with(f.community_code, %(prefix)s)
    GROUP BY f.community_code, f.kind
)
SELECT t.code AS community_code, t.name AS community_name, t.kind, k.name_zh AS kind_zh,
       coalesce(n.n, 0)::integer AS count, t.min_count, t.max_count,
       CASE WHEN coalesce(n.n, 0) < t.min_count THEN 'too_few' ELSE 'too_many' END AS failure
FROM t
JOIN facility_kind k ON k.code = t.kind
LEFT JOIN n ON n.community_code = t.code AND n.kind = t.kind
WHERE coalesce(n.n, 0) < t.min_count OR coalesce(n.n, 0) > t.max_count
ORDER BY t.code, t.kind
