"""Frontage (门前三包) of shops on road sections: each shop's stretch of its nearest section."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.errors import InvalidInput
from gis.sql_files import sql_text

_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
MAX_SHOP_DISTANCE_M = 50.0  # a shop farther from every section does not front a road we manage


def frontage(conn: psycopg.Connection, places: str = "place", categories: list[str] | None = None,
             section_id: int | None = None,
             max_distance_m: float = MAX_SHOP_DISTANCE_M) -> list[dict[str, Any]]:
    """The frontage of every shop in the point table ``places`` (columns ref, name, category, geom
    Point 4326) within ``max_distance_m`` of a live section, listed per section along the road.

    A shop's stretch runs from halfway to the previous shop on the same section to halfway to the
    next one; the first and last shops reach the section's ends. Lengths in metres.
    """
    if not 0 < max_distance_m <= 500:
        raise InvalidInput.one("max_distance_m", "must be more than 0 and at most 500 m")
    exists = _TABLE_NAME.match(places) and conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", [places]).fetchone()
    if not exists or not exists[0]:
        raise InvalidInput.one("places", f"no table {places!r} of shops")
    query = sql.SQL(sql_text("gis.roads", "frontage")).format(places=sql.Identifier(*places.split(".")))
    return conn.cursor(row_factory=dict_row).execute(
        query, {"max_distance_m": max_distance_m, "categories": categories,
                "section_id": section_id}).fetchall()


def frontage_by_section(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group frontage rows under their section, keeping the order along the road."""
    sections: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = sections.setdefault(row["section_id"], {"section_id": row["section_id"],
                                                        "section_code": row["section_code"], "shops": []})
        entry["shops"].append({k: v for k, v in row.items() if k not in ("section_id", "section_code")})
    return list(sections.values())
