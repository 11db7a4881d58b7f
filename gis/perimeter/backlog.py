"""The inspectors' backlog (督查待办): the recorded violations not yet closed, by status and age, the
schools with the most, and the inspections due (a notified place's rectification deadline, a
rectified place's re-check), read from the violations and their history (gis/perimeter/inspections.py).

The deadlines are the service's working rule, not the law's: a notified place has RECTIFY_DAYS to
rectify (限期整改), counted from the day it was notified; a rectified place is re-checked (复查) within
RECHECK_DAYS of the day it was reported rectified. "Since" is the latest move to the current status
(violation_event), so a violation reopened by a failed re-check counts its age from its first finding
(found_on) but its deadline from the new notice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

ACTIVE = ("open", "notified", "rectified")
# Age buckets in whole days since found_on: (lowest, highest or None, key).
AGE_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (0, 7, "0-7"), (8, 30, "8-30"), (31, 90, "31-90"), (91, None, "91+"))
RECTIFY_DAYS = 7
RECHECK_DAYS = 3
SOON_DAYS = 3  # a deadline this close is listed as due, before it passes


def violations_by_age(conn: psycopg.Connection, day: date) -> dict[str, dict[str, int]]:
    """The violations not closed on ``day``: {status: {bucket: count, "total": count}}, every status
    and bucket present (0 where none)."""
    rows = conn.execute("""
        SELECT st.status, b.key, count(v.id)
        FROM unnest(%(lows)s::int[], %(highs)s::int[], %(keys)s::text[]) AS b(low, high, key)
        CROSS JOIN unnest(%(statuses)s::text[]) AS st(status)
        LEFT JOIN violation v
          ON v.status = st.status
         AND %(day)s::date - v.found_on >= b.low
         AND (b.high IS NULL OR %(day)s::date - v.found_on <= b.high)
        GROUP BY st.status, b.key""",
        {"lows": [b[0] for b in AGE_BUCKETS], "highs": [b[1] for b in AGE_BUCKETS],
         "keys": [b[2] for b in AGE_BUCKETS], "statuses": list(ACTIVE), "day": day}).fetchall()
    out = {s: {key: 0 for _, _, key in AGE_BUCKETS} for s in ACTIVE}
    for status, key, count in rows:
        out[status][key] = int(count)
    for counts in out.values():
        counts["total"] = sum(counts.values())
    return out


def schools_with_most(conn: psycopg.Connection, limit: int = 10) -> list[dict[str, Any]]:
    """The schools with the most violations not closed, most first, with the count per status."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("""
            SELECT s.id AS school_id, s.ref AS school_ref, s.name AS school_name, s.level AS school_level,
                   count(*) AS total,
                   count(*) FILTER (WHERE v.status = 'open') AS open,
                   count(*) FILTER (WHERE v.status = 'notified') AS notified,
                   count(*) FILTER (WHERE v.status = 'rectified') AS rectified,
                   min(v.found_on) AS oldest
            FROM violation v JOIN school s ON s.id = v.school_id
            WHERE v.status <> 'closed'
            GROUP BY s.id
            ORDER BY total DESC, oldest, s.ref, s.id
            LIMIT %s""", [limit]).fetchall()


def inspections_due(conn: psycopg.Connection, day: date, limit: int = 50) -> tuple[int, list[dict[str, Any]]]:
    """The inspections due by ``day`` + SOON_DAYS: notified places at their rectification deadline,
    rectified places for their re-check; earliest due first. How many in all, and the first ``limit``.
    ``overdue_days`` is how many days the due date has passed (0 or less: not yet)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("""
            WITH waiting AS (
                SELECT v.id AS violation_id, v.status, v.found_on, v.distance_m, v.reason,
                       p.id AS place_id, p.ref AS place_ref, p.name AS place_name, p.address,
                       c.name_zh AS category_name, s.ref AS school_ref, s.id AS school_id,
                       s.name AS school_name,
                       coalesce((SELECT max(e.at) FROM violation_event e
                                 WHERE e.violation_id = v.id AND e.to_status = v.status),
                                v.updated_at)::date AS since
                FROM violation v
                JOIN place p ON p.id = v.place_id
                JOIN place_category c ON c.code = p.category
                LEFT JOIN school s ON s.id = v.school_id
                WHERE v.status IN ('notified', 'rectified')
            ), due AS (
                SELECT w.*, w.since + CASE w.status WHEN 'notified' THEN %(rectify)s ELSE %(recheck)s END
                           AS due_on
                FROM waiting w
            )
            SELECT d.*, %(day)s::date - d.due_on AS overdue_days, count(*) OVER () AS total_due
            FROM due d
            WHERE d.due_on <= %(day)s::date + %(soon)s
            ORDER BY d.due_on, d.violation_id
            LIMIT %(limit)s""",
            {"rectify": RECTIFY_DAYS, "recheck": RECHECK_DAYS, "soon": SOON_DAYS, "day": day,
             "limit": limit}).fetchall()
    total = int(rows[0]["total_due"]) if rows else 0
    return total, rows
