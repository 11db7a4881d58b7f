"""The evidence a black entry may point to, kept to the list's area (its street or community).

Places (and so their violations and inspections) have no area column: a place lies in the community its
point intersects, the lowest code where it sits on a border (evidence.sql). Reports carry their area.
The picker offers only evidence of the area, and an entry naming evidence from elsewhere is refused with
the field named (422), whoever sees the other street's records.
"""

from __future__ import annotations

from typing import Any

import psycopg

from gis.errors import InvalidInput, Problem
from gis.sql_files import sql_statements

FIELDS = ("violation_id", "inspection_id", "report_id")
_WHAT = {"violation_id": "violation", "inspection_id": "inspection", "report_id": "report"}


def _statement(n: int) -> str:
    """evidence.sql's statements: 0 violations, 1 inspections, 2 the check of named evidence."""
    return sql_statements("gis.honours", "evidence")[n]


def closed_violations(conn: psycopg.Connection, scope: str, limit: int) -> list[tuple[Any, ...]]:
    """(id, place name, found on, reason) of the closed violations of the area's places, newest first."""
    return conn.execute(_statement(0), {"scope": scope, "limit": limit}).fetchall()


def violating_inspections(conn: psycopg.Connection, scope: str, limit: int) -> list[tuple[Any, ...]]:
    """(id, place name, inspected at, result) of the inspections that found a violation there."""
    return conn.execute(_statement(1), {"scope": scope, "limit": limit}).fetchall()


def check_in_area(conn: psycopg.Connection, scope: str, entry: dict[str, Any]) -> None:
    """InvalidInput naming each evidence field whose record lies outside the list's area ``scope``."""
    named = {f: entry.get(f) for f in FIELDS}
    if all(v is None for v in named.values()):
        return
    outside = [r[0] for r in conn.execute(_statement(2), {**named, "scope": scope})]
    if outside:
        raise InvalidInput([Problem(f, f"{_WHAT[f]} {named[f]} lies outside the list's area {scope}")
                            for f in outside])
