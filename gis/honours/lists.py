"""Honour lists and their entries.

The database holds the rules (migration 026): a list is drafted, approved, published; entries change
while it is drafted only; a published version is never changed or removed (a new version supersedes
it); a black entry's evidence is a closed violation, an inspection that found one, or a closed report
(of the list's area: gis/honours/evidence.py);
entries about households and persons are read under the register's row-level security. Here: the
requests put into those terms, and their refusals put into the caller's (field, reason).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from gis.errors import Conflict, InvalidInput, NotFound, Problem, text_problems
from gis.honours import evidence

LIST_SCOPE = r"^[1-9][0-9]{8}([0-9]{3})?$"
Action = Literal["approve", "reopen", "publish"]
NEXT_STATE: dict[str, tuple[str, str]] = {  # action -> (from, to)
    "approve": ("drafted", "approved"),
    "reopen": ("approved", "drafted"),
    "publish": ("approved", "published"),
}
SUBJECT_FIELDS = ("place_id", "unit_id", "household_id", "person_id")
EVIDENCE_FIELDS = ("violation_id", "inspection_id", "report_id")

_LIST = """l.id, l.kind, k.name_zh AS kind_zh, k.subject, l.scope, l.series, l.title, l.version, l.supersedes,
    l.state, l.public, l.drafted_by, l.drafted_at, l.approved_by, l.approved_at, l.published_by,
    l.published_at,
    EXISTS (SELECT 1 FROM honour_list n WHERE n.supersedes = l.id AND n.state = 'published') AS superseded,
    (SELECT n.id FROM honour_list n WHERE n.supersedes = l.id) AS next_version"""
_ENTRY = """e.id, e.list_id, e.colour, e.place_id, e.unit_id, e.household_id, e.person_id, e.reason,
    e.violation_id, e.inspection_id, e.report_id, e.label, e.public_label, e.public_where"""


def _database_refusal(exc: psycopg.Error) -> InvalidInput | Conflict:
    """A refusal of the database's rules as the caller's problem, naming the field."""
    diag = exc.diag
    if isinstance(exc, psycopg.errors.RestrictViolation):
        return Conflict(diag.message_primary or "the list does not change")
    return InvalidInput.one(
        diag.column_name or diag.constraint_name or "body", diag.message_primary or "refused"
    )


def kinds(conn: psycopg.Connection) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT code, name_zh, name_en, subject FROM honour_kind ORDER BY code").fetchall()


def create_list(
    conn: psycopg.Connection, *, kind: str, scope: str, series: str, title: str, public: bool = False
) -> dict[str, Any]:
    problems = text_problems({"kind": kind, "series": series, "title": title})
    if not re.fullmatch(LIST_SCOPE, scope):
        problems.append(Problem("scope", "the 9-digit street or 12-digit community of the list"))
    for field, value in (("series", series), ("title", title)):
        if not value.strip():
            problems.append(Problem(field, "must not be empty"))
    if not problems and conn.execute("SELECT 1 FROM honour_kind WHERE code = %s", [kind]).fetchone() is None:
        problems.append(Problem("kind", "unknown kind: see GET /honours/vocabulary"))
    if problems:
        raise InvalidInput(problems)
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO honour_list (kind, scope, series, title, public, drafted_by)"
                " VALUES (%s, %s, %s, %s, %s, '') RETURNING id",
                [kind, scope, series.strip(), title.strip(), public],
            ).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(
            f"list {series.strip()!r} of {kind} in {scope} exists: publish a new version of it"
        ) from None
    assert row is not None
    return honour_list(conn, row[0])


def honour_list(conn: psycopg.Connection, list_id: int, *, with_entries: bool = True) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(
            f"SELECT {_LIST} FROM honour_list l JOIN honour_kind k ON k.code = l.kind WHERE l.id = %s",
            [list_id],
        ).fetchone()
        if found is None:
            raise NotFound("list", list_id)
        if with_entries:
            found["entries"] = cur.execute(
                f"SELECT {_ENTRY} FROM honour_entry e WHERE e.list_id = %s ORDER BY e.colour DESC, e.id",
                [list_id],
            ).fetchall()
    return found


def lists(conn: psycopg.Connection, *, prefix: str = "", state: str | None = None) -> list[dict[str, Any]]:
    """The list versions the user sees in areas under ``prefix`` (or holding it), newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"SELECT {_LIST}, (SELECT count(*) FROM honour_entry e WHERE e.list_id = l.id) AS entries"
            " FROM honour_list l JOIN honour_kind k ON k.code = l.kind"
            " WHERE (starts_with(l.scope, %(p)s) OR starts_with(%(p)s, l.scope))"
            " AND (%(state)s::text IS NULL OR l.state = %(state)s)"
            " ORDER BY l.scope, l.kind, l.series, l.version DESC",
            {"p": prefix, "state": state},
        ).fetchall()


def add_entry(conn: psycopg.Connection, list_id: int, entry: dict[str, Any]) -> dict[str, Any]:
    """An entry of a drafted list: colour, exactly one subject of the list's kind, reason, and for a
    black entry its evidence."""
    found = honour_list(conn, list_id, with_entries=False)
    problems = text_problems({"reason": entry.get("reason")})
    if entry.get("colour") not in ("red", "black"):
        problems.append(Problem("colour", "red or black"))
    named = [f for f in SUBJECT_FIELDS if entry.get(f) is not None]
    wanted = f"{found['subject']}_id"
    if named != [wanted]:
        problems.append(
            Problem(wanted, f"a {found['kind_zh']} entry names a {found['subject']} ({wanted}) only")
        )
    if entry.get("colour") == "black" and not any(entry.get(f) is not None for f in EVIDENCE_FIELDS):
        problems.append(
            Problem(
                "violation_id",
                "a black entry points to its evidence: a closed violation "
                "(violation_id), an inspection that found one (inspection_id) or a closed "
                "report (report_id)",
            )
        )
    if problems:
        raise InvalidInput(problems)
    if found["state"] != "drafted":
        raise Conflict(f"list {list_id} is {found['state']}: entries change while it is drafted only")
    # the evidence of the list's own area only (a place's area: the community its point lies in)
    evidence.check_in_area(conn, found["scope"], entry)
    columns = ("colour", *SUBJECT_FIELDS, "reason", *EVIDENCE_FIELDS)
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO honour_entry (list_id, colour, place_id, unit_id, household_id, person_id,"
                " reason,"
                " violation_id, inspection_id, report_id, label, public_label) VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', '') RETURNING id",
                [list_id, *(entry.get(c) for c in columns)],
            ).fetchone()
    except (psycopg.errors.IntegrityError, psycopg.errors.RestrictViolation) as exc:
        raise _database_refusal(exc) from None
    assert row is not None
    with conn.cursor(row_factory=dict_row) as cur:
        created = cur.execute(f"SELECT {_ENTRY} FROM honour_entry e WHERE e.id = %s", [row[0]]).fetchone()
    assert created is not None
    return created


def remove_entry(conn: psycopg.Connection, list_id: int, entry_id: int) -> None:
    found = honour_list(conn, list_id, with_entries=False)
    if found["state"] != "drafted":
        raise Conflict(f"list {list_id} is {found['state']}: entries change while it is drafted only")
    if (
        conn.execute("DELETE FROM honour_entry WHERE id = %s AND list_id = %s", [entry_id, list_id]).rowcount
        == 0
    ):
        raise NotFound("entry", entry_id)


def change_state(
    conn: psycopg.Connection, list_id: int, action: Action, *, public: bool | None = None
) -> dict[str, Any]:
    """approve (with ``public``: whether the published version may go on the public page), reopen or
    publish. Whoever acts is stamped by the database."""
    found = honour_list(conn, list_id, with_entries=False)
    before, after = NEXT_STATE[action]
    if found["state"] != before:
        raise Conflict(f"list {list_id} is {found['state']}: only a {before} list can be {action}d")
    if public is not None and action != "approve":
        raise InvalidInput.one("public", "decided when the list is approved")
    try:
        with conn.transaction():
            done = conn.execute(
                "UPDATE honour_list SET state = %s, public = coalesce(%s, public)"
                " WHERE id = %s AND state = %s",
                [after, public, list_id, before],
            )
    except (psycopg.errors.IntegrityError, psycopg.errors.RestrictViolation) as exc:
        raise _database_refusal(exc) from None
    if done.rowcount == 0:
        raise psycopg.errors.InsufficientPrivilege("outside your scope")
    return honour_list(conn, list_id)


def new_version(conn: psycopg.Connection, list_id: int, *, title: str | None = None) -> dict[str, Any]:
    """A drafted copy of a published version (its entries copied, labels taken afresh), which will
    supersede it once published."""
    found = honour_list(conn, list_id, with_entries=False)
    if found["state"] != "published":
        raise Conflict(f"list {list_id} is {found['state']}: change it, it is not published yet")
    if found["next_version"] is not None:
        raise Conflict(f"list {list_id} already has a next version: {found['next_version']}")
    problems = text_problems({"title": title})
    if problems:
        raise InvalidInput(problems)
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO honour_list (kind, scope, series, title, version, supersedes, public,"
                " drafted_by)"
                " SELECT kind, scope, series, coalesce(%s, title), version + 1, id, public, ''"
                " FROM honour_list WHERE id = %s RETURNING id",
                [title, list_id],
            ).fetchone()
            assert row is not None
            conn.execute(
                "INSERT INTO honour_entry (list_id, colour, place_id, unit_id, household_id, person_id,"
                " reason,"
                " violation_id, inspection_id, report_id, label, public_label)"
                " SELECT %s, colour, place_id, unit_id, household_id, person_id, reason, violation_id,"
                " inspection_id, report_id, '', '' FROM honour_entry WHERE list_id = %s ORDER BY id",
                [row[0], list_id],
            )
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"list {list_id} already has a next version") from None
    except (psycopg.errors.IntegrityError, psycopg.errors.RestrictViolation) as exc:
        raise _database_refusal(exc) from None
    return honour_list(conn, row[0])
