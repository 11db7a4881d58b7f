"""门前三包: a shop's frontage agreement (the shop a place of the perimeter tables, or a point of its
own; with its unit or owner, for a period) and the checks of it (pass or fail, photos, the checker
stamped by the database from the signed-in user)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.duties.duties import MAX_NOTE, day_problems, today
from gis.errors import InvalidInput, NotFound, Problem, text_problems

RESULTS = ("pass", "fail")


@dataclass(frozen=True)
class AgreementSpec:
    valid_from: date
    valid_to: date | None = None
    place_id: int | None = None
    shop_name: str | None = None  # default: the place's name
    lon: float | None = None
    lat: float | None = None
    unit_id: int | None = None
    owner: str | None = None
    note: str | None = None


_SELECT = """
SELECT a.id, a.place_id, a.shop_name, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat, a.unit_id,
       u.name AS unit_name, a.owner, lower(a.valid) AS valid_from, upper(a.valid) - 1 AS valid_to, a.note,
       (SELECT jsonb_build_object('checked_on', c.checked_on, 'result', c.result, 'checker', c.checker)
        FROM frontage_check c WHERE c.agreement_id = a.id ORDER BY c.checked_on DESC, c.id DESC LIMIT 1)
           AS last_check
FROM frontage_agreement a LEFT JOIN responsible_unit u ON u.id = a.unit_id
"""


def create_agreement(conn: psycopg.Connection, spec: AgreementSpec) -> dict[str, Any]:
    """A frontage agreement; InvalidInput names every field that is wrong."""
    problems = text_problems({"shop_name": spec.shop_name, "owner": spec.owner, "note": spec.note})
    problems += day_problems(valid_from=spec.valid_from, valid_to=spec.valid_to)
    point = spec.lon is not None or spec.lat is not None
    if (spec.place_id is None) == (not point):
        problems.append(Problem("place_id", "give the shop as a place (place_id) or as lon/lat, not both"))
    if point and not (
        spec.lon is not None
        and math.isfinite(spec.lon)
        and -180 <= spec.lon <= 180
        and spec.lat is not None
        and math.isfinite(spec.lat)
        and -90 <= spec.lat <= 90
    ):
        problems.append(Problem("lon", "lon/lat must be a WGS 84 position"))
    if spec.place_id is None and not (spec.shop_name or "").strip():
        problems.append(Problem("shop_name", "a shop given by its position needs its name"))
    if spec.unit_id is None and not (spec.owner or "").strip():
        problems.append(Problem("owner", "give the unit (unit_id) or the owner who undertakes it"))
    if spec.valid_to is not None and spec.valid_to < spec.valid_from:
        problems.append(Problem("valid_to", f"{spec.valid_to} is before valid_from {spec.valid_from}"))
    found = conn.execute(
        "SELECT (SELECT name FROM place WHERE id = %s),"
        " EXISTS (SELECT 1 FROM responsible_unit WHERE id = %s)",
        [spec.place_id, spec.unit_id],
    ).fetchone()
    assert found is not None
    if spec.place_id is not None and found[0] is None:
        problems.append(Problem("place_id", f"no place with id {spec.place_id}"))
    if spec.unit_id is not None and not found[1]:
        problems.append(Problem("unit_id", f"no unit with id {spec.unit_id}"))
    if problems:
        raise InvalidInput(problems)
    row = conn.execute(
        """INSERT INTO frontage_agreement (place_id, shop_name, geom, unit_id, owner, valid, note)
           SELECT %(place_id)s, coalesce(nullif(btrim(%(shop_name)s), ''), p.name),
                  coalesce(p.geom, ST_Point(%(lon)s, %(lat)s, 4326)), %(unit_id)s,
                  nullif(btrim(%(owner)s), ''), daterange(%(valid_from)s, %(valid_to)s, '[]'), %(note)s
           FROM (SELECT 1) one LEFT JOIN place p ON p.id = %(place_id)s
           RETURNING id""",
        spec.__dict__,
    ).fetchone()
    assert row is not None
    return get_agreement(conn, row[0])


def get_agreement(conn: psycopg.Connection, agreement_id: int) -> dict[str, Any]:
    row = conn.cursor(row_factory=dict_row).execute(_SELECT + " WHERE a.id = %s", [agreement_id]).fetchone()
    if row is None:
        raise NotFound("frontage agreement", agreement_id)
    return row


def list_agreements(
    conn: psycopg.Connection, unit_id: int | None = None, on: date | None = None
) -> list[dict[str, Any]]:
    """The agreements in force on ``on`` (default today) the reader sees, by shop name."""
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            _SELECT
            + """ WHERE a.valid @> %(on)s::date AND (%(unit)s::bigint IS NULL OR a.unit_id = %(unit)s)
        ORDER BY a.shop_name, a.id""",
            {"on": on or today(), "unit": unit_id},
        )
        .fetchall()
    )


def add_check(
    conn: psycopg.Connection,
    agreement_id: int,
    checked_on: date,
    result: str,
    note: str | None,
    photos: list[tuple[str, str | None]],
) -> dict[str, Any]:
    """Record a check of an agreement (the checker: the signed-in user, stamped by the database)."""
    get_agreement(conn, agreement_id)
    problems = text_problems({"result": result, "note": note}) + day_problems(checked_on=checked_on)
    if result not in RESULTS:
        problems.append(Problem("result", "must be pass or fail"))
    if note is not None and len(note) > MAX_NOTE:
        problems.append(Problem("note", f"at most {MAX_NOTE} characters"))
    if checked_on > today():
        problems.append(Problem("checked_on", f"{checked_on} lies ahead"))
    if problems:
        raise InvalidInput(problems)
    row = conn.execute(
        "INSERT INTO frontage_check (agreement_id, checked_on, result, note, checker_id, checker)"
        " VALUES (%s, %s, %s, %s, 0, '') RETURNING id",
        [agreement_id, checked_on, result, note],
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO frontage_check_photo (check_id, sha256, file_name)"
        " SELECT %s, p.sha, p.name FROM unnest(%s::text[], %s::text[]) p(sha, name) ON CONFLICT DO NOTHING",
        [row[0], [s for s, _ in photos], [n for _, n in photos]],
    )
    return checks_of(conn, agreement_id, row[0])[0]


def checks_of(
    conn: psycopg.Connection, agreement_id: int, check_id: int | None = None
) -> list[dict[str, Any]]:
    """An agreement's checks, newest first, with their photos."""
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            """SELECT c.id, c.agreement_id, c.checked_on, c.result, c.note, c.checker, c.recorded_at,
                  coalesce((SELECT jsonb_agg(jsonb_build_object('sha256', p.sha256, 'file_name', p.file_name)
                                             ORDER BY p.added_at, p.sha256)
                            FROM frontage_check_photo p WHERE p.check_id = c.id), '[]') AS photos
           FROM frontage_check c
           WHERE c.agreement_id = %(a)s AND (%(c)s::bigint IS NULL OR c.id = %(c)s)
           ORDER BY c.checked_on DESC, c.id DESC""",
            {"a": agreement_id, "c": check_id},
        )
        .fetchall()
    )
