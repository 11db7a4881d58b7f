"""Inspections (检查记录) of places and the life of a violation: open -> notified -> rectified -> closed.

Violations found by the perimeter check are recorded (``record_violations``); each change of status
is kept in ``violation_event`` with who made it and why. A re-check (an inspection of a place whose
violation is rectified) runs the check for that place and closes the violation when it no longer
violates, or reopens it when it still does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import Conflict, InvalidInput, NotFound
from gis.perimeter.check import Scope, perimeter_violations

# Pages of the recorded violations, as the register lists page theirs.
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
RESULTS = ("compliant", "violation", "rectified", "closed_down", "absent")
# Which status may follow which; closing by hand is allowed from any open state (e.g. closed down).
TRANSITIONS = {
    "open": ("notified", "closed"),
    "notified": ("rectified", "closed"),
    "rectified": ("closed", "open"),
    "closed": (),
}


def place_id_of(conn: psycopg.Connection, key: str | int) -> int:
    """A place's id from its ref (the id in the imported file) or its numeric id."""
    row = conn.execute("SELECT id FROM place WHERE ref = %s", [str(key)]).fetchone()
    if row is None and str(key).isdigit():
        row = conn.execute("SELECT id FROM place WHERE id = %s", [int(key)]).fetchone()
    if row is None:
        raise NotFound("place", key)
    return int(row[0])


def record_violations(conn: psycopg.Connection, day: date, actor: str = "check",
                      scope: Scope | None = None) -> dict[str, int]:
    """Run the check and record what it finds: new violations open, known ones get the new figures.

    Set-based: the check's rows go back in as arrays (unnest), one statement for all of them.
    """
    rows = perimeter_violations(conn, day, scope)
    cols: dict[str, list[Any]] = {k: [r[k] for r in rows] for k in ("place_id", "rule_id", "school_id",
                                                                       "distance_m", "rule")}
    with conn.transaction():
        counts = conn.execute("""
            WITH found AS (
                SELECT * FROM unnest(%(place_id)s::bigint[], %(rule_id)s::bigint[], %(school_id)s::bigint[],
                                     %(distance_m)s::float8[], %(rule)s::text[])
                              AS f(place_id, rule_id, school_id, distance_m, reason)),
            updated AS (
                UPDATE violation v SET rule_id = f.rule_id, school_id = f.school_id,
                                       distance_m = f.distance_m, reason = f.reason, updated_at = now()
                FROM found f WHERE v.place_id = f.place_id AND v.status <> 'closed'
                RETURNING v.id),
            added AS (
                INSERT INTO violation (place_id, rule_id, school_id, distance_m, reason, found_on)
                SELECT f.place_id, f.rule_id, f.school_id, f.distance_m, f.reason, %(day)s FROM found f
                WHERE NOT EXISTS (SELECT 1 FROM violation v
                                  WHERE v.place_id = f.place_id AND v.status <> 'closed')
                RETURNING id),
            events AS (
                INSERT INTO violation_event (violation_id, from_status, to_status, actor, note)
                SELECT id, NULL, 'open', %(actor)s, 'found by the perimeter check of ' || %(day)s::text
                FROM added)
            SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM updated)""",
            {**cols, "day": day, "actor": actor}).fetchone()
    assert counts is not None
    return {"found": len(rows), "opened": int(counts[0]), "updated": int(counts[1])}


def violation(conn: psycopg.Connection, violation_id: int) -> dict[str, Any]:
    """A violation with its place, school and history (oldest first)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("""
            SELECT v.id, v.status, v.distance_m, v.reason, v.found_on, v.updated_at, v.rule_id,
                   p.id AS place_id, p.ref AS place_ref, p.name AS place_name, p.category,
                   s.ref AS school_ref, s.name AS school_name
            FROM violation v JOIN place p ON p.id = v.place_id LEFT JOIN school s ON s.id = v.school_id
            WHERE v.id = %s""", [violation_id]).fetchone()
        if row is None:
            raise NotFound("violation", violation_id)
        row["history"] = cur.execute(
            "SELECT e.from_status, e.to_status, e.at, e.actor, e.inspection_id, e.note,"
            " i.result AS inspection_result FROM violation_event e"
            " LEFT JOIN inspection i ON i.id = e.inspection_id"
            " WHERE e.violation_id = %s ORDER BY e.at, e.id", [violation_id]).fetchall()
    return row


def list_violations(conn: psycopg.Connection, status: str | None = None, limit: int = DEFAULT_LIMIT,
                    offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """One page of the recorded violations, oldest first, and how many there are in all."""
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise InvalidInput.one("limit" if offset >= 0 else "offset",
                               f"limit 1-{MAX_LIMIT}, offset 0 or more")
    params = {"status": status, "limit": limit, "offset": offset}
    where = "WHERE %(status)s::text IS NULL OR v.status = %(status)s"
    total = conn.execute("SELECT count(*) FROM violation v " + where, params).fetchone()
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("""
            SELECT v.id, v.status, v.distance_m, v.reason, v.found_on, p.ref AS place_ref,
                   p.name AS place_name, s.ref AS school_ref
            FROM violation v JOIN place p ON p.id = v.place_id LEFT JOIN school s ON s.id = v.school_id
            """ + where + " ORDER BY v.id LIMIT %(limit)s OFFSET %(offset)s", params).fetchall()
    return (int(total[0]) if total else 0), rows


def move(conn: psycopg.Connection, violation_id: int, to_status: str, actor: str, note: str | None = None,
         inspection_id: int | None = None) -> dict[str, Any]:
    """Change a violation's status along TRANSITIONS, keeping the step in its history."""
    if to_status not in TRANSITIONS:
        raise InvalidInput.one("status", f"one of {', '.join(TRANSITIONS)}")
    if not actor or not actor.strip():
        raise InvalidInput.one("actor", "required: who makes the change")
    with conn.transaction():
        row = conn.execute("SELECT status FROM violation WHERE id = %s FOR UPDATE", [violation_id]).fetchone()
        if row is None:
            raise NotFound("violation", violation_id)
        if to_status not in TRANSITIONS[row[0]]:
            allowed = ", ".join(TRANSITIONS[row[0]]) or "nothing (it is closed)"
            raise Conflict(f"violation {violation_id} is {row[0]}: it can move to {allowed}, not {to_status}")
        conn.execute("UPDATE violation SET status = %s, updated_at = now() WHERE id = %s",
                     [to_status, violation_id])
        conn.execute("INSERT INTO violation_event (violation_id, from_status, to_status, actor,"
                     " inspection_id, note) VALUES (%s, %s, %s, %s, %s, %s)",
                     [violation_id, row[0], to_status, actor, inspection_id, note])
    return violation(conn, violation_id)


def record_inspection(conn: psycopg.Connection, place: str | int, inspector: str, result: str,
                      note: str | None = None, inspected_at: datetime | None = None,
                      licence_displayed: bool | None = None, photo: str | None = None,
                      day: date | None = None) -> dict[str, Any]:
    """Record an inspection of a place; what the inspector saw updates the violation.

    ``licence_displayed``: what the inspector saw (亮证), written to the place's licences.
    ``result`` 'rectified' moves an open/notified violation to rectified; any inspection of a place
    whose violation is rectified is the re-check: closed if the place no longer violates, else reopened.
    """
    if result not in RESULTS:
        raise InvalidInput.one("result", f"one of {', '.join(RESULTS)}")
    if not inspector or not inspector.strip():
        raise InvalidInput.one("inspector", "required")
    place_id = place_id_of(conn, place)
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO inspection (place_id, inspector, inspected_at, result, note, photo)"
            " VALUES (%s, %s, coalesce(%s, now()), %s, %s, %s) RETURNING id",
            [place_id, inspector, inspected_at, result, note, photo]).fetchone()
        assert row is not None
        inspection_id = int(row[0])
        if licence_displayed is not None:
            conn.execute("UPDATE licence SET displayed = %s WHERE place_id = %s AND displayed <> %s",
                         [licence_displayed, place_id, licence_displayed])
    active = conn.execute("SELECT id, status FROM violation WHERE place_id = %s AND status <> 'closed'",
                          [place_id]).fetchone()
    outcome = None
    if active is not None:
        violation_id, status = int(active[0]), active[1]
        if result == "rectified" and status in ("open", "notified"):
            if status == "open":
                move(conn, violation_id, "notified", inspector, "rectified on the spot", inspection_id)
            move(conn, violation_id, "rectified", inspector, note, inspection_id)
            status = "rectified"
        if status == "rectified":
            still = perimeter_violations(conn, day or date.today(), Scope(place_id=place_id))
            if still:
                outcome = move(conn, violation_id, "open", inspector,
                               f"re-check: still violates ({still[0]['rule']}, {still[0]['distance_m']} m)",
                               inspection_id)
            else:
                outcome = move(conn, violation_id, "closed", inspector, "re-check: no longer violates",
                               inspection_id)
    if outcome is None and active is not None:
        outcome = violation(conn, int(active[0]))
    return {"inspection_id": inspection_id, "place_id": place_id, "violation": outcome}


def inspections_of(conn: psycopg.Connection, place: str | int) -> list[dict[str, Any]]:
    """A place's inspections, oldest first, each with its photos (``photo``: the file name of a photo
    attached before the media store, under the data folder's photos/)."""
    return _inspections(conn, place_id_of(conn, place))


def _inspections(conn: psycopg.Connection, place_id: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT id, inspector, inspected_at, result, note, photo FROM inspection"
                           " WHERE place_id = %s ORDER BY inspected_at, id", [place_id]).fetchall()
    photos = photos_of(conn, [r["id"] for r in rows])
    return [{**r, "photos": photos.get(r["id"], [])} for r in rows]


# The photos of inspections: rows of the media store (migration 016) linked in inspection_photo. This
# module reads and links them; gis/media keeps the files. A photo is read through its inspection only.
PHOTO_COLUMNS = """ip.inspection_id, m.sha256, ip.file_name, m.mime, m.width, m.height, m.taken_at,
                   m.taken_offset, ST_X(m.position) AS lon, ST_Y(m.position) AS lat, m.exif"""


def add_photos(conn: psycopg.Connection, inspection_id: int, photos: list[tuple[str, str | None]]) -> None:
    """Link stored photos (sha256, file name as sent) to an inspection; a photo linked twice once."""
    row = conn.execute("""
        WITH i AS (SELECT id FROM inspection WHERE id = %(id)s),
        added AS (
            INSERT INTO inspection_photo (inspection_id, sha256, file_name)
            SELECT DISTINCT ON (p.sha) i.id, p.sha, left(p.name, 200)
            FROM i CROSS JOIN unnest(%(shas)s::text[], %(names)s::text[]) WITH ORDINALITY AS p(sha, name, n)
            ORDER BY p.sha, p.n
            ON CONFLICT DO NOTHING RETURNING 1)
        SELECT EXISTS (SELECT 1 FROM i), (SELECT count(*) FROM added)""",
        {"id": inspection_id, "shas": [p[0] for p in photos], "names": [p[1] for p in photos]}).fetchone()
    if row is None or not row[0]:
        raise NotFound("inspection", inspection_id)


def photos_of(conn: psycopg.Connection, inspection_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The photos of these inspections, in the order they were added, by inspection id."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(f"SELECT {PHOTO_COLUMNS} FROM inspection_photo ip JOIN media m USING (sha256)"
                           " WHERE ip.inspection_id = ANY(%s) ORDER BY ip.added_at, m.sha256",
                           [inspection_ids]).fetchall()
    found: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        found.setdefault(r.pop("inspection_id"), []).append(r)
    return found


def photo_of(conn: psycopg.Connection, inspection_id: int, sha256: str) -> dict[str, Any]:
    """One photo of an inspection: NotFound unless that inspection holds it (no photo is read by its
    hash alone)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT {PHOTO_COLUMNS} FROM inspection_photo ip JOIN media m USING (sha256)"
                          " WHERE ip.inspection_id = %s AND ip.sha256 = %s",
                          [inspection_id, sha256]).fetchone()
    if row is None:
        raise NotFound("photo", f"{sha256} of inspection {inspection_id}")
    return row


def place_record(conn: psycopg.Connection, place: str | int) -> dict[str, Any]:
    """A place as its page shows it: category, position, licences, violations (newest first, each
    with its school) and inspections (newest first, with photos)."""
    place_id = place_id_of(conn, place)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("""
            SELECT p.id, p.ref, p.name, p.category, c.name_zh AS category_zh, c.name_en AS category_en,
                   p.address, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat
            FROM place p LEFT JOIN place_category c ON c.code = p.category WHERE p.id = %s""",
            [place_id]).fetchone()
        assert row is not None
        row["licences"] = cur.execute(
            "SELECT kind, number, valid_until, displayed FROM licence WHERE place_id = %s"
            " ORDER BY valid_until DESC NULLS FIRST, id", [place_id]).fetchall()
        row["violations"] = cur.execute("""
            SELECT v.id, v.status, v.distance_m, v.reason, v.found_on, v.updated_at,
                   s.ref AS school_ref, s.name AS school_name
            FROM violation v LEFT JOIN school s ON s.id = v.school_id
            WHERE v.place_id = %s ORDER BY v.status = 'closed', v.found_on DESC, v.id DESC""",
            [place_id]).fetchall()
    row["inspections"] = _inspections(conn, place_id)[::-1]
    return row
