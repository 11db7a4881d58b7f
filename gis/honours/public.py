"""What the public sees of the honour lists, and the households' participation share (参评率).

The public rows come from honour_public() (migration 026): published versions an admin approved as
public and not superseded, with households and persons redacted to 张**家 and the building; never a
resident's name, address or the reason written about them. The share is counts per community.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import InvalidInput

AREA = r"^([1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?)?$"


def _area(prefix: str) -> str:
    if not re.fullmatch(AREA, prefix):
        raise InvalidInput.one("area", "a 6-, 9- or 12-digit code, or nothing")
    return prefix


def public_lists(conn: psycopg.Connection, prefix: str = "") -> list[dict[str, Any]]:
    """The public lists under ``prefix``, each with its entries (colour, redacted label, building)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM honour_public(%s)", [_area(prefix)]).fetchall()
    found: dict[int, dict[str, Any]] = {}
    for r in rows:  # the rows of one query, grouped by list for the page
        lst = found.setdefault(
            r["list_id"],
            {
                k: r[k]
                for k in ("list_id", "kind", "kind_zh", "scope", "series", "title", "version", "published_at")
            }
            | {"entries": []},
        )
        if r["colour"] is not None:
            lst["entries"].append(
                {"colour": r["colour"], "label": r["label"], "place": r["place"], "reason": r["reason"]}
            )
    return list(found.values())


def participation(conn: psycopg.Connection, prefix: str, year: int) -> list[dict[str, Any]]:
    """Per community under ``prefix``: households, those taking part in ``year``, the share and the
    target in force (the most specific honour_participation_target), and whether it is met."""
    if not 2000 <= year <= 2100:
        raise InvalidInput.one("year", "between 2000 and 2100")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT s.community_code, c.name AS community_name, s.households, s.taking_part,"
            " round(s.taking_part::numeric / nullif(s.households, 0), 3) AS share,"
            " (SELECT t.share FROM honour_participation_target t WHERE starts_with(s.community_code, t.scope)"
            "  ORDER BY length(t.scope) DESC LIMIT 1) AS target"
            " FROM honour_participation_share(%s, %s) s JOIN community c ON c.code = s.community_code"
            " ORDER BY s.community_code",
            [_area(prefix), year],
        ).fetchall()
    for r in rows:
        r["met"] = r["share"] is not None and r["target"] is not None and Decimal(r["share"]) >= r["target"]
    return rows


def take_part(conn: psycopg.Connection, household_ids: list[int], year: int) -> int:
    """Record households taking part in ``year`` (already recorded: kept); how many were new."""
    if not 2000 <= year <= 2100:
        raise InvalidInput.one("year", "between 2000 and 2100")
    seen = conn.execute("SELECT count(*) FROM household WHERE id = ANY(%s)", [household_ids]).fetchone()
    if seen is None or seen[0] != len(set(household_ids)):
        raise InvalidInput.one("household_ids", "households you may not write or that do not exist")
    return conn.execute(
        "INSERT INTO honour_participation (household_id, year) SELECT DISTINCT i, %s"
        " FROM unnest(%s::bigint[]) i ON CONFLICT DO NOTHING",
        [year, household_ids],
    ).rowcount
