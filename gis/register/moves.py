"""Moves (迁入, 迁出, 户间迁移) of the register's persons, each written with its record in person_move.

The register counts current residents only: a move-in creates the person with an 'in' record, a
move-out records the person (name and masked ID number only) and deletes the row, a transfer keeps the
row and its id and changes its household in the same statement as its 'transfer' record. A household
is never left without its head (户主) silently: a head who leaves while members remain names the
member who becomes head in the same step, or the move is refused (422 naming ``new_head_id``).
Move-outs and transfers are optimistic, like every edit of the register (409 on a stale version).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.errors import InvalidInput, NotFound, Problem, text_problems
from gis.register.common import check_page, page, stale_or_missing, write
from gis.register.persons import create_person, get_person

NOTE_MAX = 200
KINDS = ("in", "out", "transfer")
# The masked ID number as gis.codes.mask_id_number writes it, in SQL (NULL stays NULL).
_MASKED_ID = "left({0}, 6) || repeat('*', length({0}) - 10) || right({0}, 4)"

_MOVE_COLUMNS = """m.id, m.kind, m.moved_on, m.person_id, m.name, m.id_number_masked AS id_number,
    m.from_household_id, fh.address AS from_address, m.to_household_id, th.address AS to_address,
    m.note, m.recorded_at, m.actor_username"""
# The other household of a move may lie outside the reader's rows: its address is then NULL.
_MOVE_SOURCE = """person_move m
    LEFT JOIN household fh ON fh.id = m.from_household_id
    LEFT JOIN household th ON th.id = m.to_household_id"""


def _check_move(moved_on: date | None, note: str | None) -> tuple[date, str | None]:
    problems: list[Problem] = text_problems({"note": note})
    moved_on = moved_on or date.today()
    if moved_on > date.today():
        problems.append(Problem("moved_on", "is in the future"))
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        problems.append(Problem("note", f"must be at most {NOTE_MAX} characters"))
    if problems:
        raise InvalidInput(problems)
    return moved_on, note


def _household_head(conn: psycopg.Connection, household_id: int) -> int | None:
    """The household's head (None: it has none), after checking the caller may see the household."""
    row = conn.execute(
        "SELECT h.id, (SELECT p.id FROM person p WHERE p.household_id = h.id AND p.relation = 'head'"
        " ORDER BY p.id LIMIT 1) FROM household h WHERE h.id = %s", [household_id]).fetchone()
    if row is None:
        raise NotFound("household", household_id)
    return row[1]


def _leaving(conn: psycopg.Connection, person_id: int, version: int, new_head_id: int | None) -> dict:
    """The person about to leave their household, still at ``version`` (409 first: a stale page is
    reloaded before anything else is said about it); the household's rows stay locked until the move
    commits, so its head is decided on what is stored."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """SELECT p.id, p.household_id, p.relation, p.version FROM person p
               WHERE p.household_id = (SELECT household_id FROM person WHERE id = %s)
               ORDER BY p.id FOR UPDATE""", [person_id]).fetchall()
    person = next((r for r in rows if r["id"] == person_id), None)
    if person is None:
        raise NotFound("person", person_id)
    if person["version"] != version:
        raise stale_or_missing(conn, "person", person_id, version)
    others = [r["id"] for r in rows if r["id"] != person_id]
    if new_head_id is not None:
        if new_head_id not in others:
            raise InvalidInput.one("new_head_id", "must be another member of the person's household")
        if person["relation"] != "head":
            raise InvalidInput.one("new_head_id", "only when the head (户主) leaves: this person is not "
                                                  "the head")
    elif person["relation"] == "head" and others:
        raise InvalidInput.one("new_head_id", f"the head (户主) leaves while {len(others)} other member(s) "
                                              "remain: name the member who becomes the head")
    return person


def move_in(conn: psycopg.Connection, household_id: int, fields: dict, moved_on: date | None = None,
            note: str | None = None) -> dict:
    """Register a person arriving in ``household_id`` (迁入) with its 'in' record; returns the person.
    A second head is refused: the household has one already."""
    moved_on, note = _check_move(moved_on, note)
    given = fields.get("household_id")
    if given is not None and given != household_id:
        raise InvalidInput.one("household_id", "must be the household the person moves into")
    head = _household_head(conn, household_id)
    if fields.get("relation") == "head" and head is not None:
        raise InvalidInput.one("relation", "the household has a head (户主) already: give the person's "
                                           "relation to that head")
    with conn.transaction():  # the person and the record, or neither
        person = create_person(conn, {**fields, "household_id": household_id})
        write(conn, f"""
            INSERT INTO person_move (kind, moved_on, person_id, name, id_number_masked, to_household_id,
                                     note)
            SELECT 'in', %(moved_on)s, p.id, p.name, {_MASKED_ID.format("p.id_number")}, p.household_id,
                   %(note)s
            FROM person p WHERE p.id = %(id)s
            RETURNING id""", {"moved_on": moved_on, "note": note, "id": person["id"]})
    return person


# Data-modifying CTEs run to completion whether the main statement reads them or not (heir below).


def move_out(conn: psycopg.Connection, person_id: int, version: int, moved_on: date | None = None,
             note: str | None = None, new_head_id: int | None = None) -> dict:
    """Record the person's move-out (迁出: where to, or why) and remove them from the register, if still
    at ``version``; ``new_head_id`` becomes the head when the head leaves. Returns the record."""
    moved_on, note = _check_move(moved_on, note)
    _leaving(conn, person_id, version, new_head_id)
    rows = write(conn, f"""
        WITH gone AS (DELETE FROM person WHERE id = %(id)s AND version = %(version)s
                      RETURNING id, household_id, name, id_number),
             heir AS (UPDATE person SET relation = 'head', version = version + 1, updated_at = now()
                      WHERE id = %(heir)s AND household_id IN (SELECT household_id FROM gone) RETURNING id)
        INSERT INTO person_move (kind, moved_on, person_id, name, id_number_masked, from_household_id, note)
        SELECT 'out', %(moved_on)s, g.id, g.name, {_MASKED_ID.format("g.id_number")}, g.household_id, %(note)s
        FROM gone g
        RETURNING id""", {"id": person_id, "version": version, "heir": new_head_id, "moved_on": moved_on,
                          "note": note})
    if not rows:
        raise stale_or_missing(conn, "person", person_id, version)
    return get_move(conn, rows[0][0])


def transfer(conn: psycopg.Connection, person_id: int, version: int, household_id: int,
             relation: str | None = None, moved_on: date | None = None, note: str | None = None,
             new_head_id: int | None = None) -> dict:
    """Move the person to another household of the register (户间迁移), if still at ``version``: the
    same row and id, its household and relation changed in the same statement as its 'transfer'
    record. ``relation`` is the relation to the new household's head (kept if not given); a second
    head is refused. Returns the person."""
    moved_on, note = _check_move(moved_on, note)
    person = _leaving(conn, person_id, version, new_head_id)
    if household_id == person["household_id"]:
        raise InvalidInput.one("household_id", "is the person's household already")
    head = _household_head(conn, household_id)
    relation = relation or person["relation"]
    if relation == "head" and head is not None:
        raise InvalidInput.one("relation", "the household moved into has a head (户主) already: give the "
                                           "person's relation to that head")
    rows = write(conn, f"""
        WITH moved AS (UPDATE person SET household_id = %(to)s, relation = %(relation)s,
                              version = version + 1, updated_at = now()
                       WHERE id = %(id)s AND version = %(version)s RETURNING id, name, id_number),
             heir AS (UPDATE person SET relation = 'head', version = version + 1, updated_at = now()
                      WHERE id = %(heir)s AND household_id = %(from)s AND EXISTS (SELECT 1 FROM moved)
                      RETURNING id)
        INSERT INTO person_move (kind, moved_on, person_id, name, id_number_masked, from_household_id,
                                 to_household_id, note)
        SELECT 'transfer', %(moved_on)s, m.id, m.name, {_MASKED_ID.format("m.id_number")}, %(from)s, %(to)s,
               %(note)s
        FROM moved m
        RETURNING id""", {"id": person_id, "version": version, "to": household_id,
                          "from": person["household_id"], "relation": relation, "heir": new_head_id,
                          "moved_on": moved_on, "note": note})
    if not rows:
        raise stale_or_missing(conn, "person", person_id, version)
    return get_person(conn, person_id)


def get_move(conn: psycopg.Connection, move_id: int) -> dict:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT {_MOVE_COLUMNS} FROM {_MOVE_SOURCE} WHERE m.id = %s", [move_id]).fetchone()
    if row is None:
        raise NotFound("move", move_id)
    return row


def list_moves(conn: psycopg.Connection, household_id: int, limit: int = 100, offset: int = 0) -> dict:
    """{"total": n, "items": [...]}: the moves into, out of and away from a household, newest first."""
    check_page(limit, offset)
    _household_head(conn, household_id)  # 404 for a household outside the caller's rows
    where = sql.SQL("(m.from_household_id = %(household)s OR m.to_household_id = %(household)s)")
    params: dict[str, Any] = {"household": household_id}
    return page(conn, _MOVE_COLUMNS, _MOVE_SOURCE, where, params, "m.moved_on DESC, m.id DESC", limit, offset)
