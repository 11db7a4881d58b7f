"""Responsible units (责任单位): the offices, companies and schools that hold road sections."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.codes import mask_phone
from gis.errors import Conflict, InvalidInput, NotFound, Problem

UNIT_KINDS = ("government", "institution", "enterprise", "school", "community", "shop", "other")
# Chinese names planners write in their spreadsheets, taken as the kinds above.
KIND_ALIASES = {"机关": "government", "政府": "government", "事业单位": "institution",
                "企业": "enterprise", "公司": "enterprise", "学校": "school", "社区": "community",
                "商户": "shop", "门店": "shop", "其他": "other"}
_PHONE = re.compile(r"^[0-9+\- ]{5,20}$")
_COLUMNS = ("ref", "name", "kind", "contact", "phone")


def normalise_kind(value: str) -> str:
    value = value.strip()
    return KIND_ALIASES.get(value, value.lower())


def unit_problems(values: dict[str, Any], partial: bool = False) -> list[Problem]:
    problems = []
    name = values.get("name")
    if (not partial or "name" in values) and (not isinstance(name, str) or not name.strip()):
        problems.append(Problem("name", "a unit needs a name"))
    kind = values.get("kind")
    if kind is not None and kind not in UNIT_KINDS:
        problems.append(Problem("kind", f"must be one of {', '.join(UNIT_KINDS)}"))
    phone = values.get("phone")
    if phone and not _PHONE.match(phone):
        problems.append(Problem("phone", "5 to 20 digits, '+', '-' or spaces"))
    return problems


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in values.items() if k in _COLUMNS}
    if isinstance(out.get("kind"), str):
        out["kind"] = normalise_kind(out["kind"])
    return out


def _write(conn: psycopg.Connection, query: sql.Composed, params: dict[str, Any]) -> dict[str, Any]:
    try:
        with conn.transaction():
            row = conn.cursor(row_factory=dict_row).execute(query, params).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        column = "ref" if "ref" in (exc.diag.constraint_name or "") else "name"
        raise Conflict(f"a unit with this {column} already exists") from None
    if row is None:
        raise NotFound("unit", params.get("id"))
    return row


def create_unit(conn: psycopg.Connection, values: dict[str, Any]) -> dict[str, Any]:
    values = _clean(values)
    values.setdefault("kind", "other")
    if problems := unit_problems(values):
        raise InvalidInput(problems)
    columns = list(values)
    query = sql.SQL("INSERT INTO responsible_unit ({}) VALUES ({}) RETURNING *").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(c) for c in columns))
    return _write(conn, query, values)


class StaleUnit(Conflict):
    """The unit changed since the editor read it: ``stored`` holds it as it is now."""

    def __init__(self, stored: dict[str, Any], fields: list[str]) -> None:
        super().__init__(f"unit {stored['id']} was changed by someone else meanwhile ({', '.join(fields)})")
        self.stored = stored


def update_unit(conn: psycopg.Connection, unit_id: int, values: dict[str, Any],
                expected: dict[str, Any] | None = None) -> dict[str, Any]:
    """Change a unit's fields. With ``expected`` (the fields as the editor read them), refuse with
    StaleUnit when one of them has changed since: the editor's form has no version to compare."""
    values = _clean(values)
    if problems := unit_problems(values, partial=True):
        raise InvalidInput(problems)
    if expected is not None:
        row = conn.cursor(row_factory=dict_row).execute(
            "SELECT * FROM responsible_unit WHERE id = %s FOR NO KEY UPDATE", [unit_id]).fetchone()
        if row is None:
            raise NotFound("unit", unit_id)
        changed = [c for c, v in _clean(expected).items() if (row[c] or None) != (v or None)]
        if changed:
            raise StaleUnit(row, changed)
    if not values:
        return get_unit(conn, unit_id)
    query = sql.SQL("UPDATE responsible_unit SET {} WHERE id = %(id)s RETURNING *").format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in values))
    return _write(conn, query, values | {"id": unit_id})


def get_unit(conn: psycopg.Connection, unit_id: int) -> dict[str, Any]:
    row = conn.cursor(row_factory=dict_row).execute(
        "SELECT * FROM responsible_unit WHERE id = %s", [unit_id]).fetchone()
    if row is None:
        raise NotFound("unit", unit_id)
    return row


def list_units(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every unit with the number and length of sections it holds today."""
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT u.*, count(s.id) AS sections,
                  round(coalesce(sum(s.length_m), 0)::numeric, 1)::float8 AS length_m
           FROM responsible_unit u
           LEFT JOIN road_section_assignment a ON a.unit_id = u.id AND a.valid @> current_date
           LEFT JOIN road_section s ON s.id = a.section_id AND s.retired_on IS NULL
           GROUP BY u.id ORDER BY u.name""").fetchall()


def delete_unit(conn: psycopg.Connection, unit_id: int) -> None:
    """Delete a unit that never held a section; one with a history must stay for the record."""
    try:
        with conn.transaction():
            cur = conn.execute("DELETE FROM responsible_unit WHERE id = %s", [unit_id])
    except psycopg.errors.ForeignKeyViolation:
        raise Conflict(f"unit {unit_id} has held road sections; its history is kept") from None
    if cur.rowcount == 0:
        raise NotFound("unit", unit_id)


def resolve_unit(conn: psycopg.Connection, key: str) -> int:
    """A unit's id from its name, its ref or its numeric id."""
    row = conn.execute(
        "SELECT id FROM responsible_unit WHERE name = %s OR ref = %s OR id::text = %s"
        " ORDER BY name = %s DESC, ref = %s DESC LIMIT 1", [key, key, key, key, key]).fetchone()
    if row is None:
        raise NotFound("unit", key)
    return row[0]


def mask_contact(name: str | None) -> str | None:
    """A contact person as readers without UNIT_CONTACTS see it: the surname, the rest starred."""
    if not name:
        return name
    name = name.strip()
    return name[0] + "*" * max(len(name) - 1, 1)


def masked_contacts(conn: psycopg.Connection, unit_ids: list[int]) -> dict[int, dict[str, str | None]]:
    """The contact person and phone of these units, masked (张*, 139****5678): for the readers of road
    data who may not see them (gis.access.roles.UNIT_CONTACTS decides, in the caller)."""
    rows = conn.execute("SELECT id, contact, phone FROM responsible_unit WHERE id = ANY(%s)",
                        [unit_ids]).fetchall()
    return {r[0]: {"contact": mask_contact(r[1]), "phone": mask_phone(r[2])} for r in rows}
