"""Coverage of the compounds by helper units (帮扶覆盖率) per street, community or grid: compounds,
those with a lead helper on the day, and the share. Each row's counts are the lengths of
GET /compounds?area=CODE (&helped=true) on that day: the same placed rows (placed.sql), grouped."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.compounds.compounds import day_problems, today
from gis.errors import InvalidInput, Problem
from gis.sql_files import sql_text

LEVELS = {"street": "street_code", "community": "community_code", "grid": "grid_code"}


def coverage(conn: psycopg.Connection, level: str = "community", on: date | None = None) -> dict[str, Any]:
    """Per area of ``level``: compounds, helped, share (0-1, None for no compound), by code; compounds
    outside every area of that level in ``outside``; ``total`` over all (= the rows plus outside)."""
    problems = day_problems(on=on)
    if level not in LEVELS:
        problems.append(Problem("level", "one of street, community, grid"))
    if problems:
        raise InvalidInput(problems)
    key = sql.Identifier(LEVELS[level])
    query = sql.SQL("""
        SELECT k.{key} AS code, count(*)::int AS compounds, count(k.helper_id)::int AS helped
        FROM ({placed}) k GROUP BY k.{key} ORDER BY k.{key} NULLS LAST""").format(
        key=key, placed=sql.SQL(sql_text("gis.compounds", "placed"))
    )  # type: ignore[arg-type]
    groups = conn.cursor(row_factory=dict_row).execute(query, {"on": on or today()}).fetchall()

    def share(r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "share": round(r["helped"] / r["compounds"], 4) if r["compounds"] else None}

    rows = [share(r) for r in groups if r["code"] is not None]
    outside = next(
        (share(r) for r in groups if r["code"] is None), share({"code": None, "compounds": 0, "helped": 0})
    )
    total = share(
        {
            "code": None,
            "compounds": sum(r["compounds"] for r in groups),
            "helped": sum(r["helped"] for r in groups),
        }
    )
    return {"level": level, "on": on or today(), "rows": rows, "outside": outside, "total": total}
