"""Assigning road sections to responsible units for a period, with a weekly duty day (每周五).

At any moment a section has at most one unit: the exclusion constraint
``road_section_one_unit_at_a_time`` enforces it in the database, so two planners assigning the same
section at once cannot both win (the second waits for the first, then fails) and nothing is lost.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import Conflict, InvalidInput, NotFound, Problem

MAX_SECTIONS_AT_ONCE = 5000  # one planner's pick; a whole district goes through the CLI or an import
ENDING_DAYS = 30  # "ending soon" on the planner's home page
FRIDAY = 5  # ISO weekday: the campaign's weekly duty day (每周五责任路段文明卫生劝导)
WEEKDAYS = {1: ("星期一", "Monday"), 2: ("星期二", "Tuesday"), 3: ("星期三", "Wednesday"),
            4: ("星期四", "Thursday"), 5: ("星期五", "Friday"), 6: ("星期六", "Saturday"),
            7: ("星期日", "Sunday")}

# The unit's contact person and phone only when %(contacts)s: the caller decides from the reader's roles.
_ASSIGNMENT_SELECT = """
SELECT a.id, a.section_id, s.code AS section_code, a.unit_id, u.name AS unit_name,
       CASE WHEN %(contacts)s THEN u.contact END AS contact, CASE WHEN %(contacts)s THEN u.phone END AS phone,
       lower(a.valid) AS valid_from, upper(a.valid) - 1 AS valid_to, a.duty_day, a.note, a.created_at
FROM road_section_assignment a
JOIN road_section s ON s.id = a.section_id
JOIN responsible_unit u ON u.id = a.unit_id
"""


def _period(valid_from: date, valid_to: date | None) -> str:
    return f"{valid_from} to {valid_to or 'open end'}"


class AssignmentConflict(Conflict):
    """Another unit holds a section during the period asked for. ``holders`` says who, which section and
    when (section_id, section_code, unit_id, unit_name, valid_from, valid_to, assignment_id), so that a
    page can say it in its own language; the message says it in English, as the API's 409 does."""

    def __init__(self, message: str, holders: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.holders = holders


def _holders(conn: psycopg.Connection, section_ids: list[int], valid_from: date, valid_to: date | None,
             other_than: int = 0) -> list[dict[str, Any]]:
    """The assignments of these sections overlapping [valid_from, valid_to], by section code then date."""
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT a.section_id, s.code AS section_code, a.unit_id, u.name AS unit_name,
                  lower(a.valid) AS valid_from, upper(a.valid) - 1 AS valid_to, a.id AS assignment_id
           FROM road_section_assignment a
           JOIN road_section s ON s.id = a.section_id JOIN responsible_unit u ON u.id = a.unit_id
           WHERE a.section_id = ANY(%s) AND a.valid && daterange(%s, %s, '[]') AND a.id <> %s
           ORDER BY s.code, lower(a.valid)""",
        [section_ids, valid_from, valid_to, other_than]).fetchall()


def _conflict(conn: psycopg.Connection, section_ids: list[int], valid_from: date, valid_to: date | None,
              other_than: int = 0) -> AssignmentConflict:
    holders = _holders(conn, section_ids, valid_from, valid_to, other_than)
    if not holders:  # the holder was removed meanwhile; still a clash at the time of the insert
        ids = ", ".join(map(str, section_ids))
        return AssignmentConflict(f"section {ids} was assigned by someone else at the same time", [])
    return AssignmentConflict("; ".join(
        f"section {h['section_code']} is held by {h['unit_name']} from "
        f"{_period(h['valid_from'], h['valid_to'])} (assignment {h['assignment_id']})"
        for h in holders), holders)


def _assignment_problems(conn: psycopg.Connection, unit_id: int, valid_from: date, valid_to: date | None,
                         duty_day: int) -> None:
    problems = []
    if valid_to is not None and valid_to < valid_from:
        problems.append(Problem("valid_to", f"{valid_to} is before valid_from {valid_from}"))
    if duty_day not in WEEKDAYS:
        problems.append(Problem("duty_day", "must be an ISO weekday 1 (Monday) to 7 (Sunday)"))
    if conn.execute("SELECT 1 FROM responsible_unit WHERE id = %s", [unit_id]).fetchone() is None:
        problems.append(Problem("unit_id", f"no unit with id {unit_id}"))
    if problems:
        raise InvalidInput(problems)


def assign_section(conn: psycopg.Connection, section_id: int, unit_id: int, valid_from: date,
                   valid_to: date | None = None, duty_day: int = FRIDAY,
                   note: str | None = None, contacts: bool = False) -> dict[str, Any]:
    """Assign a live section to a unit from ``valid_from`` to ``valid_to`` (inclusive; None = open).

    Raises InvalidInput (valid_to before valid_from, unknown unit_id, bad duty_day), NotFound (no such
    live section) or Conflict (another unit holds the section during part of that period).
    """
    _assignment_problems(conn, unit_id, valid_from, valid_to, duty_day)
    # Planners assigning the same section queue on its row: without this, two concurrent inserts
    # each wait for the other's row in the exclusion check, and PostgreSQL breaks that deadlock.
    section = conn.execute("SELECT retired_on FROM road_section WHERE id = %s FOR NO KEY UPDATE",
                           [section_id]).fetchone()
    if section is None:
        raise NotFound("road section", section_id)
    if section[0] is not None:
        raise Conflict(f"section {section_id} was retired on {section[0]} (re-cut); assign its successors")
    try:
        with conn.transaction():
            row = conn.execute(
                """INSERT INTO road_section_assignment (section_id, unit_id, valid, duty_day, note)
                   VALUES (%s, %s, daterange(%s, %s, '[]'), %s, %s) RETURNING id""",
                [section_id, unit_id, valid_from, valid_to, duty_day, note]).fetchone()
    except psycopg.errors.ExclusionViolation:
        raise _conflict(conn, [section_id], valid_from, valid_to) from None
    except psycopg.errors.DeadlockDetected:  # a writer that did not queue on the section's row
        raise Conflict(f"section {section_id} was being assigned at the same time; try again") from None
    except psycopg.errors.ForeignKeyViolation:  # the unit was deleted meanwhile
        raise InvalidInput.one("unit_id", f"no unit with id {unit_id}") from None
    assert row is not None
    return get_assignment(conn, row[0], contacts)


def get_assignment(conn: psycopg.Connection, assignment_id: int, contacts: bool = False) -> dict[str, Any]:
    """One assignment; the unit's contact person and phone only with ``contacts``."""
    row = conn.cursor(row_factory=dict_row).execute(
        _ASSIGNMENT_SELECT + " WHERE a.id = %(id)s", {"id": assignment_id, "contacts": contacts}).fetchone()
    if row is None:
        raise NotFound("assignment", assignment_id)
    return row


def section_history(conn: psycopg.Connection, section_id: int,
                    contacts: bool = False) -> list[dict[str, Any]]:
    """Every unit that held the section, oldest first; includes the history of the sections it was
    cut from (its ancestors), so a re-cut does not hide who held the road before. The units' contact
    persons and phones only with ``contacts``."""
    if conn.execute("SELECT 1 FROM road_section WHERE id = %s", [section_id]).fetchone() is None:
        raise NotFound("road section", section_id)
    return conn.cursor(row_factory=dict_row).execute(
        """WITH RECURSIVE line AS (
               SELECT id, parent_id FROM road_section WHERE id = %(id)s
               UNION ALL
               SELECT p.id, p.parent_id FROM road_section p JOIN line ON p.id = line.parent_id)
        """ + _ASSIGNMENT_SELECT + " WHERE a.section_id IN (SELECT id FROM line)"
        " ORDER BY lower(a.valid), a.id", {"id": section_id, "contacts": contacts}).fetchall()


def end_assignment(conn: psycopg.Connection, assignment_id: int, valid_to: date,
                   contacts: bool = False) -> dict[str, Any]:
    """Set the last day (inclusive) of an assignment; history stays, the section becomes free after it."""
    current = get_assignment(conn, assignment_id)
    conn.execute("SELECT 1 FROM road_section WHERE id = %s FOR NO KEY UPDATE", [current["section_id"]])
    if valid_to < current["valid_from"]:
        raise InvalidInput.one("valid_to", f"{valid_to} is before valid_from {current['valid_from']}")
    try:
        with conn.transaction():
            conn.execute(
                "UPDATE road_section_assignment SET valid = daterange(lower(valid), %s) WHERE id = %s",
                [valid_to + timedelta(days=1), assignment_id])
    except psycopg.errors.ExclusionViolation:  # extended into a later holder's period
        raise _conflict(conn, [current["section_id"]], current["valid_from"], valid_to,
                        assignment_id) from None
    return get_assignment(conn, assignment_id, contacts)


def assign_sections(conn: psycopg.Connection, section_ids: list[int], unit_id: int, valid_from: date,
                    valid_to: date | None = None, duty_day: int = FRIDAY, note: str | None = None,
                    contacts: bool = False) -> list[dict[str, Any]]:
    """Assign several live sections to one unit for one period: all of them or none.

    Raises InvalidInput (no section, bad period, unit or duty day), NotFound (a section that does not
    exist), Conflict (a retired section) or AssignmentConflict naming every section another unit holds
    during part of the period, with the unit and its dates.
    """
    ids = sorted(set(section_ids))
    if not ids:
        raise InvalidInput.one("section_ids", "pick at least one section")
    if len(ids) > MAX_SECTIONS_AT_ONCE:
        raise InvalidInput.one("section_ids", f"at most {MAX_SECTIONS_AT_ONCE} sections at once")
    _assignment_problems(conn, unit_id, valid_from, valid_to, duty_day)
    # Lock the sections in id order: two planners picking overlapping sets queue instead of deadlocking.
    rows = conn.execute("SELECT id, code, retired_on FROM road_section WHERE id = ANY(%s) ORDER BY id"
                        " FOR NO KEY UPDATE", [ids]).fetchall()
    missing = sorted(set(ids) - {r[0] for r in rows})
    if missing:
        raise NotFound("road section", missing[0] if len(missing) == 1 else missing)
    retired = [f"{code} ({day})" for _, code, day in rows if day is not None]
    if retired:
        raise Conflict(f"sections retired (re-cut): {', '.join(retired)}; assign their successors")
    if _holders(conn, ids, valid_from, valid_to):
        raise _conflict(conn, ids, valid_from, valid_to)
    try:
        with conn.transaction():
            new = [r[0] for r in conn.execute(
                """INSERT INTO road_section_assignment (section_id, unit_id, valid, duty_day, note)
                   SELECT s, %s, daterange(%s, %s, '[]'), %s, %s FROM unnest(%s::bigint[]) s
                   RETURNING id""", [unit_id, valid_from, valid_to, duty_day, note, ids])]
    except psycopg.errors.ExclusionViolation:  # a writer that did not queue on the sections' rows
        raise _conflict(conn, ids, valid_from, valid_to) from None
    except psycopg.errors.ForeignKeyViolation:  # the unit was deleted meanwhile
        raise InvalidInput.one("unit_id", f"no unit with id {unit_id}") from None
    return conn.cursor(row_factory=dict_row).execute(
        _ASSIGNMENT_SELECT + " WHERE a.id = ANY(%(ids)s) ORDER BY s.code",
        {"ids": new, "contacts": contacts}).fetchall()


def ending_assignments(conn: psycopg.Connection, on: date | None = None,
                       days: int = ENDING_DAYS) -> list[dict[str, Any]]:
    """Assignments of live sections whose last day falls within ``days`` days from ``on`` (default today),
    soonest first, each with ``successor``: whether another assignment of the section starts after it
    (else the section falls free)."""
    on = on or date.today()
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT a.id, a.section_id, s.code AS section_code, s.road_name,
                  round(s.length_m::numeric, 1)::float8 AS length_m, a.unit_id, u.name AS unit_name,
                  lower(a.valid) AS valid_from, upper(a.valid) - 1 AS valid_to, a.duty_day,
                  EXISTS (SELECT 1 FROM road_section_assignment n
                          WHERE n.section_id = a.section_id AND lower(n.valid) >= upper(a.valid)) AS successor
           FROM road_section_assignment a
           JOIN road_section s ON s.id = a.section_id AND s.retired_on IS NULL
           JOIN responsible_unit u ON u.id = a.unit_id
           WHERE NOT upper_inf(a.valid)
             AND upper(a.valid) - 1 BETWEEN %(on)s::date AND %(on)s::date + %(days)s
           ORDER BY upper(a.valid), s.code""", {"on": on, "days": days}).fetchall()
