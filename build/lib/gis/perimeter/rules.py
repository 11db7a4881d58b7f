"""Perimeter rules as editable data: list, add, change and remove, with their validation."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import Conflict, InvalidInput, NotFound, Problem

KINDS = ("forbidden", "licence_required")
METHODS = ("boundary", "entrance")  # from any point of the campus boundary / gate to door
FIELDS = ("region", "category", "school_levels", "distance_m", "kind", "method", "note")
_REGION = re.compile(r"^(national|[0-9]{2,12})$")


def list_rules(conn: psycopg.Connection) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id, region, category, school_levels, distance_m, kind, method, note"
            " FROM perimeter_rule ORDER BY region, category, id").fetchall()


def get_rule(conn: psycopg.Connection, rule_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT id, region, category, school_levels, distance_m, kind, method, note"
                          " FROM perimeter_rule WHERE id = %s", [rule_id]).fetchone()
    if row is None:
        raise NotFound("perimeter rule", rule_id)
    return row


def rule_problems(conn: psycopg.Connection, rule: dict[str, Any]) -> list[Problem]:
    """Everything wrong with a rule, checked against the vocabularies in the database."""
    problems = []
    if not _REGION.match(str(rule.get("region", ""))):
        problems.append(Problem("region", "'national' or an administrative code prefix of 2-12 digits"))
    categories = {r[0] for r in conn.execute("SELECT code FROM place_category")}
    if rule.get("category") not in categories:
        problems.append(Problem("category", f"unknown; one of {', '.join(sorted(categories))}"))
    levels = {r[0] for r in conn.execute("SELECT code FROM school_level")}
    given = rule.get("school_levels") or []
    if not given or not set(given) <= levels:
        problems.append(Problem("school_levels", f"a non-empty list of {', '.join(sorted(levels))}"))
    distance = rule.get("distance_m")
    if not isinstance(distance, int | float) or not 0 < distance <= 2000:
        problems.append(Problem("distance_m", "metres, more than 0 and at most 2000"))
    if rule.get("kind") not in KINDS:
        problems.append(Problem("kind", f"one of {', '.join(KINDS)}"))
    if rule.get("method", "boundary") not in METHODS:
        problems.append(Problem("method", f"one of {', '.join(METHODS)}"))
    return problems


def _write(conn: psycopg.Connection, query: str, rule: dict[str, Any], *extra: object) -> dict[str, Any]:
    rule = {"method": "boundary", "note": None, **rule}
    if problems := rule_problems(conn, rule):
        raise InvalidInput(problems)
    values = [rule[f] if f != "school_levels" else sorted(set(rule[f])) for f in FIELDS]
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(query, [*values, *extra]).fetchone()  # type: ignore[arg-type]
    except psycopg.errors.UniqueViolation:
        raise Conflict("a rule for this region, category, kind and school levels exists already") from None
    if row is None:
        raise NotFound("perimeter rule", extra[0] if extra else None)
    return row


RETURNING = " RETURNING id, region, category, school_levels, distance_m, kind, method, note"


def add_rule(conn: psycopg.Connection, rule: dict[str, Any]) -> dict[str, Any]:
    return _write(conn, "INSERT INTO perimeter_rule (region, category, school_levels, distance_m, kind,"
                        " method, note) VALUES (%s, %s, %s, %s, %s, %s, %s)" + RETURNING, rule)


def change_rule(conn: psycopg.Connection, rule_id: int, rule: dict[str, Any]) -> dict[str, Any]:
    return _write(conn, "UPDATE perimeter_rule SET region = %s, category = %s, school_levels = %s,"
                        " distance_m = %s, kind = %s, method = %s, note = %s WHERE id = %s" + RETURNING,
                  rule, rule_id)


def remove_rule(conn: psycopg.Connection, rule_id: int) -> None:
    if conn.execute("DELETE FROM perimeter_rule WHERE id = %s RETURNING id", [rule_id]).fetchone() is None:
        raise NotFound("perimeter rule", rule_id)
