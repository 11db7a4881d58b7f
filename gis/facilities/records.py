"""Facilities one at a time and the sessions held at them (活动记录).

A facility's position may come in WGS 84 or GCJ-02 (高德, 腾讯) and is stored in WGS 84; the community
it stands in is derived by the database from the point (migration 026), never sent. The recorder of a
session is the signed-in user, stamped by the database. Sessions and their photos are evidence: added,
never changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import psycopg
from psycopg.rows import dict_row

from gis.crs import gcj02_to_wgs84
from gis.errors import InvalidInput, NotFound, Problem, text_problems

CRS_NAMES = {
    "epsg:4326": "EPSG:4326",
    "4326": "EPSG:4326",
    "wgs84": "EPSG:4326",
    "gcj-02": "GCJ-02",
    "gcj02": "GCJ-02",
}

_COLUMNS = """f.id, f.kind, k.name_zh AS kind_zh, f.name, f.address, f.owner_community, f.owner_unit,
    u.name AS owner_unit_name, f.community_code, c.name AS community_name, ST_X(f.geom) AS lon,
    ST_Y(f.geom) AS lat, f.position_crs, f.active, f.created_at,
    (SELECT count(*) FROM facility_session s WHERE s.facility_id = f.id) AS sessions"""
_SOURCE = """facility f JOIN facility_kind k ON k.code = f.kind
    LEFT JOIN responsible_unit u ON u.id = f.owner_unit LEFT JOIN community c ON c.code = f.community_code"""


def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float, str]:
    """(lon, lat) in WGS 84 and the canonical name of the system they came in."""
    name = CRS_NAMES.get(crs.strip().lower())
    problems = []
    if name is None:
        problems.append(Problem("crs", "must be EPSG:4326 or GCJ-02"))
    for field, value, bound in (("lon", lon, 180), ("lat", lat, 90)):
        if not (math.isfinite(value) and -bound <= value <= bound):
            problems.append(Problem(field, f"must be a number between -{bound} and {bound}"))
    if problems:
        raise InvalidInput(problems)
    if name == "GCJ-02":
        x, y = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
        return float(x[0]), float(y[0]), "GCJ-02"
    return lon, lat, "EPSG:4326"


def _check_names(conn: psycopg.Connection, fields: dict[str, Any]) -> None:
    problems = text_problems(fields)
    if problems:
        raise InvalidInput(problems)
    kind = fields.get("kind")
    if (
        kind is not None
        and conn.execute("SELECT 1 FROM facility_kind WHERE code = %s", [kind]).fetchone() is None
    ):
        raise InvalidInput.one("kind", "unknown kind: see GET /facilities/vocabulary")
    if "name" in fields and (fields["name"] is None or not fields["name"].strip()):
        raise InvalidInput.one("name", "must not be empty")
    owner_community, owner_unit = fields.get("owner_community"), fields.get("owner_unit")
    if "owner_community" in fields or "owner_unit" in fields:
        if (owner_community is None) == (owner_unit is None):
            raise InvalidInput.one(
                "owner_community", "give the owner: owner_community or owner_unit, one of them"
            )
        if (
            owner_community is not None
            and conn.execute("SELECT 1 FROM community WHERE code = %s", [owner_community]).fetchone() is None
        ):
            raise InvalidInput.one("owner_community", f"no community {owner_community}")
        if (
            owner_unit is not None
            and conn.execute("SELECT 1 FROM responsible_unit WHERE id = %s", [owner_unit]).fetchone() is None
        ):
            raise InvalidInput.one("owner_unit", f"no unit {owner_unit}")


def create_facility(
    conn: psycopg.Connection,
    *,
    kind: str,
    name: str,
    lon: float,
    lat: float,
    crs: str = "EPSG:4326",
    address: str | None = None,
    owner_community: str | None = None,
    owner_unit: int | None = None,
) -> dict[str, Any]:
    """A new facility; its community is the one its point lies in. Outside the admin's scope: the
    database refuses (row-level security)."""
    x, y, crs_name = to_wgs84(lon, lat, crs)
    _check_names(
        conn,
        {
            "kind": kind,
            "name": name,
            "address": address,
            "owner_community": owner_community,
            "owner_unit": owner_unit,
        },
    )
    row = conn.execute(
        "INSERT INTO facility (kind, name, address, owner_community, owner_unit, geom, position_crs)"
        " VALUES (%s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s) RETURNING id",
        [kind, name.strip(), address, owner_community, owner_unit, x, y, crs_name],
    ).fetchone()
    assert row is not None
    return facility(conn, row[0])


def update_facility(conn: psycopg.Connection, facility_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change name, address, owner, active or position (lon, lat, crs together)."""
    current = facility(conn, facility_id)
    fields = {
        k: v
        for k, v in changes.items()
        if k in ("kind", "name", "address", "active", "owner_community", "owner_unit")
    }
    if "owner_community" in fields or "owner_unit" in fields:
        fields.setdefault("owner_community", None)
        fields.setdefault("owner_unit", None)
    _check_names(conn, fields)
    sets, params = [f"{k} = %({k})s" for k in fields], dict(fields)
    if "lon" in changes or "lat" in changes:
        x, y, crs_name = to_wgs84(
            changes.get("lon", current["lon"]),
            changes.get("lat", current["lat"]),
            changes.get("crs") or "EPSG:4326",
        )
        sets += ["geom = ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)", "position_crs = %(crs)s"]
        params.update(x=x, y=y, crs=crs_name)
    if sets:
        params["id"] = facility_id
        # column names come from the fixed list above, values are bound
        done = conn.execute(
            f"UPDATE facility SET {', '.join(sets)} WHERE id = %(id)s",  # noqa: S608
            params,
        )
        if done.rowcount == 0:
            raise psycopg.errors.InsufficientPrivilege("outside your scope")
    return facility(conn, facility_id)


def facility(conn: psycopg.Connection, facility_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(f"SELECT {_COLUMNS} FROM {_SOURCE} WHERE f.id = %s", [facility_id]).fetchone()
    if found is None:
        raise NotFound("facility", facility_id)
    return found


def facilities(
    conn: psycopg.Connection,
    *,
    prefix: str = "",
    kind: str | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """The facilities whose community lies under ``prefix`` ('' also those outside every community)."""
    where = """(%(prefix)s = '' OR starts_with(f.community_code, %(prefix)s))
        AND (%(kind)s::text IS NULL OR f.kind = %(kind)s)
        AND (%(active)s::boolean IS NULL OR f.active = %(active)s)"""
    params = {"prefix": prefix, "kind": kind, "active": active, "limit": limit, "offset": offset}
    with conn.cursor(row_factory=dict_row) as cur:
        total = cur.execute(f"SELECT count(*) AS n FROM facility f WHERE {where}", params).fetchone()
        rows = cur.execute(
            f"SELECT {_COLUMNS} FROM {_SOURCE} WHERE {where}"
            " ORDER BY f.community_code, f.kind, f.id LIMIT %(limit)s OFFSET %(offset)s",
            params,
        ).fetchall()
    assert total is not None
    return total["n"], rows


def vocabulary(conn: psycopg.Connection) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT code, name_zh, name_en FROM facility_kind ORDER BY code").fetchall()


_SESSION = """s.id, s.facility_id, s.held_on, s.topic, s.attendance, s.note, s.recorder, s.recorded_at,
    coalesce((SELECT jsonb_agg(jsonb_build_object('sha256', m.sha256, 'mime', m.mime,
                                                  'file_name', p.file_name,
                                                  'taken_at', m.taken_at) ORDER BY p.added_at, m.sha256)
              FROM facility_session_photo p JOIN media m ON m.sha256 = p.sha256
              WHERE p.session_id = s.id), '[]') AS photos"""


def record_session(
    conn: psycopg.Connection,
    facility_id: int,
    *,
    held_on: date,
    topic: str,
    attendance: int,
    note: str | None = None,
    photos: Sequence[tuple[str, str | None]] = (),
) -> dict[str, Any]:
    """A session held at the facility, recorded by the signed-in user, with photos already in the media
    store (sha256, file name). A facility outside the user's scope: the database refuses."""
    facility(conn, facility_id)
    problems = text_problems({"topic": topic, "note": note})
    if not topic.strip():
        problems.append(Problem("topic", "must not be empty"))
    if not 0 <= attendance <= 100_000:
        problems.append(Problem("attendance", "between 0 and 100000"))
    if held_on > date.today():
        problems.append(Problem("held_on", "lies in the future"))
    if problems:
        raise InvalidInput(problems)
    row = conn.execute(
        "INSERT INTO facility_session (facility_id, held_on, topic, attendance, note,"
        " recorder_id, recorder) VALUES (%s, %s, %s, %s, %s, 0, '') RETURNING id",
        [facility_id, held_on, topic.strip(), attendance, note],
    ).fetchone()
    assert row is not None
    link_photos(conn, row[0], photos)
    return session(conn, row[0])


def link_photos(conn: psycopg.Connection, session_id: int, photos: Sequence[tuple[str, str | None]]) -> None:
    """Link photos kept by the media store (sha256, file name) to a session its recorder made."""
    if photos:
        conn.execute(
            "INSERT INTO facility_session_photo (session_id, sha256, file_name)"
            " SELECT %s, s, n FROM unnest(%s::text[], %s::text[]) AS p(s, n) ON CONFLICT DO NOTHING",
            [session_id, [p[0] for p in photos], [p[1] for p in photos]],
        )


def session(conn: psycopg.Connection, session_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(
            f"SELECT {_SESSION} FROM facility_session s WHERE s.id = %s", [session_id]
        ).fetchone()
    if found is None:
        raise NotFound("session", session_id)
    return found


def sessions(conn: psycopg.Connection, facility_id: int) -> list[dict[str, Any]]:
    facility(conn, facility_id)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"SELECT {_SESSION} FROM facility_session s WHERE s.facility_id = %s"
            " ORDER BY s.held_on DESC, s.id DESC",
            [facility_id],
        ).fetchall()
