-- Pieces of the sources cut where any other road crosses or touches them: one self-join on the
-- GiST index of road, the crossing points located as fractions along each source.
WITH crossing AS (
    SELECT src.src_key, ST_LineLocatePoint(src.geom, p.geom) AS f
    FROM cut_source src
    JOIN road o ON o.id <> src.road_id AND ST_Intersects(src.geom, o.geom)
    CROSS JOIN LATERAL (SELECT ST_Intersection(src.geom, o.geom) AS ix) x
    -- crossing points, and the ends of a stretch two roads share
    CROSS JOIN LATERAL ST_DumpPoints(ST_Collect(ST_CollectionExtract(x.ix, 1),
                                                ST_Boundary(ST_CollectionExtract(x.ix, 2)))) p
),
mark AS (
    -- rounded so that two roads crossing at (numerically almost) one point give one cut
    SELECT src_key, round(f::numeric, 9)::float8 AS f FROM crossing WHERE f > 1e-9 AND f < 1 - 1e-9
    UNION SELECT src_key, 0 FROM cut_source
    UNION SELECT src_key, 1 FROM cut_source
),
span AS (
    SELECT src_key, f AS f0, lead(f) OVER (PARTITION BY src_key ORDER BY f) AS f1 FROM mark
)
INSERT INTO cut_piece (src_key, part, parts, geom)
SELECT src.src_key,
       row_number() OVER w, count(*) OVER (PARTITION BY src.src_key),
       ST_LineSubstring(src.geom, span.f0, span.f1)
FROM span JOIN cut_source src USING (src_key)
WHERE span.f1 IS NOT NULL
WINDOW w AS (PARTITION BY src.src_key ORDER BY span.f0)
