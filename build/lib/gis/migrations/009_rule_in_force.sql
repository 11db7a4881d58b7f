-- The school-perimeter rules in force (校园周边 rules that apply) for one school level in one region,
-- in one place: the check (gis/perimeter/check.sql) and the perimeter map's zones
-- (gis/perimeter/mapdata.py) both read them from here.
--
-- region_code is the code of the community the school lies in (NULL: none known, so only national
-- rules reach it). For each place category, the rules of the most specific region that has any win,
-- so a province's rule replaces the national one for the same category and level (all the winning
-- region's rules for the category are kept: one may forbid, another require a licence).
-- A plain SQL function (STABLE, one SELECT): the planner inlines it into the calling query.
CREATE FUNCTION perimeter_rules_in_force(school_level text, region_code text)
RETURNS TABLE (rule_id bigint, region text, category text, distance_m double precision, kind text,
               method text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ranked.id, ranked.region, ranked.category, ranked.distance_m, ranked.kind, ranked.method
    FROM (
        SELECT r.id, r.region, r.category, r.distance_m, r.kind, r.method,
               rank() OVER (PARTITION BY r.category
                            ORDER BY CASE WHEN r.region = 'national' THEN 0 ELSE length(r.region) END DESC)
               AS rnk
        FROM perimeter_rule r
        WHERE perimeter_rules_in_force.school_level = ANY (r.school_levels)
          AND (r.region = 'national'
               OR starts_with(coalesce(perimeter_rules_in_force.region_code, ''), r.region))
    ) ranked
    WHERE ranked.rnk = 1
$$;
