-- Pieces of the sources cut into n equal parts, n = ceil(length / max_length); the fractions are
-- along the line, so parts are equal to within the line's change of scale (millimetres in a city).
INSERT INTO cut_piece (src_key, part, parts, geom)
SELECT src.src_key, i, n, ST_LineSubstring(src.geom, (i - 1)::float8 / n, i::float8 / n)
FROM cut_source src
CROSS JOIN LATERAL (SELECT greatest(1, ceil(ST_Length(src.geom::geography) / %(max_length_m)s))::int AS n) k
CROSS JOIN LATERAL generate_series(1, k.n) AS i
