"""Reading reports back under row-level security: one report with its history, routing evidence,
photos, overdue flags and duplicate suggestions; lists (queues) with filters, paged; the vocabulary.

The reporter's name is shown to the reporter herself and to admins over the report's area only: never
to a unit, a grid worker or a viewer (their answers carry ``reporter: null``), and so is the actor of
the filing step in the history.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import NotFound
from gis.reports.file import LOCAL_TZ, today

DUPLICATE_M = 50.0  # same category within 50 m ...
DUPLICATE_HOURS = 72  # ... and 72 hours, still open: probably the same thing seen twice

# what the acting user may see of the reporter
_SHOWN = "(r.reporter_id = (SELECT access_user_id()) OR report_admin_of(r.area_code))"
COLUMNS = f"""r.id, r.county, r.category, c.name_zh AS category_zh, c.name_en AS category_en, c.handler,
    ST_X(r.position) AS lon, ST_Y(r.position) AS lat, r.position_crs, r.description,
    CASE WHEN {_SHOWN} THEN r.reporter END AS reporter,
    r.reporter_id = (SELECT access_user_id()) AS mine,
    r.client_id, r.reported_at, r.report_day, r.created_at, r.updated_at,
    r.state, st.name_zh AS state_zh, st.open, r.duplicate_of,
    r.owner_kind, r.unit_id, u.name AS unit_name, r.grid_code, r.community_code, r.area_code,
    r.accept_by, r.handle_by,
    (r.state = 'new' AND %(today)s::date > r.accept_by) AS accept_overdue,
    (r.state IN ('accepted', 'dispatched', 'returned', 'signed') AND %(today)s::date > r.handle_by)
        AS handle_overdue,
    jsonb_build_object('rule', r.routed_rule, 'grid_code', r.routed_grid, 'section_id', r.routed_section,
        'section_code', s.code, 'section_road', s.road_name, 'distance_m', r.routed_section_m,
        'assignment_id', r.routed_assignment, 'valid_from', lower(r.routed_valid),
        'valid_to', upper(r.routed_valid) - 1, 'unit_id', r.routed_unit, 'unit_name', ru.name,
        'day', r.report_day) AS routing"""
SOURCE = """report r JOIN report_category c ON c.code = r.category JOIN report_state st ON st.code = r.state
    LEFT JOIN responsible_unit u ON u.id = r.unit_id LEFT JOIN responsible_unit ru ON ru.id = r.routed_unit
    LEFT JOIN road_section s ON s.id = r.routed_section"""

_HISTORY = f"""SELECT e.id, e.action, e.from_state, e.to_state,
    CASE WHEN e.action <> 'file' OR {_SHOWN} THEN e.actor END AS actor,
    e.reason, rr.name_zh AS reason_zh, e.note, e.owner_kind, e.unit_id, e.grid_code, e.community_code, e.at
FROM report_event e JOIN report r ON r.id = e.report_id
LEFT JOIN report_return_reason rr ON rr.code = e.reason
WHERE e.report_id = %(id)s ORDER BY e.id"""

_PHOTOS = """SELECT p.sha256, p.kind, p.file_name, p.added_at, m.mime, m.width, m.height, m.taken_at,
    m.taken_offset, ST_X(m.position) AS lon, ST_Y(m.position) AS lat
FROM report_photo p JOIN media m ON m.sha256 = p.sha256 WHERE p.report_id = %(id)s
ORDER BY p.kind DESC, p.added_at, p.sha256"""

_DUPLICATES = """SELECT o.id, o.state, o.reported_at,
    ST_Distance(o.position::geography, r.position::geography) AS distance_m
FROM report r JOIN report o ON o.category = r.category AND o.id <> r.id
JOIN report_state st ON st.code = o.state AND st.open
WHERE r.id = %(id)s AND o.state <> 'duplicate'
  AND ST_DWithin(o.position::geography, r.position::geography, %(metres)s)
  AND o.reported_at BETWEEN r.reported_at - make_interval(hours => %(hours)s)
                        AND r.reported_at + make_interval(hours => %(hours)s)
ORDER BY distance_m, o.id LIMIT 20"""


def duplicates(conn: psycopg.Connection, report_id: int) -> list[dict[str, Any]]:
    """Open reports of the same category within 50 m and 72 hours of this one (that the user reads)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_DUPLICATES, {"id": report_id, "metres": DUPLICATE_M,
                                         "hours": DUPLICATE_HOURS}).fetchall()


def report(conn: psycopg.Connection, report_id: int, on: date | None = None) -> dict[str, Any]:
    """One report with its history (oldest first), photos, routing evidence and duplicate suggestions;
    NotFound when it is not the user's to read."""
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(f"SELECT {COLUMNS} FROM {SOURCE} WHERE r.id = %(id)s",
                            {"id": report_id, "today": on or today()}).fetchone()
        if found is None:
            raise NotFound("report", report_id)
        found["history"] = cur.execute(_HISTORY, {"id": report_id}).fetchall()
        found["photos"] = cur.execute(_PHOTOS, {"id": report_id}).fetchall()
    found["duplicates"] = duplicates(conn, report_id)
    return found


def reports(conn: psycopg.Connection, *, state: str | None = None, category: str | None = None,
            owner_kind: str | None = None, unit_id: int | None = None, grid: str | None = None,
            community: str | None = None, start: date | None = None, end: date | None = None,
            overdue: bool | None = None, mine: bool = False, ids: list[int] | None = None,
            limit: int = 100, offset: int = 0, on: date | None = None) -> tuple[int, list[dict[str, Any]]]:
    """The reports the user reads that match every filter given, newest first, one page, and how many
    match in all. ``grid``: reports lying in the grid; ``community``: in the community's area;
    ``start``/``end``: days in China (both included) of ``reported_at``; ``mine``: filed by the user."""
    where = """(%(state)s::text IS NULL OR r.state = %(state)s)
        AND (%(category)s::text IS NULL OR r.category = %(category)s)
        AND (%(owner_kind)s::text IS NULL OR r.owner_kind = %(owner_kind)s)
        AND (%(unit_id)s::bigint IS NULL OR r.unit_id = %(unit_id)s)
        AND (%(grid)s::text IS NULL OR r.routed_grid = %(grid)s OR r.grid_code = %(grid)s)
        AND (%(community)s::text IS NULL OR r.area_code = %(community)s)
        AND (%(start)s::date IS NULL OR r.reported_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s)
        AND (%(end)s::date IS NULL OR r.reported_at < (%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
        AND (NOT %(mine)s OR r.reporter_id = (SELECT access_user_id()))
        AND (%(ids)s::bigint[] IS NULL OR r.id = ANY (%(ids)s::bigint[]))
        AND (%(overdue)s::boolean IS NULL OR %(overdue)s = (
             (r.state = 'new' AND %(today)s::date > r.accept_by)
             OR (r.state IN ('accepted', 'dispatched', 'returned', 'signed')
                 AND %(today)s::date > r.handle_by)))"""
    params = {"state": state, "category": category, "owner_kind": owner_kind, "unit_id": unit_id,
              "grid": grid, "community": community, "start": start, "end": end, "tz": LOCAL_TZ,
              "mine": mine, "ids": ids, "overdue": overdue, "today": on or today(), "limit": limit,
              "offset": offset}
    with conn.cursor(row_factory=dict_row) as cur:
        total = cur.execute(f"SELECT count(*) AS n FROM report r WHERE {where}", params).fetchone()
        rows = cur.execute(f"SELECT {COLUMNS} FROM {SOURCE} WHERE {where}"
                           " ORDER BY r.reported_at DESC, r.id DESC LIMIT %(limit)s OFFSET %(offset)s",
                           params).fetchall()
    assert total is not None
    return total["n"], rows


def vocabulary(conn: psycopg.Connection) -> dict[str, list[dict[str, Any]]]:
    """The categories (with handler kind and deadlines), return reasons and states (data, not code)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return {
            "categories": cur.execute(
                "SELECT code, name_zh, name_en, handler, deadline_accept_days, deadline_handle_days"
                " FROM report_category ORDER BY handler DESC, code").fetchall(),
            "return_reasons": cur.execute("SELECT code, name_zh, name_en FROM report_return_reason"
                                          " ORDER BY code").fetchall(),
            "states": cur.execute("SELECT code, name_zh, name_en, open FROM report_state"
                                  " ORDER BY ordinal").fetchall(),
        }
