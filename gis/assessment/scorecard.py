"""A community's quarter against its scoring sheet (考核): each item with its live figure (if the system
measures it), whether it meets its target, its evidence count and its gaps (查漏补缺: no evidence,
below target, no figure).

The scorecards of a whole area come from one statement (scorecards.sql: every community's figures,
evidence counts and sheet items at once); one community's is the same statement narrowed to it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.assessment import evidence, figures
from gis.assessment.quarters import Quarter
from gis.errors import NotFound
from gis.sql_files import sql_text

GAP_NO_EVIDENCE, GAP_BELOW_TARGET, GAP_NO_FIGURE = "无佐证材料", "未达标", "无数据"
_PER_ROW = ("community", "community_name", "sheet_id", "title", "helped_n", "compounds_n")


def meets(value: float | None, target: Decimal | None, direction: str | None) -> bool | None:
    if target is None or direction is None:
        return None
    if value is None:
        return False
    return Decimal(str(value)) >= target if direction == ">=" else Decimal(str(value)) <= target


def _statement() -> sql.Composed:
    return sql.SQL(sql_text("gis.assessment", "scorecards")).format(  # type: ignore[arg-type]
        figures=figures.statement(),
        record_photos=sql.SQL(sql_text("gis.assessment", "record_photos").strip()))


def area_items(conn: psycopg.Connection, quarter: Quarter, area: str,
               on: date | None = None) -> list[dict[str, Any]]:
    """The items of every scored community under ``area`` (a district, street or community), community
    by community in code order, items in the sheet's order: figure, target met, evidence, gaps."""
    day = figures.measured_on(quarter, on)
    params = figures.params(conn, area, quarter, on) | {"quarter": quarter.code, "end": quarter.end}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_statement(), params).fetchall()
    for it in rows:
        if it["figure"] == "compounds_helped_share":
            it["value"] = figures.compounds_helped_share(it["helped_n"] or 0, it["compounds_n"] or 0)
        value = it["value"] if it["figure"] in figures.FIGURES else None
        met = meets(value, it["target"], it["direction"])
        gaps = [GAP_NO_EVIDENCE] if it["evidence"] == 0 else []
        if it["figure"] and value is None:
            gaps.append(GAP_NO_FIGURE)
        elif met is False:
            gaps.append(GAP_BELOW_TARGET)
        known = it["figure"] in figures.FIGURES
        it.update(value=value, met=met, gaps=gaps,
                  endpoint=figures.endpoint_of(it["figure"], it["community"], quarter, day)
                  if known else None,
                  figure_zh=figures.FIGURES[it["figure"]].name_zh if known else None)
    return rows


def scorecard(conn: psycopg.Connection, quarter: Quarter, community: str,
              on: date | None = None) -> dict[str, Any]:
    """The sheet's items for the community with figures, targets, evidence and gaps."""
    rows = area_items(conn, quarter, community, on)
    mine = [r for r in rows if r["community"] == community]
    if not mine:
        raise NotFound("scoring sheet", f"{quarter} {community}")
    head = mine[0]
    items = [{k: v for k, v in r.items() if k not in _PER_ROW} for r in mine]
    return {"sheet_id": head["sheet_id"], "quarter": quarter.code, "title": head["title"],
            "community": community, "measured_on": figures.measured_on(quarter, on), "items": items,
            "uploads": evidence.uploaded(conn, quarter, community),
            "record_photos": evidence.record_photos(conn, quarter, community),
            "measured": sum(1 for i in items if i["figure"]),
            "gaps": sum(1 for i in items if i["gaps"])}
