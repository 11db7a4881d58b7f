"""Recording a visit (走访登记) and reading visits back.

The visitor is the signed-in user, stamped by the database (migration 020), never a name the client
sends. A position in GCJ-02 (高德, 腾讯) or BD-09 (百度) is converted to WGS 84 here; the distance to
the household is computed by PostGIS on the ellipsoid, and a check-in beyond the configured limit is
flagged, not refused. A phone that posts the same client id again gets the first visit back.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from psycopg.rows import dict_row

from gis.crs import bd09_to_wgs84, gcj02_to_wgs84
from gis.errors import Conflict, InvalidInput, NotFound, Problem, text_problems

PositionCRS = Literal["EPSG:4326", "GCJ-02", "BD-09"]
CRS_NAMES: dict[str, PositionCRS] = {
    "epsg:4326": "EPSG:4326", "4326": "EPSG:4326", "wgs84": "EPSG:4326",
    "gcj-02": "GCJ-02", "gcj02": "GCJ-02", "bd-09": "BD-09", "bd09": "BD-09",
}
CLIENT_ID = r"^[A-Za-z0-9._:-]{8,64}$"
MAX_NOTE = 2000
FUTURE_SKEW = timedelta(minutes=10)  # a phone's clock may run a little ahead
OLDEST = timedelta(days=30)  # a visit queued offline longer than this is a mistake, not a visit
LOCAL_TZ = "Asia/Shanghai"  # the day a visit counts for is the day in China


def today() -> date:
    """Today in China (the server's clock may run in UTC: 06:00 in Beijing is yesterday there)."""
    return datetime.now(ZoneInfo(LOCAL_TZ)).date()


@dataclass(frozen=True)
class Position:
    """Where the phone was: lon/lat in ``crs`` and the phone's own accuracy estimate (metres)."""

    lon: float
    lat: float
    crs: str = "EPSG:4326"
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Photo:
    """A photo already kept by the media store (gis/media), to be linked to the visit."""

    sha256: str
    file_name: str | None = None


def position_crs(name: str) -> PositionCRS:
    found = CRS_NAMES.get(name.strip().lower())
    if found is None:
        raise InvalidInput.one("crs", "must be EPSG:4326, GCJ-02 or BD-09")
    return found


def to_wgs84(position: Position) -> tuple[float, float, PositionCRS]:
    """The position in WGS 84 (lon, lat) and the name of the system it came in."""
    crs = position_crs(position.crs)
    problems = [Problem(f, "must be a finite number")
                for f, v in (("lon", position.lon), ("lat", position.lat)) if not math.isfinite(v)]
    if not problems and not -180 <= position.lon <= 180:
        problems.append(Problem("lon", "must lie between -180 and 180"))
    if not problems and not -90 <= position.lat <= 90:
        problems.append(Problem("lat", "must lie between -90 and 90"))
    if position.accuracy_m is not None and not (math.isfinite(position.accuracy_m)
                                                and 0 <= position.accuracy_m <= 100_000):
        problems.append(Problem("accuracy_m", "must be between 0 and 100000 metres"))
    if problems:
        raise InvalidInput(problems)
    lon, lat = np.array([position.lon]), np.array([position.lat])
    if crs == "GCJ-02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    elif crs == "BD-09":
        lon, lat = bd09_to_wgs84(lon, lat)
    return float(lon[0]), float(lat[0]), crs


_COLUMNS = """v.id, v.household_id, v.visitor, v.visited_at, v.recorded_at, v.kind, k.name_zh AS kind_zh,
    v.outcome, o.name_zh AS outcome_zh, o.resets_clock, v.note, ST_X(v.position) AS lon,
    ST_Y(v.position) AS lat, v.position_crs, v.accuracy_m, v.distance_m, v.far_limit_m, v.far, v.client_id,
    v.county, h.grid_code,
    coalesce((SELECT jsonb_agg(jsonb_build_object(
                 'sha256', m.sha256, 'mime', m.mime, 'width', m.width, 'height', m.height,
                 'file_name', vp.file_name, 'taken_at', m.taken_at, 'taken_offset', m.taken_offset,
                 'lon', ST_X(m.position), 'lat', ST_Y(m.position)) ORDER BY vp.added_at, m.sha256)
              FROM visit_photo vp JOIN media m ON m.sha256 = vp.sha256 WHERE vp.visit_id = v.id), '[]')
        AS photos"""
_SOURCE = """visit v JOIN visit_kind k ON k.code = v.kind JOIN visit_outcome o ON o.code = v.outcome
    JOIN household h ON h.id = v.household_id"""

_INSERT = """
WITH h AS (
    SELECT h.id, h.geom,
           coalesce(left(h.grid_code, 6),
                    (SELECT left(c.code, 6) FROM community c WHERE ST_Intersects(c.geom, h.geom)
                     ORDER BY c.code LIMIT 1)) AS county
    FROM household h WHERE h.id = %(household_id)s
), p AS (
    SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geom
)
INSERT INTO visit (household_id, county, visited_at, kind, outcome, note, position, position_crs,
                   accuracy_m, distance_m, far_limit_m, far, client_id)
SELECT h.id, h.county, coalesce(%(visited_at)s, now()), %(kind)s, %(outcome)s, %(note)s, p.geom,
       %(crs)s, %(accuracy_m)s, d.metres, %(far_m)s, d.metres > %(far_m)s, %(client_id)s
FROM h CROSS JOIN p
CROSS JOIN LATERAL (SELECT ST_Distance(h.geom::geography, p.geom::geography, true) AS metres) d
ON CONFLICT (visitor_id, client_id) DO NOTHING
RETURNING id"""


def _check(conn: psycopg.Connection, kind: str, outcome: str, note: str | None, client_id: str,
           visited_at: datetime | None) -> None:
    known = conn.execute("SELECT EXISTS (SELECT 1 FROM visit_kind WHERE code = %s),"
                         " EXISTS (SELECT 1 FROM visit_outcome WHERE code = %s)", [kind, outcome]).fetchone()
    assert known is not None
    problems = text_problems({"kind": kind, "outcome": outcome, "note": note, "client_id": client_id})
    if not known[0] and "\x00" not in kind:
        problems.append(Problem("kind", "unknown kind: see GET /visits/vocabulary"))
    if not known[1] and "\x00" not in outcome:
        problems.append(Problem("outcome", "unknown outcome: see GET /visits/vocabulary"))
    if note is not None and len(note) > MAX_NOTE:
        problems.append(Problem("note", f"at most {MAX_NOTE} characters"))
    if not re.fullmatch(CLIENT_ID, client_id):
        problems.append(Problem("client_id", "8-64 letters, digits or . _ : - (a UUID will do)"))
    if visited_at is not None:
        if visited_at.tzinfo is None:
            problems.append(Problem("visited_at", "needs its time zone (e.g. 2026-05-04T10:11:12+08:00)"))
        else:
            now = datetime.now(UTC)
            if visited_at > now + FUTURE_SKEW:
                problems.append(Problem("visited_at", "lies in the future"))
            elif visited_at < now - OLDEST:
                problems.append(Problem("visited_at", f"more than {OLDEST.days} days ago"))
    if problems:
        raise InvalidInput(problems)


def record_visit(conn: psycopg.Connection, household_id: int, position: Position, kind: str, outcome: str,
                 note: str | None = None, client_id: str | None = None, *, far_m: float = 100.0,
                 visited_at: datetime | None = None, photos: Sequence[Photo] = ()
                 ) -> tuple[dict[str, Any], bool]:
    """Record a visit by the acting user; (the visit, True) when new, (the first visit, False) when
    this visitor already posted ``client_id``. The household must be one the user may write (row-level
    security): else NotFound. The same client id used for another household: Conflict."""
    client_id = client_id or uuid.uuid4().hex
    note = note.strip() or None if note is not None else None
    lon, lat, crs = to_wgs84(position)
    _check(conn, kind, outcome, note, client_id, visited_at)
    params = {"household_id": household_id, "lon": lon, "lat": lat, "crs": crs,
              "accuracy_m": position.accuracy_m, "kind": kind, "outcome": outcome, "note": note,
              "client_id": client_id, "visited_at": visited_at, "far_m": far_m}
    try:
        with conn.transaction():  # a savepoint: the error below leaves the request's transaction usable
            row = conn.execute(_INSERT, params).fetchone()
    except psycopg.errors.NotNullViolation:
        raise Conflict(f"household {household_id} lies in no community: its county is unknown") from None
    if row is not None:
        if photos:
            conn.execute("INSERT INTO visit_photo (visit_id, sha256, file_name)"
                         " SELECT %s, s, n FROM unnest(%s::text[], %s::text[]) AS p(s, n)"
                         " ON CONFLICT DO NOTHING",
                         [row[0], [p.sha256 for p in photos], [p.file_name for p in photos]])
        return visit(conn, row[0]), True
    with conn.cursor(row_factory=dict_row) as cur:
        first = cur.execute(f"SELECT {_COLUMNS} FROM {_SOURCE}"
                            " WHERE v.visitor_id = (SELECT a.user_id FROM audit_actor() a)"
                            " AND v.client_id = %s", [client_id]).fetchone()
    if first is None:
        raise NotFound("household", household_id)
    if first["household_id"] != household_id:
        raise Conflict(f"client_id {client_id!r} was already used for a visit to household "
                       f"{first['household_id']}")
    return first, False


def visit(conn: psycopg.Connection, visit_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(f"SELECT {_COLUMNS} FROM {_SOURCE} WHERE v.id = %s", [visit_id]).fetchone()
    if found is None:
        raise NotFound("visit", visit_id)
    return found


def visits_of(conn: psycopg.Connection, household_id: int) -> list[dict[str, Any]]:
    """A household's visits, newest first; NotFound when the household is not the user's to read."""
    with conn.cursor(row_factory=dict_row) as cur:
        seen = cur.execute("SELECT 1 FROM household WHERE id = %s", [household_id]).fetchone()
        if seen is None:
            raise NotFound("household", household_id)
        return cur.execute(f"SELECT {_COLUMNS} FROM {_SOURCE} WHERE v.household_id = %s"
                           " ORDER BY v.visited_at DESC, v.id DESC", [household_id]).fetchall()


def visits_in(conn: psycopg.Connection, *, grid: str | None = None, community: str | None = None,
              visitor: str | None = None, start: date, end: date, limit: int = 100, offset: int = 0
              ) -> tuple[int, list[dict[str, Any]]]:
    """The visits of a period (days ``start``..``end`` in China, both included) in an area or by a
    visitor, oldest first, one page: what a figure of visits counts (gis/visits/figures.py)."""
    where = """v.visited_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
        AND v.visited_at < (%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s
        AND (%(grid)s::text IS NULL OR h.grid_code = %(grid)s)
        AND (%(community)s::text IS NULL
             OR h.grid_code IN (SELECT code FROM grid WHERE community_code = %(community)s))
        AND (%(visitor)s::text IS NULL OR v.visitor = %(visitor)s)"""
    params = {"start": start, "end": end, "tz": LOCAL_TZ, "grid": grid, "community": community,
              "visitor": visitor, "limit": limit, "offset": offset}
    with conn.cursor(row_factory=dict_row) as cur:
        total = cur.execute(f"SELECT count(*) AS n FROM {_SOURCE} WHERE {where}", params).fetchone()
        rows = cur.execute(f"SELECT {_COLUMNS} FROM {_SOURCE} WHERE {where}"
                           " ORDER BY v.visited_at, v.id LIMIT %(limit)s OFFSET %(offset)s",
                           params).fetchall()
    assert total is not None
    return total["n"], rows


def vocabulary(conn: psycopg.Connection) -> dict[str, list[dict[str, Any]]]:
    """The kinds, outcomes and the visit policy, with their Chinese names (data, not code)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return {
            "kinds": cur.execute("SELECT code, name_zh, name_en FROM visit_kind ORDER BY code").fetchall(),
            "outcomes": cur.execute("SELECT code, name_zh, name_en, resets_clock FROM visit_outcome"
                                    " ORDER BY code").fetchall(),
            "policy": cur.execute("SELECT group_code, kind, key_category, name_zh, name_en, interval_days"
                                  " FROM visit_policy ORDER BY interval_days, group_code").fetchall(),
        }
