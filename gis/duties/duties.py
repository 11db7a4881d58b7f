"""Duties: defining one (recurrence, post, unit, period), the roster derived from the recurrences for a
range of days, the days missed, and recording a day (done or missed) with its photos.

Nothing of the roster is stored: it is generated in SQL (roster.sql) whenever it is read, so a duty's
changed period or a new duty shows at once. Only what someone recorded about a day is kept, stamped by
the database with the signed-in user (migration 025); a rostered day nobody recorded by its end counts
as missed from the next day (in China's time zone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from gis.errors import Conflict, InvalidInput, NotFound, Problem, text_problems
from gis.sql_files import sql_text

LOCAL_TZ = "Asia/Shanghai"  # a duty day ends at midnight in China, not on the server's clock
MAX_ROSTER_DAYS = 731  # two years of days at once; longer ranges go through several calls
RECURRENCES = ("weekly", "monthly")
STATUSES = ("done", "missed")
MAX_NOTE = 2000
# Days outside these years are typing mistakes (and 9999-12-31 + 1 day overflows Python's date).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def today() -> date:
    return datetime.now(ZoneInfo(LOCAL_TZ)).date()


@dataclass(frozen=True)
class DutySpec:
    """A duty as asked for: weekly needs ``weekday`` (ISO, 5 = Friday), monthly ``month_day`` (1-31);
    the post is a road section (``section_id``) or a point (``lon``/``lat`` in WGS 84, ``post_name``)."""

    name: str
    unit_id: int
    recurrence: str
    valid_from: date
    valid_to: date | None = None
    weekday: int | None = None
    month_day: int | None = None
    section_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    post_name: str | None = None
    note: str | None = None


_DUTY_SELECT = """
SELECT d.id, d.name, d.unit_id, u.name AS unit_name, d.recurrence, d.weekday, d.month_day,
       d.section_id, s.code AS section_code, d.post_name, ST_X(d.post) AS lon, ST_Y(d.post) AS lat,
       lower(d.valid) AS valid_from, upper(d.valid) - 1 AS valid_to, d.note, d.created_at
FROM duty d JOIN responsible_unit u ON u.id = d.unit_id LEFT JOIN road_section s ON s.id = d.section_id
"""


def _spec_problems(conn: psycopg.Connection, spec: DutySpec) -> list[Problem]:
    problems = text_problems({"name": spec.name, "post_name": spec.post_name, "note": spec.note})
    problems += day_problems(valid_from=spec.valid_from, valid_to=spec.valid_to)
    if not spec.name.strip():
        problems.append(Problem("name", "must not be empty"))
    if spec.recurrence not in RECURRENCES:
        problems.append(Problem("recurrence", "must be weekly or monthly"))
    if spec.recurrence == "weekly" and not (spec.weekday and 1 <= spec.weekday <= 7):
        problems.append(Problem("weekday", "a weekly duty needs an ISO weekday 1 (Monday) to 7 (Sunday)"))
    if spec.recurrence == "monthly" and not (spec.month_day and 1 <= spec.month_day <= 31):
        problems.append(Problem("month_day", "a monthly duty needs a day of the month 1 to 31"))
    if spec.recurrence == "weekly" and spec.month_day is not None:
        problems.append(Problem("month_day", "a weekly duty has no day of the month"))
    if spec.recurrence == "monthly" and spec.weekday is not None:
        problems.append(Problem("weekday", "a monthly duty has no weekday"))
    if spec.valid_to is not None and spec.valid_to < spec.valid_from:
        problems.append(Problem("valid_to", f"{spec.valid_to} is before valid_from {spec.valid_from}"))
    point = spec.lon is not None or spec.lat is not None
    if (spec.section_id is None) == (not point):
        problems.append(Problem("section_id", "give the post as a road section or as lon/lat, not both"))
    if point:
        if spec.lon is None or not math.isfinite(spec.lon) or not -180 <= spec.lon <= 180:
            problems.append(Problem("lon", "must be a longitude between -180 and 180"))
        if spec.lat is None or not math.isfinite(spec.lat) or not -90 <= spec.lat <= 90:
            problems.append(Problem("lat", "must be a latitude between -90 and 90"))
    found = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM responsible_unit WHERE id = %s),"
        " EXISTS (SELECT 1 FROM road_section WHERE id = %s AND retired_on IS NULL)",
        [spec.unit_id, spec.section_id],
    ).fetchone()
    assert found is not None
    if not found[0]:
        problems.append(Problem("unit_id", f"no unit with id {spec.unit_id}"))
    if spec.section_id is not None and not found[1]:
        problems.append(Problem("section_id", f"no live road section with id {spec.section_id}"))
    return problems


def create_duty(conn: psycopg.Connection, spec: DutySpec) -> dict[str, Any]:
    """Define a duty; InvalidInput names every field that is wrong."""
    problems = _spec_problems(conn, spec)
    if problems:
        raise InvalidInput(problems)
    row = conn.execute(
        """INSERT INTO duty (name, unit_id, recurrence, weekday, month_day, section_id, post, post_name,
                             valid, note)
           VALUES (%(name)s, %(unit_id)s, %(recurrence)s, %(weekday)s, %(month_day)s, %(section_id)s,
                   CASE WHEN %(lon)s::float8 IS NOT NULL THEN ST_Point(%(lon)s, %(lat)s, 4326) END,
                   %(post_name)s, daterange(%(valid_from)s, %(valid_to)s, '[]'), %(note)s)
           RETURNING id""",
        {**spec.__dict__, "name": spec.name.strip()},
    ).fetchone()
    assert row is not None
    return get_duty(conn, row[0])


def get_duty(conn: psycopg.Connection, duty_id: int) -> dict[str, Any]:
    row = conn.cursor(row_factory=dict_row).execute(_DUTY_SELECT + " WHERE d.id = %s", [duty_id]).fetchone()
    if row is None:
        raise NotFound("duty", duty_id)
    return row


def list_duties(conn: psycopg.Connection, unit_id: int | None = None) -> list[dict[str, Any]]:
    """The duties the reader sees (a unit's accounts: their own), by unit then name."""
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            _DUTY_SELECT
            + " WHERE %(unit)s::bigint IS NULL OR d.unit_id = %(unit)s ORDER BY u.name, d.name, d.id",
            {"unit": unit_id},
        )
        .fetchall()
    )


def day_problems(**days: date | None) -> list[Problem]:
    """The days given (by field name) that lie outside FIRST_DAY..LAST_DAY."""
    return [
        Problem(field, f"must lie between {FIRST_DAY} and {LAST_DAY}")
        for field, day in days.items()
        if day is not None and not FIRST_DAY <= day <= LAST_DAY
    ]


def _range(start: date, end: date) -> None:
    problems = day_problems(**{"from": start, "to": end})
    if problems:
        raise InvalidInput(problems)
    if end < start:
        raise InvalidInput.one("to", f"{end} is before from {start}")
    if (end - start).days + 1 > MAX_ROSTER_DAYS:
        raise InvalidInput.one("to", f"at most {MAX_ROSTER_DAYS} days at once")


def roster(
    conn: psycopg.Connection,
    start: date,
    end: date,
    unit_id: int | None = None,
    duty_id: int | None = None,
    on: date | None = None,
) -> list[dict[str, Any]]:
    """Every rostered day of the duties the reader sees in [start, end], by day: with its record, and
    ``state`` done / missed / due (missed: recorded so, or not recorded and the day is before ``on``)."""
    _range(start, end)
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            sql_text("gis.duties", "roster"),
            {"start": start, "end": end, "unit_id": unit_id, "duty_id": duty_id, "today": on or today()},
        )
        .fetchall()
    )


def missed(
    conn: psycopg.Connection, start: date, end: date, unit_id: int | None = None, on: date | None = None
) -> list[dict[str, Any]]:
    """The rostered days in [start, end] missed as of ``on`` (default today): recorded as missed, or not
    recorded by the end of the day. A day is listed from the day after it."""
    return [r for r in roster(conn, start, end, unit_id, on=on) if r["state"] == "missed"]


def record_day(
    conn: psycopg.Connection,
    duty_id: int,
    duty_day: date,
    status: str,
    note: str | None,
    photos: list[tuple[str, str | None]],
    on: date | None = None,
) -> dict[str, Any]:
    """Record a rostered day of a duty the reader sees: done or missed, with photos already in the media
    store ((sha256, file name) pairs). The recorder is stamped by the database. Raises NotFound (no such
    duty for the reader), InvalidInput (the day is not on the roster, lies ahead, bad status or note) or
    Conflict (the day is already recorded)."""
    get_duty(conn, duty_id)
    problems = text_problems({"status": status, "note": note})
    bad_day = day_problems(duty_day=duty_day)
    if status not in STATUSES:
        problems.append(Problem("status", "must be done or missed"))
    if note is not None and len(note) > MAX_NOTE:
        problems.append(Problem("note", f"at most {MAX_NOTE} characters"))
    if bad_day:
        problems += bad_day
    elif duty_day > (on or today()):
        problems.append(Problem("duty_day", f"{duty_day} lies ahead: a day is recorded on it or after"))
    elif not roster(conn, duty_day, duty_day, duty_id=duty_id, on=on):
        problems.append(Problem("duty_day", f"{duty_day} is not on the duty's roster"))
    if problems:
        raise InvalidInput(problems)
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO duty_record (duty_id, duty_day, status, note, recorder_id, recorder)"
                " VALUES (%s, %s, %s, %s, 0, '') RETURNING id",  # recorder: stamped by the trigger
                [duty_id, duty_day, status, note],
            ).fetchone()
            assert row is not None
            conn.execute(
                "INSERT INTO duty_record_photo (record_id, sha256, file_name)"
                " SELECT %s, p.sha, p.name FROM unnest(%s::text[], %s::text[]) p(sha, name)"
                " ON CONFLICT DO NOTHING",
                [row[0], [s for s, _ in photos], [n for _, n in photos]],
            )
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"{duty_day} of duty {duty_id} is already recorded") from None
    except psycopg.errors.InsufficientPrivilege:  # row-level security: not the reader's unit
        raise NotFound("duty", duty_id) from None
    return get_record(conn, row[0])


_RECORD_SELECT = """
SELECT r.id, r.duty_id, r.duty_day, r.status, r.note, r.recorder, r.recorded_at,
       (r.recorded_at AT TIME ZONE %(tz)s)::date > r.duty_day AS late,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                    'sha256', m.sha256, 'mime', m.mime, 'width', m.width, 'height', m.height,
                    'file_name', p.file_name, 'taken_at', m.taken_at,
                    'lon', ST_X(m.position), 'lat', ST_Y(m.position)) ORDER BY p.added_at, m.sha256)
                 FROM duty_record_photo p JOIN media m ON m.sha256 = p.sha256 WHERE p.record_id = r.id),
                '[]') AS photos
FROM duty_record r
"""


def get_record(conn: psycopg.Connection, record_id: int) -> dict[str, Any]:
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(_RECORD_SELECT + " WHERE r.id = %(id)s", {"id": record_id, "tz": LOCAL_TZ})
        .fetchone()
    )
    if row is None:
        raise NotFound("duty record", record_id)
    return row


def records_of(conn: psycopg.Connection, duty_id: int) -> list[dict[str, Any]]:
    """A duty's records, newest day first, with their photos (EXIF time and place kept as evidence)."""
    get_duty(conn, duty_id)
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            _RECORD_SELECT + " WHERE r.duty_id = %(id)s ORDER BY r.duty_day DESC",
            {"id": duty_id, "tz": LOCAL_TZ},
        )
        .fetchall()
    )


def default_period(end: date | None = None, days: int = 30) -> tuple[date, date]:
    """The last ``days`` days up to ``end`` (default yesterday: today's duty is not missed yet)."""
    last = end or today() - timedelta(days=1)
    problems = day_problems(to=last)
    if problems:
        raise InvalidInput(problems)
    return last - timedelta(days=days - 1), last
