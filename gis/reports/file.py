"""Filing reports (上报): validated, converted to WGS 84, routed and stored in one statement per batch.

The reporter is the signed-in user, stamped by the database (migration 022), never a name the client
sends. A position in GCJ-02 (高德, 腾讯) or BD-09 (百度) is converted to WGS 84 here. A phone that posts
the same client id again gets the first report back, not a second one.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import psycopg

from gis.crs import bd09_to_wgs84, gcj02_to_wgs84
from gis.errors import Conflict, InvalidInput, Problem, text_problems
from gis.reports import deadlines

PositionCRS = Literal["EPSG:4326", "GCJ-02", "BD-09"]
CRS_NAMES: dict[str, PositionCRS] = {
    "epsg:4326": "EPSG:4326", "4326": "EPSG:4326", "wgs84": "EPSG:4326",
    "gcj-02": "GCJ-02", "gcj02": "GCJ-02", "bd-09": "BD-09", "bd09": "BD-09",
}
CLIENT_ID = r"^[A-Za-z0-9._:-]{8,64}$"
MAX_DESCRIPTION = 2000
FUTURE_SKEW = timedelta(minutes=10)  # a phone's clock may run a little ahead
OLDEST = timedelta(days=30)  # a report queued offline longer than this is a mistake
LOCAL_TZ = "Asia/Shanghai"  # the day a report counts for is the day in China


def today() -> date:
    """Today in China (the server's clock may run in UTC)."""
    return datetime.now(ZoneInfo(LOCAL_TZ)).date()


def china_day(at: datetime) -> date:
    return at.astimezone(ZoneInfo(LOCAL_TZ)).date()


@dataclass(frozen=True)
class Photo:
    """A photo already kept by the media store (gis/media), to be linked to the report."""

    sha256: str
    file_name: str | None = None


@dataclass(frozen=True)
class NewReport:
    """A report as sent: lon/lat in ``crs``; ``client_id`` defaults to a fresh UUID (no retry then)."""

    category: str
    lon: float
    lat: float
    crs: str = "EPSG:4326"
    description: str | None = None
    client_id: str | None = None
    reported_at: datetime | None = None
    photos: Sequence[Photo] = field(default_factory=tuple)


def _crs(name: str) -> PositionCRS | None:
    return CRS_NAMES.get(name.strip().lower())


def _problems(report: NewReport, categories: set[str], now: datetime) -> list[Problem]:
    problems = text_problems({"category": report.category, "description": report.description,
                              "client_id": report.client_id or ""})
    if report.category not in categories and "\x00" not in report.category:
        problems.append(Problem("category", "unknown category: see GET /reports/vocabulary"))
    if _crs(report.crs) is None:
        problems.append(Problem("crs", "must be EPSG:4326, GCJ-02 or BD-09"))
    for name, value, limit in (("lon", report.lon, 180), ("lat", report.lat, 90)):
        if not math.isfinite(value):
            problems.append(Problem(name, "must be a finite number"))
        elif not -limit <= value <= limit:
            problems.append(Problem(name, f"must lie between -{limit} and {limit}"))
    if report.description is not None and len(report.description) > MAX_DESCRIPTION:
        problems.append(Problem("description", f"at most {MAX_DESCRIPTION} characters"))
    if report.client_id is not None and not re.fullmatch(CLIENT_ID, report.client_id):
        problems.append(Problem("client_id", "8-64 letters, digits or . _ : - (a UUID will do)"))
    if report.reported_at is not None:
        if report.reported_at.tzinfo is None:
            problems.append(Problem("reported_at", "needs its time zone (e.g. 2026-05-04T10:11:12+08:00)"))
        elif report.reported_at > now + FUTURE_SKEW:
            problems.append(Problem("reported_at", "lies in the future"))
        elif report.reported_at < now - OLDEST:
            problems.append(Problem("reported_at", f"more than {OLDEST.days} days ago"))
    return problems


def _wgs84(reports: Sequence[NewReport]) -> tuple[np.ndarray, np.ndarray]:
    lon = np.array([r.lon for r in reports], dtype=float)
    lat = np.array([r.lat for r in reports], dtype=float)
    for name, convert in (("GCJ-02", gcj02_to_wgs84), ("BD-09", bd09_to_wgs84)):
        chosen = np.array([_crs(r.crs) == name for r in reports])
        if chosen.any():
            lon[chosen], lat[chosen] = convert(lon[chosen], lat[chosen])
    return lon, lat


_INSERT = """
WITH i AS (
    SELECT * FROM unnest(%(n)s::int[], %(categories)s::text[], %(lons)s::float8[], %(lats)s::float8[],
                         %(crs)s::text[], %(descriptions)s::text[], %(client_ids)s::text[],
                         %(reported_at)s::timestamptz[], %(days)s::date[], %(accept_by)s::date[],
                         %(handle_by)s::date[])
        AS i(n, category, lon, lat, crs, description, client_id, reported_at, day, accept_by, handle_by)
), p AS (
    SELECT i.*, ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326) AS geom FROM i
), o AS (
    SELECT * FROM report_owners((SELECT array_agg(n::bigint ORDER BY n) FROM p),
                                (SELECT array_agg(geom ORDER BY n) FROM p),
                                (SELECT array_agg(category ORDER BY n) FROM p),
                                (SELECT array_agg(day ORDER BY n) FROM p))
)
INSERT INTO report (county, category, position, position_crs, description, reporter_id, reporter, client_id,
                    reported_at, report_day, owner_kind, unit_id, grid_code, community_code, area_code,
                    routed_rule, routed_grid, routed_section, routed_section_m, routed_assignment,
                    routed_valid, routed_unit, accept_by, handle_by)
SELECT o.county, p.category, p.geom, p.crs, p.description, 0, '', p.client_id, p.reported_at, p.day,
       o.owner_kind, o.unit_id, o.grid_code, o.community_code, o.area_code, o.routed_rule, o.routed_grid,
       o.routed_section, o.routed_section_m, o.routed_assignment, o.routed_valid, o.routed_unit,
       p.accept_by, p.handle_by
FROM p JOIN o ON o.id = p.n
ORDER BY p.n
ON CONFLICT (reporter_id, client_id) DO NOTHING
RETURNING id, client_id"""

_EVENTS = """INSERT INTO report_event (report_id, action, to_state, actor_id, actor, owner_kind, unit_id,
    grid_code, community_code)
SELECT r.id, 'file', 'new', 0, '', r.owner_kind, r.unit_id, r.grid_code, r.community_code
FROM report r WHERE r.id = ANY (%s::bigint[]) ORDER BY r.id"""


def file_reports(conn: psycopg.Connection, reports: Sequence[NewReport]) -> list[tuple[int, bool]]:
    """File a batch by the acting user: for each report (in order) its id and whether it is new
    (False: this reporter already filed its client id; the first report's id). All or nothing: every
    problem of every report is listed (InvalidInput, ``row`` = its index)."""
    if not reports:
        return []
    now = datetime.now(UTC)
    vocabulary = {code: (a, h) for code, a, h in conn.execute(
        "SELECT code, deadline_accept_days, deadline_handle_days FROM report_category")}
    problems = [Problem(p.field, p.reason, row) for row, r in enumerate(reports)
                for p in _problems(r, set(vocabulary), now)]
    if problems:
        raise InvalidInput(problems)
    client_ids = [r.client_id or uuid.uuid4().hex for r in reports]
    if len(set(client_ids)) < len(client_ids):
        raise InvalidInput.one("client_id", "the same client id twice in one batch")
    seen = [r.reported_at or now for r in reports]
    days = [china_day(at) for at in seen]
    due = [deadlines.deadlines(day, *vocabulary[r.category]) for day, r in zip(days, reports, strict=True)]
    lon, lat = _wgs84(reports)
    params = {
        "n": list(range(len(reports))), "categories": [r.category for r in reports],
        "lons": lon.tolist(), "lats": lat.tolist(), "crs": [_crs(r.crs) for r in reports],
        "descriptions": [(r.description or "").strip() or None for r in reports], "client_ids": client_ids,
        "reported_at": seen, "days": days, "accept_by": [d[0] for d in due], "handle_by": [d[1] for d in due],
    }
    with conn.transaction():  # a savepoint: a refusal leaves the request's transaction usable
        made = {c: i for i, c in conn.execute(_INSERT, params).fetchall()}
        if made:
            conn.execute(_EVENTS, [list(made.values())])
    photos = [(made[c], p.sha256, p.file_name) for c, r in zip(client_ids, reports, strict=True)
              if c in made for p in r.photos]
    if photos:
        conn.execute("INSERT INTO report_photo (report_id, sha256, kind, file_name)"
                     " SELECT i, s, 'before', f"
                     " FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS p(i, s, f)"
                     " ON CONFLICT DO NOTHING", [list(c) for c in zip(*photos, strict=True)])
    old = [c for c in client_ids if c not in made]
    if old:
        made.update(dict(conn.execute(
            "SELECT client_id, id FROM report WHERE reporter_id = (SELECT a.user_id FROM audit_actor() a)"
            " AND client_id = ANY (%s)", [old]).fetchall()))
    missing = [c for c in client_ids if c not in made]
    if missing:  # the insert did nothing yet no report of this reporter has it: an unstamped caller
        raise Conflict(f"client_id {missing[0]!r} could not be stored")
    return [(made[c], c not in old) for c in client_ids]


def file_report(conn: psycopg.Connection, report: NewReport) -> tuple[int, bool]:
    """File one report: (its id, True) when new, (the first report's id, False) on a retry."""
    return file_reports(conn, [report])[0]
