"""The lead helper unit (帮扶单位) of a compound for a period, its history, and ending it.

At any moment a compound has at most one lead helper: the exclusion constraint
``compound_one_helper_at_a_time`` (migration 025) enforces it, so of two planners pairing one compound
at once exactly one wins; the other queues on the compound's row, then gets a Conflict (409) naming
who holds it when. Ending a pairing keeps it in the history.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.compounds.compounds import check_day, day_problems
from gis.errors import Conflict, InvalidInput, NotFound, Problem, text_problems

_SELECT = """
SELECT h.id, h.compound_id, k.name AS compound_name, h.unit_id, u.name AS unit_name,
       lower(h.valid) AS valid_from, upper(h.valid) - 1 AS valid_to, h.note, h.created_at
FROM compound_helper h JOIN compound k ON k.id = h.compound_id JOIN responsible_unit u ON u.id = h.unit_id
"""


class HelperConflict(Conflict):
    """Another unit helps the compound during the period asked for; ``holders`` says who and when."""

    def __init__(self, message: str, holders: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.holders = holders


def _conflict(
    conn: psycopg.Connection, compound_id: int, valid_from: date, valid_to: date | None, other_than: int = 0
) -> HelperConflict:
    holders = (
        conn.cursor(row_factory=dict_row)
        .execute(
            _SELECT + " WHERE h.compound_id = %s AND h.valid && daterange(%s, %s, '[]') AND h.id <> %s"
            " ORDER BY lower(h.valid)",
            [compound_id, valid_from, valid_to, other_than],
        )
        .fetchall()
    )
    if not holders:
        return HelperConflict(f"compound {compound_id} was paired by someone else at the same time", [])
    return HelperConflict(
        "; ".join(
            f"compound {h['compound_id']} is helped by {h['unit_name']} from {h['valid_from']} to "
            f"{h['valid_to'] or 'open end'} (pairing {h['id']})"
            for h in holders
        ),
        holders,
    )


def pair(
    conn: psycopg.Connection,
    compound_id: int,
    unit_id: int,
    valid_from: date,
    valid_to: date | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Make ``unit_id`` the compound's lead helper from ``valid_from`` to ``valid_to`` (inclusive; None:
    open). Raises InvalidInput, NotFound (no such compound) or HelperConflict."""
    problems = text_problems({"note": note}) + day_problems(valid_from=valid_from, valid_to=valid_to)
    if valid_to is not None and valid_to < valid_from:
        problems.append(Problem("valid_to", f"{valid_to} is before valid_from {valid_from}"))
    if note is not None and len(note) > 500:
        problems.append(Problem("note", "at most 500 characters"))
    if conn.execute("SELECT 1 FROM responsible_unit WHERE id = %s", [unit_id]).fetchone() is None:
        problems.append(Problem("unit_id", f"no unit with id {unit_id}"))
    if problems:
        raise InvalidInput(problems)
    # Pairings of one compound queue on its row: without it two concurrent inserts each wait for the
    # other's row in the exclusion check and PostgreSQL breaks the deadlock instead of saying who won.
    if (
        conn.execute("SELECT 1 FROM compound WHERE id = %s FOR NO KEY UPDATE", [compound_id]).fetchone()
        is None
    ):
        raise NotFound("compound", compound_id)
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO compound_helper (compound_id, unit_id, valid, note)"
                " VALUES (%s, %s, daterange(%s, %s, '[]'), %s) RETURNING id",
                [compound_id, unit_id, valid_from, valid_to, note],
            ).fetchone()
    except psycopg.errors.ExclusionViolation:
        raise _conflict(conn, compound_id, valid_from, valid_to) from None
    except psycopg.errors.DeadlockDetected:
        raise Conflict(f"compound {compound_id} was being paired at the same time; try again") from None
    assert row is not None
    return get_helper(conn, row[0])


def get_helper(conn: psycopg.Connection, helper_id: int) -> dict[str, Any]:
    row = conn.cursor(row_factory=dict_row).execute(_SELECT + " WHERE h.id = %s", [helper_id]).fetchone()
    if row is None:
        raise NotFound("pairing", helper_id)
    return row


def history(conn: psycopg.Connection, compound_id: int) -> list[dict[str, Any]]:
    """Every unit that helped the compound, oldest first."""
    if conn.execute("SELECT 1 FROM compound WHERE id = %s", [compound_id]).fetchone() is None:
        raise NotFound("compound", compound_id)
    return (
        conn.cursor(row_factory=dict_row)
        .execute(_SELECT + " WHERE h.compound_id = %s ORDER BY lower(h.valid), h.id", [compound_id])
        .fetchall()
    )


def end(conn: psycopg.Connection, helper_id: int, valid_to: date) -> dict[str, Any]:
    """Set the last day (inclusive) of a pairing; the history stays."""
    check_day(valid_to=valid_to)
    current = get_helper(conn, helper_id)
    conn.execute("SELECT 1 FROM compound WHERE id = %s FOR NO KEY UPDATE", [current["compound_id"]])
    if valid_to < current["valid_from"]:
        raise InvalidInput.one("valid_to", f"{valid_to} is before valid_from {current['valid_from']}")
    try:
        with conn.transaction():
            conn.execute(
                "UPDATE compound_helper SET valid = daterange(lower(valid), %s) WHERE id = %s",
                [valid_to + timedelta(days=1), helper_id],
            )
    except psycopg.errors.ExclusionViolation:  # stretched into a later helper's period
        raise _conflict(conn, current["compound_id"], current["valid_from"], valid_to, helper_id) from None
    return get_helper(conn, helper_id)
