"""Volunteer teams, members, activities and hours.

A resident is named by person_id and read under the register's row-level security (a person the user
may not read is not found); an outsider by name and phone. Joining and leaving write the membership;
the database derives person.volunteer from it. Activities and hours are evidence: added, never changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import Conflict, InvalidInput, NotFound, Problem, text_problems

TEAM_SCOPE = r"^[1-9][0-9]{8}([0-9]{3})?$"
PHONE = r"^[0-9+\-]{5,20}$"


def create_team(conn: psycopg.Connection, *, name: str, scope: str, station_id: int | None = None) -> dict:
    problems = text_problems({"name": name})
    if not name.strip():
        problems.append(Problem("name", "must not be empty"))
    if not re.fullmatch(TEAM_SCOPE, scope):
        problems.append(Problem("scope", "the 9-digit street or 12-digit community the team serves"))
    if problems:
        raise InvalidInput(problems)
    if (
        station_id is not None
        and conn.execute(
            "SELECT 1 FROM facility WHERE id = %s AND kind = 'volunteer_station'", [station_id]
        ).fetchone()
        is None
    ):
        raise InvalidInput.one("station_id", f"no volunteer station {station_id}")
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO volunteer_team (name, scope, station_id) VALUES (%s, %s, %s) RETURNING id",
                [name.strip(), scope, station_id],
            ).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"a team named {name.strip()!r} already serves {scope}") from None
    assert row is not None
    return team(conn, row[0])


_TEAM = """t.id, t.name, t.scope, t.kind, t.station_id, t.created_at,
    (SELECT count(*) FROM volunteer_member m WHERE m.team_id = t.id AND m.left_on IS NULL) AS active_members,
    (SELECT coalesce(sum(h.hours), 0) FROM volunteer_hours h WHERE h.team_id = t.id) AS hours"""


def team(conn: psycopg.Connection, team_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(f"SELECT {_TEAM} FROM volunteer_team t WHERE t.id = %s", [team_id]).fetchone()
    if found is None:
        raise NotFound("team", team_id)
    return found


def teams(conn: psycopg.Connection, prefix: str = "") -> list[dict[str, Any]]:
    """The teams the user sees whose area lies under ``prefix`` or holds it."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"SELECT {_TEAM} FROM volunteer_team t"
            " WHERE starts_with(t.scope, %(p)s) OR starts_with(%(p)s, t.scope)"
            " ORDER BY t.scope, t.name",
            {"p": prefix},
        ).fetchall()


_MEMBER = """m.id, m.team_id, m.person_id, coalesce(p.name, m.outsider_name) AS name,
    m.outsider_phone AS phone, m.person_id IS NULL AS outsider, m.joined_on, m.left_on,
    (SELECT coalesce(sum(h.hours), 0) FROM volunteer_hours h WHERE h.member_id = m.id) AS hours"""


def members(conn: psycopg.Connection, team_id: int, *, active_only: bool = False) -> list[dict[str, Any]]:
    """The members the user may read (residents under the register's rules), with their hours."""
    team(conn, team_id)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"SELECT {_MEMBER} FROM volunteer_member m LEFT JOIN person p ON p.id = m.person_id"
            " WHERE m.team_id = %s AND (NOT %s OR m.left_on IS NULL)"
            " ORDER BY m.left_on IS NOT NULL, m.joined_on, m.id",
            [team_id, active_only],
        ).fetchall()


def join(
    conn: psycopg.Connection,
    team_id: int,
    *,
    person_id: int | None = None,
    name: str | None = None,
    phone: str | None = None,
    joined_on: date | None = None,
) -> dict[str, Any]:
    """A resident (person_id) or an outsider (name, phone) joins the team."""
    team(conn, team_id)
    problems = text_problems({"name": name, "phone": phone})
    if (person_id is None) == (name is None or not name.strip()):
        problems.append(
            Problem("person_id", "name a resident (person_id) or an outsider (name), one of them")
        )
    if person_id is not None and phone is not None:
        problems.append(Problem("phone", "a resident's phone is the register's"))
    if phone is not None and not re.fullmatch(PHONE, phone):
        problems.append(Problem("phone", "5-20 digits, + or -"))
    if problems:
        raise InvalidInput(problems)
    if (
        person_id is not None
        and conn.execute("SELECT 1 FROM person WHERE id = %s", [person_id]).fetchone() is None
    ):
        raise NotFound("person", person_id)
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO volunteer_member (team_id, person_id, outsider_name, outsider_phone,"
                " joined_on) VALUES (%s, %s, %s, %s, coalesce(%s, current_date)) RETURNING id",
                [team_id, person_id, name.strip() if name else None, phone, joined_on],
            ).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"person {person_id} is already an active member of team {team_id}") from None
    assert row is not None
    return member(conn, row[0])


def member(conn: psycopg.Connection, member_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(
            f"SELECT {_MEMBER} FROM volunteer_member m LEFT JOIN person p ON p.id = m.person_id"
            " WHERE m.id = %s",
            [member_id],
        ).fetchone()
    if found is None:
        raise NotFound("member", member_id)
    return found


def leave(conn: psycopg.Connection, member_id: int, left_on: date | None = None) -> dict[str, Any]:
    """The member leaves (kept, with left_on); the person's volunteer flag follows."""
    found = member(conn, member_id)
    if found["left_on"] is not None:
        raise Conflict(f"member {member_id} left on {found['left_on']}")
    day = left_on or date.today()
    if day < found["joined_on"]:
        raise InvalidInput.one("left_on", "before the member joined")
    done = conn.execute(
        "UPDATE volunteer_member SET left_on = %s WHERE id = %s AND left_on IS NULL", [day, member_id]
    )
    if done.rowcount == 0:
        raise psycopg.errors.InsufficientPrivilege("outside your scope")
    return member(conn, member_id)


def record_activity(
    conn: psycopg.Connection,
    team_id: int,
    *,
    held_on: date,
    title: str,
    hours: Sequence[tuple[int, Decimal]],
    facility_id: int | None = None,
) -> dict[str, Any]:
    """An activity of the team with the hours each member served (members of this team only)."""
    team(conn, team_id)
    problems = text_problems({"title": title})
    if not title.strip():
        problems.append(Problem("title", "must not be empty"))
    if held_on > date.today():
        problems.append(Problem("held_on", "lies in the future"))
    ids = [m for m, _ in hours]
    if len(set(ids)) != len(ids):
        problems.append(Problem("hours", "a member appears twice"))
    if any(not (0 < h <= 24) for _, h in hours):
        problems.append(Problem("hours", "each between 0 and 24"))
    if problems:
        raise InvalidInput(problems)
    strangers = conn.execute(
        "SELECT array_agg(i) FROM unnest(%s::bigint[]) i WHERE NOT EXISTS ("
        " SELECT 1 FROM volunteer_member m WHERE m.id = i AND m.team_id = %s)",
        [ids, team_id],
    ).fetchone()
    if strangers and strangers[0]:
        raise InvalidInput.one("hours", f"not members of team {team_id}: {strangers[0]}")
    row = conn.execute(
        "INSERT INTO volunteer_activity (team_id, held_on, title, facility_id, recorder_id, recorder)"
        " VALUES (%s, %s, %s, %s, 0, '') RETURNING id",
        [team_id, held_on, title.strip(), facility_id],
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO volunteer_hours (activity_id, team_id, member_id, hours)"
        " SELECT %s, %s, m, h FROM unnest(%s::bigint[], %s::numeric[]) AS x(m, h)",
        [row[0], team_id, ids, [h for _, h in hours]],
    )
    return activity(conn, row[0])


def activity(conn: psycopg.Connection, activity_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(
            "SELECT a.id, a.team_id, a.held_on, a.title, a.facility_id, a.recorder, a.recorded_at,"
            " coalesce((SELECT jsonb_agg(jsonb_build_object('member_id', h.member_id, 'hours', h.hours)"
            "  ORDER BY h.member_id) FROM volunteer_hours h WHERE h.activity_id = a.id), '[]') AS hours"
            " FROM volunteer_activity a WHERE a.id = %s",
            [activity_id],
        ).fetchone()
    if found is None:
        raise NotFound("activity", activity_id)
    return found


def activities(conn: psycopg.Connection, team_id: int) -> list[dict[str, Any]]:
    team(conn, team_id)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT a.id, a.team_id, a.held_on, a.title, a.facility_id, a.recorder, a.recorded_at,"
            " (SELECT coalesce(sum(h.hours), 0) FROM volunteer_hours h WHERE h.activity_id = a.id) AS hours,"
            " (SELECT count(*) FROM volunteer_hours h WHERE h.activity_id = a.id) AS members"
            " FROM volunteer_activity a WHERE a.team_id = %s ORDER BY a.held_on DESC, a.id DESC",
            [team_id],
        ).fetchall()
