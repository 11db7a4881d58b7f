"""The facility check (阵地达标): the communities whose count of a kind of facility falls outside the
target (facility_target: 道德讲堂 1-2 per community), in one statement (check.sql), for the reader's
area (the communities under her scopes)."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import InvalidInput
from gis.sql_files import sql_text

AREA = r"^([1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?)?$"


def failures(conn: psycopg.Connection, prefix: str = "", kind: str | None = None) -> list[dict[str, Any]]:
    """Each community under ``prefix`` ('' = all the reader's) and within the reader's area (her grants'
    scopes; everything for a scope of everything) that has too few or too many facilities of a kind
    with a target (``kind``: that kind only), with its count and the target's bounds."""
    if not re.fullmatch(AREA, prefix):
        raise InvalidInput.one("area", "a 6-, 9- or 12-digit code, or nothing")
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql_text("gis.facilities", "check"), {"prefix": prefix, "kind": kind}).fetchall()


def targets(conn: psycopg.Connection) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT t.kind, k.name_zh AS kind_zh, t.scope, t.min_count, t.max_count"
            " FROM facility_target t JOIN facility_kind k ON k.code = t.kind"
            " ORDER BY t.kind, t.scope"
        ).fetchall()
