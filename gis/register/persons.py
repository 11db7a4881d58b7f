"""Persons (人员) of the register (一册) with their 四清 tags: create, read, list, update, delete.

ID numbers and phones leave this module masked unless the caller asks for ``unmasked``, and with a
masked ID number the birth date it hides leaves only as ``birth_year``. Updates are optimistic, as for
households; a key-person category (重点人员) is written to its own table in the same statement as the
person.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.areas import Area, by_grid_code
from gis.codes import birth_date_and_sex, id_number_problem, mask_id_number, mask_phone, normalise_id_number
from gis.errors import InvalidInput, NotFound, Problem, text_problems
from gis.register.common import (
    check_page,
    delete_versioned,
    hide_birth_date,
    like,
    page,
    refuse_nul,
    stale_or_missing,
    write,
)

PERSON_COLUMNS = ("household_id", "ref", "name", "id_number", "phone", "sex", "birth_date", "relation",
                  "residence", "employment", "poverty", "elderly_alone", "disabled", "activist", "volunteer")
PERSON_FLAGS = ("elderly_alone", "disabled", "activist", "volunteer")

_COLUMNS = """p.id, p.household_id, p.ref, p.name, p.id_number, p.phone, p.sex, p.birth_date,
    extract(year FROM p.birth_date)::int AS birth_year, p.relation,
    p.residence, p.employment, p.poverty, k.category AS key_person, p.elderly_alone, p.disabled,
    p.activist, p.volunteer, h.grid_code, g.community_code, p.version, p.updated_at"""
_SOURCE = """person p
    JOIN household h ON h.id = p.household_id
    LEFT JOIN grid g ON g.code = h.grid_code
    LEFT JOIN key_person k ON k.person_id = p.id"""


def _mask(row: dict, unmasked: bool) -> dict:
    hide_birth_date(row, unmasked)
    if not unmasked:
        row["id_number"] = mask_id_number(row["id_number"])
        row["phone"] = mask_phone(row["phone"])
    return row


def normalise_person(fields: dict, partial: bool) -> dict:
    """Check a person's fields; upper-case the ID number and derive birth date and sex from it.

    With ``partial`` (PATCH) only the given fields are checked and returned.
    """
    out = dict(fields)
    problems: list[Problem] = text_problems(out)
    if problems:
        raise InvalidInput(problems)
    if "name" in out or not partial:
        out["name"] = str(out.get("name") or "").strip()
        if not out["name"]:
            problems.append(Problem("name", "must not be blank"))
    id_number = out.get("id_number")
    if id_number is not None:
        id_number = out["id_number"] = normalise_id_number(str(id_number))
        if (reason := id_number_problem(id_number)) is not None:
            problems.append(Problem("id_number", reason))
        else:
            born, sex = birth_date_and_sex(id_number)
            if out.get("birth_date") is None:
                out["birth_date"] = born
            elif out["birth_date"] != born:
                problems.append(Problem("birth_date", f"{out['birth_date']} does not match the ID number "
                                                      f"(born {born.isoformat()})"))
            if out.get("sex") is None:
                out["sex"] = sex
            elif out["sex"] != sex:
                problems.append(Problem("sex", f"{out['sex']} does not match the ID number ({sex})"))
    if isinstance(out.get("birth_date"), date) and out["birth_date"] > date.today():
        problems.append(Problem("birth_date", "is in the future"))
    if out.get("phone") is not None:
        out["phone"] = str(out["phone"]).strip().replace(" ", "")
    if problems:
        raise InvalidInput(problems)
    return out


def create_person(conn: psycopg.Connection, fields: dict) -> dict:
    """Insert a person (and their key-person category, 重点人员, in its own table) in one statement."""
    person = normalise_person(fields, partial=False)
    params = {c: person.get(c) for c in PERSON_COLUMNS}
    for flag in PERSON_FLAGS:
        params[flag] = bool(params[flag])
    params["relation"] = params["relation"] or "other"
    params["residence"] = params["residence"] or "registered"
    params["key_person"] = person.get("key_person")
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in PERSON_COLUMNS)
    values = sql.SQL(", ").join(sql.Placeholder(c) for c in PERSON_COLUMNS)
    ((person_id,),) = write(conn, sql.SQL(
        """
        WITH p AS (INSERT INTO person ({columns}) VALUES ({values}) RETURNING id),
             k AS (INSERT INTO key_person (person_id, category)
                   SELECT id, %(key_person)s FROM p WHERE %(key_person)s::text IS NOT NULL)
        SELECT id FROM p
        """).format(columns=columns, values=values), params)
    return get_person(conn, person_id)


def get_person(conn: psycopg.Connection, person_id: int, unmasked: bool = False) -> dict:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT {_COLUMNS} FROM {_SOURCE} WHERE p.id = %s", [person_id]).fetchone()
    if row is None:
        raise NotFound("person", person_id)
    return _mask(row, unmasked)


def person_filters(grid: str | None = None, community: str | None = None, household: int | None = None,
                   residence: str | None = None, key_person: str | None = None, poverty: str | None = None,
                   employment: str | None = None, elderly_alone: bool | None = None,
                   disabled: bool | None = None, activist: bool | None = None, volunteer: bool | None = None,
                   q: str | None = None) -> tuple[sql.Composable, dict]:
    """The WHERE clause of a persons list. "any" for key_person/poverty means any category;
    "unknown" for employment means not recorded. Everything is a bound parameter."""
    conds: list[sql.Composable] = [sql.SQL(by_grid_code("h.grid_code"))]
    params: dict[str, Any] = Area(community=community, grid=grid).params()

    def equal(column: str, name: str, value: Any) -> None:
        conds.append(sql.SQL("{} = {}").format(sql.SQL(column), sql.Placeholder(name)))
        params[name] = value

    if household is not None:
        equal("p.household_id", "household", household)
    if residence is not None:
        equal("p.residence", "residence", residence)
    # "any" and "unknown" are not values of their column but stand for a condition on it.
    for column, name, choice, word, condition in (
            ("k.category", "key_person", key_person, "any", "k.category IS NOT NULL"),
            ("p.poverty", "poverty", poverty, "any", "p.poverty IS NOT NULL"),
            ("p.employment", "employment", employment, "unknown", "p.employment IS NULL")):
        if choice == word:
            conds.append(sql.SQL(condition))
        elif choice is not None:
            equal(column, name, choice)
    for flag, value in (("elderly_alone", elderly_alone), ("disabled", disabled),
                        ("activist", activist), ("volunteer", volunteer)):
        if value is not None:
            equal(f"p.{flag}", flag, value)
    if q:
        conds.append(sql.SQL("p.name ILIKE %(q)s"))
        params["q"] = like(q)
    return sql.SQL(" AND ").join(conds), params


def list_persons(conn: psycopg.Connection, limit: int = 100, offset: int = 0, unmasked: bool = False,
                 **filters: Any) -> dict:
    """{"total": n, "items": [...]} of persons matching ``filters`` (see person_filters)."""
    check_page(limit, offset)
    refuse_nul(filters)
    where, params = person_filters(**filters)
    result = page(conn, _COLUMNS, _SOURCE, where, params, "p.id", limit, offset)
    result["items"] = [_mask(r, unmasked) for r in result["items"]]
    return result


def update_person(conn: psycopg.Connection, person_id: int, version: int, changes: dict,
                  partial: bool = True) -> dict:
    """Apply ``changes`` if the person is still at ``version``, bumping it; key_person (a category or
    None) is written to its own table in the same statement."""
    person = normalise_person(changes, partial=partial)
    if "birth_date" in person and "id_number" not in person:
        _birth_date_follows_id_number(conn, person_id)
    sets: list[sql.Composable] = []
    params: dict[str, Any] = {"id": person_id, "version": version}
    for column in PERSON_COLUMNS:
        if column in person:
            value = person[column]
            if column in PERSON_FLAGS:
                value = bool(value)
            elif column in ("relation", "residence") and value is None:
                value = "other" if column == "relation" else "registered"
            sets.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
            params[column] = value
    sets += [sql.SQL("version = version + 1"), sql.SQL("updated_at = now()")]
    key_sql: sql.Composable = sql.SQL("")
    if "key_person" in person:
        params["key_person"] = person["key_person"]
        key_sql = sql.SQL(
            """, k AS (INSERT INTO key_person (person_id, category)
                       SELECT id, %(key_person)s FROM u WHERE %(key_person)s::text IS NOT NULL
                       ON CONFLICT (person_id) DO UPDATE SET category = EXCLUDED.category),
                 d AS (DELETE FROM key_person WHERE person_id IN (SELECT id FROM u)
                       AND %(key_person)s::text IS NULL)""")
    statement = sql.SQL(
        "WITH u AS (UPDATE person SET {sets} WHERE id = %(id)s AND version = %(version)s"
        " RETURNING id){key_sql} SELECT id FROM u"
    ).format(sets=sql.SQL(", ").join(sets), key_sql=key_sql)
    if not write(conn, statement, params):
        raise stale_or_missing(conn, "person", person_id, version)
    return get_person(conn, person_id)


def _birth_date_follows_id_number(conn: psycopg.Connection, person_id: int) -> None:
    """The birth date of a person with an ID number is digits 7-14 of it. Changing the date alone would
    answer, by being accepted or refused, whether a guess at the masked digits is right: it is refused
    the same way whatever the date sent."""
    row = conn.execute("SELECT id_number IS NOT NULL FROM person WHERE id = %s", [person_id]).fetchone()
    if row is not None and row[0]:
        raise InvalidInput.one("birth_date", "follows from the ID number: send the ID number to change it")


def delete_person(conn: psycopg.Connection, person_id: int, version: int | None = None) -> None:
    delete_versioned(conn, "person", person_id, version)
