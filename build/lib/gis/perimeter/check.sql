-- The school-perimeter check (校园周边200米): every place that breaks a rule on %(day)s, listed once
-- with the nearest school it breaks a rule for and the distance in metres on the ellipsoid.
-- Parameters: day date, srid (a local TM, gis.local_tm), school bigint|NULL, community text|NULL,
-- grid text|NULL, place bigint|NULL. {place_in_area} is gis.areas.by_geometry on the place.
--
-- Distances: in the local TM (k = 1, centred on the data) when the place is within 50 km of its
-- central meridian, where the planar distance is within 6 mm of the geodesic at 200 m; farther out,
-- the closest point of the school (boundary or gates) is found in the TM and the distance to it is a
-- geodesic on the WGS84 ellipsoid (point to point, which PostGIS computes with GeographicLib).
-- geography ST_Distance to a polygon would be off by up to 0.14 m.
WITH school_in AS MATERIALIZED (
    -- Schools some rule protects, with their region (the community they lie in decides which
    -- region's rules apply), how far their rules reach (+1 m) and the box to search around.
    SELECT s.id, s.ref, s.name, s.level, s.geom, s.gates, region.code AS region_code, reach.m AS reach,
           ST_Transform(s.geom, %(srid)s::int) AS geom_tm, ST_Transform(s.gates, %(srid)s::int) AS gates_tm,
           CASE WHEN s.gates IS NULL THEN s.geom ELSE ST_Collect(s.geom, s.gates) END AS box
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
    WHERE reach.m IS NOT NULL
      AND (%(school)s::bigint IS NULL OR s.id = %(school)s::bigint)
),
profile AS MATERIALIZED (
    -- The rules in force per (school level, region): perimeter_rules_in_force (gis/migrations/009),
    -- those of the most specific region that has any. A handful of rows: resolved once here, not once
    -- per candidate pair.
    SELECT k.level, k.region_code, r.category, r.rule_id, r.region, r.distance_m, r.kind, r.method
    FROM (SELECT DISTINCT level, region_code FROM school_in) k
    CROSS JOIN LATERAL perimeter_rules_in_force(k.level, k.region_code) r
),
pair AS MATERIALIZED (
    -- Candidates: ruled places suspect on the day inside the school's box grown by its reach, in
    -- degrees taken generously (1 deg of latitude >= 110,574 m; of longitude >= 111,319 m x cos).
    SELECT s.id AS school_id, s.level, s.region_code, s.geom AS school_geom, s.geom_tm, s.gates_tm,
           p.id AS place_id, p.ref AS place_ref, p.name AS place_name, p.category, p.address,
           p.geom AS place_geom, p.licensed_until, p.any_licence_until
    FROM school_in s
    JOIN ruled_place p
      ON p.geom && ST_Expand(s.box,
                             s.reach / (111000 * cos(radians(least(89.0,
                                 greatest(abs(ST_YMin(s.box)), abs(ST_YMax(s.box))) + s.reach / 110000)))),
                             s.reach / 110000)
     AND p.suspect_from <= %(day)s::date
     AND (%(place)s::bigint IS NULL OR p.id = %(place)s::bigint)
    WHERE {place_in_area}
),
measured AS (
    SELECT pr.place_id, pr.place_ref, pr.place_name, pr.category, pr.address, pr.place_geom,
           pr.licensed_until, pr.any_licence_until, pr.school_id, r.rule_id, r.region, r.distance_m AS rule_distance, r.kind,
           m.method, m.distance_m
    FROM pair pr
    JOIN profile r ON r.level = pr.level AND r.region_code IS NOT DISTINCT FROM pr.region_code
                  AND r.category = pr.category
    CROSS JOIN LATERAL (
        -- Door to door needs the school's gates; without them the boundary is the fallback.
        SELECT CASE WHEN r.method = 'entrance' AND pr.gates_tm IS NOT NULL THEN 'entrance' ELSE 'boundary' END
               AS method,
               CASE WHEN r.method = 'entrance' AND pr.gates_tm IS NOT NULL THEN pr.gates_tm ELSE pr.geom_tm END
               AS target_tm,
               ST_Transform(pr.place_geom, %(srid)s::int) AS place_tm
    ) t
    CROSS JOIN LATERAL (
        -- Inside a campus the distance is 0 (door to door too). Within 50 km of the TM's central meridian its scale error is below 3.1e-5 (6 mm at 200 m):
        -- the planar distance is the answer. Farther out, the geodesic to the closest point.
        SELECT CASE WHEN t.method = 'entrance' AND ST_Intersects(pr.school_geom, pr.place_geom) THEN 0.0
                    WHEN abs(ST_X(t.place_tm)) <= 50000 THEN ST_Distance(t.target_tm, t.place_tm)
                    ELSE ST_Distance(pr.place_geom::geography,
                                     ST_Transform(ST_ClosestPoint(t.target_tm, t.place_tm), 4326)::geography)
               END AS distance_m, t.method
    ) m
    WHERE r.kind = 'forbidden' OR pr.licensed_until IS NULL OR pr.licensed_until < %(day)s::date
),
nearest AS (
    SELECT DISTINCT ON (place_id) *
    FROM measured
    WHERE distance_m <= rule_distance
    ORDER BY place_id, distance_m, (kind = 'forbidden') DESC, rule_id
)
SELECT n.place_id, n.place_ref, n.place_name, n.category, n.address,
       s.id AS school_id, s.ref AS school_ref, s.name AS school_name, s.level AS school_level,
       n.rule_id, n.region, n.kind, n.method, n.rule_distance, round(n.distance_m::numeric, 2)::float8 AS distance_m,
       CASE WHEN n.any_licence_until IS NULL THEN 'missing'
            WHEN n.licensed_until >= %(day)s::date THEN 'valid'
            WHEN n.any_licence_until >= %(day)s::date THEN 'not_displayed'
            ELSE 'expired' END AS licence_state,
       ST_X(n.place_geom) AS lon, ST_Y(n.place_geom) AS lat
FROM nearest n
JOIN school_in s ON s.id = n.school_id
ORDER BY n.distance_m, n.place_id
