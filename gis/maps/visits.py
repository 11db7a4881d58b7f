"""What the 走访 layer of a map draws, fetched in one statement: each household of the map's grid or
community with the days since its last visit that counts against its policy interval, and the day's
route (today's visits there, in time order).

Run as the caller: row-level security keeps the households, key persons and visits to what she reads
(the visits' readers are the register's, migration 020). The households are the ones the overdue list
judges (gis/visits/overdue.sql: those assigned to the grid, or to the community's grids), judged by the
same rules, so the layer's "逾期 + 从未走访" is the overdue list's length. "Today" is the day in China
(gis.visits.record.today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from gis.visits.record import LOCAL_TZ, today

# A household's state on the day judged, in the order the layer's rows index them:
#   ok      visited (a visit that resets the clock) within the first three quarters of its interval
#   due     visited, but the interval's last quarter has begun (临期)
#   overdue the last counting visit lies further back than the interval (逾期)
#   never   no counting visit at all (从未走访): overdue as well, by the overdue list's rule
STATES: tuple[str, ...] = ("ok", "due", "overdue", "never")

_AREAS = {
    "grid": "h.grid_code = %(code)s",
    "community": "h.grid_code IN (SELECT g.code FROM grid g WHERE g.community_code = %(code)s)",
}

# The groups and the strictest interval as in gis/visits/overdue.sql; "due" when days * 4 > interval
# * 3 (integers: no rounding at the quarter's edge).
_VISIT_LAYER = """
WITH hh AS MATERIALIZED (
    SELECT h.id, h.geom, h.address, h.grid_code FROM household h WHERE {area}
), groups AS MATERIALIZED (  -- one key-person row per key person: their count below too
    SELECT p.household_id, vp.group_code, vp.interval_days, vp.kind
    FROM hh JOIN person p ON p.household_id = hh.id
    JOIN key_person k ON k.person_id = p.id
    JOIN visit_policy vp ON vp.key_category = k.category
    UNION ALL
    SELECT p.household_id, vp.group_code, vp.interval_days, vp.kind
    FROM hh JOIN person p ON p.household_id = hh.id AND p.elderly_alone
    JOIN visit_policy vp ON vp.kind = 'elderly_alone'
    UNION ALL
    SELECT p.household_id, vp.group_code, vp.interval_days, vp.kind
    FROM hh JOIN person p ON p.household_id = hh.id AND p.poverty IS NOT NULL
    JOIN visit_policy vp ON vp.kind = 'poverty'
    UNION ALL
    SELECT hh.id, vp.group_code, vp.interval_days, vp.kind
    FROM hh JOIN visit_policy vp ON vp.kind = 'household'
), strictest AS (
    SELECT DISTINCT ON (household_id) household_id, group_code, interval_days
    FROM groups ORDER BY household_id, interval_days, group_code
), keys AS (
    SELECT household_id, count(*) AS key_persons FROM groups WHERE kind = 'key_person' GROUP BY household_id
), last AS (
    SELECT v.household_id, max(v.visited_at) AS last_visit_at
    FROM visit v JOIN hh ON hh.id = v.household_id
    JOIN visit_outcome o ON o.code = v.outcome AND o.resets_clock
    WHERE v.visited_at < (%(on)s::date + 1)::timestamp AT TIME ZONE %(tz)s
    GROUP BY v.household_id
), judged AS (
    SELECT hh.id, hh.geom, hh.address, hh.grid_code, s.interval_days, vp.name_zh AS group_zh,
           coalesce(k.key_persons, 0) AS key_persons,
           (l.last_visit_at AT TIME ZONE %(tz)s)::date AS last_day,
           %(on)s::date - (l.last_visit_at AT TIME ZONE %(tz)s)::date AS days_since
    FROM hh JOIN strictest s ON s.household_id = hh.id
    JOIN visit_policy vp ON vp.group_code = s.group_code
    LEFT JOIN last l ON l.household_id = hh.id
    LEFT JOIN keys k ON k.household_id = hh.id
), route AS (
    SELECT v.visitor, v.visited_at, v.id, v.household_id, hh.address, o.name_zh AS outcome_zh,
           k.name_zh AS kind_zh, ST_X(v.position) AS lon, ST_Y(v.position) AS lat,
           row_number() OVER (PARTITION BY v.visitor ORDER BY v.visited_at, v.id) AS stop
    FROM visit v JOIN hh ON hh.id = v.household_id
    JOIN visit_outcome o ON o.code = v.outcome JOIN visit_kind k ON k.code = v.kind
    WHERE v.visited_at >= (%(on)s::date)::timestamp AT TIME ZONE %(tz)s
      AND v.visited_at < (%(on)s::date + 1)::timestamp AT TIME ZONE %(tz)s
)
SELECT
    (SELECT coalesce(json_agg(json_build_array(
                j.id, round(ST_Y(j.geom)::numeric, 6)::float8, round(ST_X(j.geom)::numeric, 6)::float8,
                CASE WHEN j.days_since IS NULL THEN 3 WHEN j.days_since > j.interval_days THEN 2
                     WHEN j.days_since * 4 > j.interval_days * 3 THEN 1 ELSE 0 END,
                j.days_since, j.interval_days, j.key_persons, j.address, j.group_zh, j.last_day, j.grid_code)
            ORDER BY j.id), '[]')
     FROM judged j),
    (SELECT coalesce(json_agg(json_build_array(
                r.visitor, r.stop, round(r.lat::numeric, 6)::float8, round(r.lon::numeric, 6)::float8,
                to_char(r.visited_at AT TIME ZONE %(tz)s, 'HH24:MI'), r.household_id, r.address,
                r.outcome_zh, r.kind_zh)
            ORDER BY r.visitor, r.stop), '[]')
     FROM route r)
"""


@dataclass
class VisitLayerData:
    """The 走访 layer of one map, judged on ``on`` (a day in China).

    ``households`` rows: [id, lat, lon, state (index into STATES), days since the last counting visit
    (None: never), interval days, key persons, address, the strictest group's name, the last counting
    visit's day, grid]. ``route`` rows, per visitor in time order: [visitor, stop number, lat, lon,
    time (HH:MM in China), household id, address, outcome, kind] (the phone's position, as walked)."""

    on: date
    households: list[list[Any]]
    route: list[list[Any]]

    @property
    def counts(self) -> dict[str, int]:
        """Households per state, key persons in households overdue or never visited, stops today."""
        counts = dict.fromkeys(STATES, 0)
        key_overdue = 0
        for row in self.households:
            counts[STATES[row[3]]] += 1
            key_overdue += row[6] if row[3] >= 2 else 0
        return {**counts, "key_overdue": key_overdue, "stops": len(self.route),
                "walkers": len({r[0] for r in self.route})}


def visit_layer_data(conn: psycopg.Connection, kind: str, code: str,
                     on: date | None = None) -> VisitLayerData:
    """The 走访 layer of the ``kind`` ("grid" or "community") map of ``code``, on day ``on`` (today in
    China by default). The code is checked by the map's own query (gis.maps.grids) before this runs."""
    on = on or today()
    query = sql.SQL(_VISIT_LAYER).format(area=sql.SQL(_AREAS[kind]))
    row = conn.execute(query, {"code": code, "on": on, "tz": LOCAL_TZ}).fetchone()
    assert row is not None
    households, route = row
    return VisitLayerData(on=on, households=households, route=route)
