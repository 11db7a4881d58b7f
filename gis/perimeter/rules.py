"""Perimeter rules as editable data: list, add, change and remove, with their validation."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import Conflict, InvalidInput, NotFound, Problem
from gis.perimeter.check import perimeter_violations

KINDS = ("forbidden", "licence_required")
METHODS = ("boundary", "entrance")  # from any point of the campus boundary / gate to door
FIELDS = ("region", "category", "school_levels", "distance_m", "kind", "method", "note")
_REGION = re.compile(r"^(national|[0-9]{2,12})$")
_CATEGORY_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


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
    rule["category"] = category_code(conn, rule.get("category"))
    if problems := rule_problems(conn, rule):
        raise InvalidInput(problems)
    values = [rule[f] if f != "school_levels" else sorted(set(rule[f])) for f in FIELDS]
    # The table's UNIQUE compares arrays in order ({primary,middle} <> {middle,primary}): the same
    # levels in another order are the same rule.
    same = conn.execute(
        "SELECT id FROM perimeter_rule WHERE region = %s AND category = %s AND kind = %s"
        " AND school_levels @> %s AND school_levels <@ %s AND id IS DISTINCT FROM %s",
        [rule["region"], rule["category"], rule["kind"], values[2], values[2],
         extra[0] if extra else None]).fetchone()
    if same is not None:
        raise Conflict(f"rule {same[0]} has this region, category, kind and school levels already")
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


# --- place categories ----------------------------------------------------------------------------
# The vocabulary is the place_category table: a province that regulates a kind of business the
# national rules do not name (e.g. 歌舞娱乐场所 under 娱乐场所管理条例) adds a category as data.

def list_categories(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every category with how many places and rules name it."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT c.code, c.name_zh, c.name_en,"
            " (SELECT count(*) FROM place p WHERE p.category = c.code) AS places,"
            " (SELECT count(*) FROM perimeter_rule r WHERE r.category = c.code) AS rules"
            " FROM place_category c ORDER BY c.code").fetchall()


def category_code(conn: psycopg.Connection, given: object) -> object:
    """A category given by its code or its Chinese name (游戏厅 → game_hall); anything else unchanged
    (rule_problems then names it)."""
    if not isinstance(given, str):
        return given
    row = conn.execute("SELECT code FROM place_category WHERE code = %(g)s OR name_zh = %(g)s"
                       " ORDER BY code <> %(g)s LIMIT 1", {"g": given.strip()}).fetchone()
    return row[0] if row else given.strip()


def add_category(conn: psycopg.Connection, code: str, name_zh: str, name_en: str | None = None
                 ) -> dict[str, Any]:
    """A new place category: a lower-case code (letters, digits, '_') and its Chinese name, both unused."""
    name_zh, name_en = name_zh.strip(), (name_en or "").strip() or code.replace("_", " ")
    problems = []
    if not _CATEGORY_CODE.match(code):
        problems.append(Problem("category", "a new category's code is 2-40 lower-case letters, digits or "
                                            "'_', starting with a letter (e.g. dance_hall)"))
    if not name_zh or "\x00" in name_zh or len(name_zh) > 40:
        problems.append(Problem("category_name", "the Chinese name, 1-40 characters (e.g. 歌舞娱乐场所)"))
    if problems:
        raise InvalidInput(problems)
    taken = conn.execute("SELECT code FROM place_category WHERE code = %s OR name_zh = %s",
                         [code, name_zh]).fetchone()
    if taken:
        raise Conflict(f"category {taken[0]!r} exists already with this code or name ({name_zh})")
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("INSERT INTO place_category (code, name_zh, name_en) VALUES (%s, %s, %s)"
                          " RETURNING code, name_zh, name_en", [code, name_zh, name_en]).fetchone()
    assert row is not None
    return row


# --- what a new rule would change ----------------------------------------------------------------

def preview_rule(conn: psycopg.Connection, rule: dict[str, Any], day: date | None = None) -> dict[str, Any]:
    """The violations a new rule would make appear and disappear on ``day`` (default today), found by
    the check itself (gis/perimeter/check.sql) run before and with the rule added in a savepoint that
    is then rolled back: nothing is saved. A place whose nearest school changes disappears from one
    school and appears at the other; ``reruled`` are the same place and school under another rule.
    ``schools`` are the schools whose set of violating places changes, with their counts."""
    before = {v["place_id"]: v for v in perimeter_violations(conn, day)}
    with conn.transaction(force_rollback=True):
        added = add_rule(conn, rule)
        after = {v["place_id"]: v for v in perimeter_violations(conn, day)}
    appear = [v for p, v in after.items() if p not in before or before[p]["school_id"] != v["school_id"]]
    disappear = [v for p, v in before.items() if p not in after or after[p]["school_id"] != v["school_id"]]
    reruled = [v for p, v in after.items() if p in before and before[p]["school_id"] == v["school_id"]
               and before[p]["rule_id"] != v["rule_id"]]
    schools: dict[int, dict[str, Any]] = {}
    for side, found in (("appear", appear), ("disappear", disappear)):
        for v in found:
            entry = schools.setdefault(v["school_id"], {
                "school_id": v["school_id"], "school_ref": v["school_ref"], "school_name": v["school_name"],
                "school_level": v["school_level"], "appear": 0, "disappear": 0})
            entry[side] += 1
    added.pop("id", None)
    return {"rule": added, "appear": appear, "disappear": disappear, "reruled": reruled,
            "schools": sorted(schools.values(), key=lambda s: (s["school_name"], s["school_id"]))}


def rules_in_force(conn: psycopg.Connection, school_level: str,
                   region_code: str | None) -> list[dict[str, Any]]:
    """The rules in force for one school level in one region (a community code, or a prefix of one):
    perimeter_rules_in_force (gis/migrations/009), as the check applies them."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT rule_id, region, category, distance_m, kind, method"
                           " FROM perimeter_rules_in_force(%s, %s) ORDER BY category, kind, rule_id",
                           [school_level, region_code or None]).fetchall()
