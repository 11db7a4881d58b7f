-- The school-perimeter check (校园周边200米): every place that breaks a rule on %(day)s, listed once
-- with the nearest school it breaks a rule for and the distance in metres on the ellipsoid, nearest
-- first. Parameters: day date, srid (a local TM, gis.local_tm), school bigint|NULL, community
-- text|NULL, grid text|NULL, place bigint|NULL. {place_in_area} is gis.areas.by_geometry on the place.
--
-- Distances: in the local TM (k = 1, centred on the data) when the place is within 50 km of its
-- central meridian, where the planar distance is within 6 mm of the geodesic at 200 m; farther out,
-- the closest point of the school (boundary or gates) is found in the TM and the distance to it is a
-- geodesic on the WGS84 ellipsoid (point to point, which PostGIS computes with GeographicLib).
-- geography ST_Distance to a polygon would be off by up to 0.14 m.
--
-- Speed (benchmarks/bench_perimeter.py: 3,000 schools, 300,000 places, 106,000 candidate pairs):
-- each school probes the (geom, suspect_from) index of ruled_place once; every pair is transformed
-- and measured once, in a stream (OFFSET 0 keeps the planner from joining schools to their rules
-- first, which probes the index once per rule, and from computing the distance twice, in the filter
-- and in the output); only narrow rows are sorted to keep each place's nearest school.
WITH school_in AS MATERIALIZED (
    -- Schools some rule protects, with their region (the community they lie in decides which
    -- region's rules apply) and the box their rules reach (+1 m), in degrees taken generously
    -- (1 deg of latitude >= 110,574 m; of longitude >= 111,319 m x cos).
    SELECT s.id, s.ref, s.name, s.level, s.geom, region.code AS region_code,
           ST_Transform(s.geom, %(srid)s::int) AS geom_tm, ST_Transform(s.gates, %(srid)s::int) AS gates_tm,
           ST_Expand(b.box,
                     reach.m / (111000 * cos(radians(least(89.0,
                         greatest(abs(ST_YMin(b.box)), abs(ST_YMax(b.box))) + reach.m / 110000)))),
                     reach.m / 110000) AS search
    FROM school s
    LEFT JOIN LATERAL (
        -- only looked up when some rule is regional (the sub-select runs once, as an InitPlan)
        SELECT c.code FROM community c
        WHERE (SELECT bool_or(region <> 'national') FROM perimeter_rule)
          AND ST_Intersects(c.geom, ST_PointOnSurface(s.geom)) ORDER BY c.code LIMIT 1
    ) region ON true
    CROSS JOIN LATERAL (
        SELECT max(r.distance_m) + 1 AS m FROM perimeter_rule r WHERE s.level = ANY (r.school_levels)
    ) reach
    CROSS JOIN LATERAL (
        SELECT CASE WHEN s.gates IS NULL THEN s.geom ELSE ST_Collect(s.geom, s.gates) END AS box
    ) b
    WHERE reach.m IS NOT NULL
      AND (%(school)s::bigint IS NULL OR s.id = %(school)s::bigint)
),
profile AS MATERIALIZED (
    -- The rules in force per (school level, region): perimeter_rules_in_force (gis/migrations/009),
    -- those of the most specific region that has any. A handful of rows: resolved once here, not once
    -- per candidate pair.
    SELECT k.level, k.region_code, r.category, r.rule_id, r.region, r.distance_m, r.kind, r.method,
           -- how the rule reads in a report, measured either way (entrance falls back to boundary),
           -- e.g. 'internet_cafe forbidden within 200 m (boundary, national)'
           format('%%s %%s within %%s m (boundary, %%s)', r.category, r.kind, r.distance_m, r.region) AS label,
           format('%%s %%s within %%s m (entrance, %%s)', r.category, r.kind, r.distance_m, r.region)
               AS entrance_label
    FROM (SELECT DISTINCT level, region_code FROM school_in) k
    CROSS JOIN LATERAL perimeter_rules_in_force(k.level, k.region_code) r
),
measured AS (
    SELECT pr.place_id, pr.ref, pr.name, pr.category, pr.address, pr.geom, pr.licensed_until,
           pr.any_licence_until, pr.school_id, r.rule_id, r.region, r.kind, r.distance_m AS rule_distance,
           t.method, CASE WHEN t.method = 'entrance' THEN r.entrance_label ELSE r.label END AS rule,
           -- Inside a campus the distance is 0 (door to door too). Within 50 km of the TM's central
           -- meridian its scale error is below 3.1e-5 (6 mm at 200 m): the planar distance is the
           -- answer. Farther out, the geodesic to the closest point.
           CASE WHEN t.method = 'entrance' AND ST_Intersects(s.geom, pr.geom) THEN 0.0
                WHEN abs(ST_X(pr.place_tm)) <= 50000 THEN ST_Distance(t.target_tm, pr.place_tm)
                ELSE ST_Distance(pr.geom::geography,
                                 ST_Transform(ST_ClosestPoint(t.target_tm, pr.place_tm), 4326)::geography)
           END AS distance_m
    FROM (
        -- Candidates: ruled places suspect on the day inside a school's search box.
        SELECT s.id AS school_id, p.id AS place_id, p.ref, p.name, p.category, p.address, p.geom,
               p.licensed_until, p.any_licence_until, ST_Transform(p.geom, %(srid)s::int) AS place_tm
        FROM school_in s
        JOIN ruled_place p
          ON p.geom && s.search
         AND p.suspect_from <= %(day)s::date
         AND (%(place)s::bigint IS NULL OR p.id = %(place)s::bigint)
        WHERE {place_in_area}
        OFFSET 0
    ) pr
    JOIN school_in s ON s.id = pr.school_id
    JOIN profile r ON r.level = s.level AND r.region_code IS NOT DISTINCT FROM s.region_code
                  AND r.category = pr.category
    CROSS JOIN LATERAL (
        -- Door to door needs the school's gates; without them the boundary is the fallback.
        SELECT CASE WHEN r.method = 'entrance' AND s.gates_tm IS NOT NULL THEN 'entrance' ELSE 'boundary' END
               AS method,
               CASE WHEN r.method = 'entrance' AND s.gates_tm IS NOT NULL THEN s.gates_tm ELSE s.geom_tm END
               AS target_tm
    ) t
    WHERE r.kind = 'forbidden' OR pr.licensed_until IS NULL OR pr.licensed_until < %(day)s::date
    OFFSET 0
),
nearest AS (
    SELECT DISTINCT ON (place_id) *
    FROM measured
    WHERE distance_m <= rule_distance
    ORDER BY place_id, distance_m, (kind = 'forbidden') DESC, rule_id
)
SELECT n.place_id, n.ref AS place_ref, n.name AS place_name, n.category, n.address,
       s.id AS school_id, s.ref AS school_ref, s.name AS school_name, s.level AS school_level,
       n.rule_id, n.region, n.kind, n.method, n.rule_distance, n.rule,
       round(n.distance_m::numeric, 2)::float8 AS distance_m,
       state.code AS licence_state,
       ST_X(n.geom) AS lon, ST_Y(n.geom) AS lat,
       -- the same in Chinese words, for the CSV and XLSX (中文表头) and the page: e.g.
       -- '网吧：200 米内禁止（校园边界，全国）'
       c.name_zh AS category_name,
       format('%%s：%%s 米内%%s（%%s，%%s）', c.name_zh, n.rule_distance,
              CASE n.kind WHEN 'forbidden' THEN '禁止' ELSE '须证照齐全、亮证经营' END,
              CASE n.method WHEN 'entrance' THEN '校门' ELSE '校园边界' END,
              CASE n.region WHEN 'national' THEN '全国' ELSE n.region END) AS rule_name,
       CASE state.code WHEN 'missing' THEN '无证' WHEN 'valid' THEN '有效' WHEN 'not_displayed' THEN '未亮证'
            ELSE '证照过期' END AS licence_state_name
FROM nearest n
JOIN school_in s ON s.id = n.school_id
JOIN place_category c ON c.code = n.category
CROSS JOIN LATERAL (
    SELECT CASE WHEN n.any_licence_until IS NULL THEN 'missing'
                WHEN n.licensed_until >= %(day)s::date THEN 'valid'
                WHEN n.any_licence_until >= %(day)s::date THEN 'not_displayed'
                ELSE 'expired' END AS code
) state
-- By the distance as reported (the output column, rounded), so that a listing wrapping this query
-- with the same ORDER BY (gis/perimeter/export.py) keeps the order without sorting again.
ORDER BY distance_m, place_id
