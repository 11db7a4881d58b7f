-- The roster of the duties the reader sees, for the days [start, end]: one row per duty and
-- rostered day, derived from the recurrence (nothing stored), with what was recorded about the day.
-- A monthly duty on a day the month lacks (the 31st in April) falls on the month's last day.
-- state: the record's status; else 'missed' once the day is over (before today), else 'due'.
SELECT d.id AS duty_id, d.name, d.unit_id, u.name AS unit_name, d.recurrence, d.weekday, d.month_day,
       d.section_id, s.code AS section_code, d.post_name,
       ST_X(coalesce(d.post, ST_LineInterpolatePoint(s.geom, 0.5))) AS lon,
       ST_Y(coalesce(d.post, ST_LineInterpolatePoint(s.geom, 0.5))) AS lat,
       day.d AS duty_day, r.id AS record_id, r.status AS recorded, r.recorder, r.recorded_at,
       coalesce(r.status, CASE WHEN day.d < %(today)s THEN 'missed' ELSE 'due' END) AS state
FROM duty d
JOIN responsible_unit u ON u.id = d.unit_id
LEFT JOIN road_section s ON s.id = d.section_id
CROSS JOIN LATERAL (
    SELECT greatest(%(start)s::date, lower(d.valid)) AS first,
           least(%(end)s::date, coalesce(upper(d.valid) - 1, %(end)s::date)) AS last
) b
-- only the days that can fall: every 7th day from the first matching weekday, or one day a month
CROSS JOIN LATERAL (
    SELECT g::date AS d
    FROM generate_series((b.first + mod(d.weekday - extract(isodow FROM b.first)::int + 7, 7))::timestamp,
                         b.last::timestamp, interval '7 days') g
    WHERE d.recurrence = 'weekly'
    UNION ALL
    SELECT x.d
    FROM generate_series(date_trunc('month', b.first::timestamp), b.last::timestamp, interval '1 month') m
    CROSS JOIN LATERAL (
        SELECT m::date + least(d.month_day,
                               extract(day FROM m + interval '1 month' - interval '1 day')::int) - 1 AS d
    ) x
    WHERE d.recurrence = 'monthly' AND x.d BETWEEN b.first AND b.last
) day
LEFT JOIN duty_record r ON r.duty_id = d.id AND r.duty_day = day.d
WHERE (%(unit_id)s::bigint IS NULL OR d.unit_id = %(unit_id)s)
  AND (%(duty_id)s::bigint IS NULL OR d.id = %(duty_id)s)
ORDER BY day.d, d.id
