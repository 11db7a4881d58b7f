"""四清 statistics (employment, key persons, floating population, poor groups) per grid, community, all.

Every figure carries the ``href`` of the persons or households list that holds exactly the rows
behind it, so a number on a report can always be opened to the people it counts (by a reader whose
roles may list them: the figures themselves come from the database's register_grid_counts(), which
counts the scopes of every role that sees counts, viewers included, and returns no rows).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.areas import Area, by_grid_code
from gis.errors import NotFound
from gis.sql_files import sql_text

EMPLOYMENT = ("employed", "unemployed", "retired", "student", "preschool", "other", "unknown")
LABELS = {
    "households": "户数 households",
    "persons": "人口 persons",
    "registered": "户籍人口 registered residents",
    "floating": "流动人口 floating population",
    "key_persons": "重点人员 key persons",
    "poverty_persons": "困难人员 persons in poor groups",
    "poverty_households": "困难户 poor households",
    "elderly_alone": "独居老人 elderly living alone",
    "disabled": "残疾人 disabled",
    "activists": "积极分子 activists",
    "volunteers": "志愿者 volunteers",
    "border_households": "边界户 households on a grid border",
    "outside_households": "网格外户 households outside every grid",
}


def _sql() -> sql.Composed:
    return sql.SQL(sql_text("gis.register", "stats")).format(area=sql.SQL(by_grid_code("g.code")))


def _figure(count: int, resource: str, scope: dict[str, str], **filters: str) -> dict:
    return {"count": count, "href": f"/{resource}?" + urlencode({**scope, **filters}) if scope or filters
            else f"/{resource}"}


def _figures(row: dict, scope: dict[str, str]) -> dict[str, Any]:
    """The response figures of one statistics row, each with its drill-down link."""
    def persons(key: str, **filters: str) -> dict:
        return _figure(row[key], "persons", scope, **filters)

    out: dict[str, Any] = {
        "households": _figure(row["households"], "households", scope),
        "border_households": _figure(row["border_households"], "households", scope, placement="border"),
        "persons": persons("persons"),
        "registered": persons("registered", residence="registered"),
        "floating": persons("floating", residence="floating"),
        "employment": {e: persons(e, employment=e) for e in EMPLOYMENT},
        "key_persons": persons("key_persons", key_person="any"),
        "key_persons_by_category": {c: _figure(n, "persons", scope, key_person=c)
                                    for c, n in sorted(row["key_persons_by_category"].items())},
        "poverty_persons": persons("poverty_persons", poverty="any"),
        "poverty_households": _figure(row["poverty_households"], "households", scope, poverty="any"),
        "poverty_by_status": {
            s: {"persons": _figure(v["persons"], "persons", scope, poverty=s),
                "households": _figure(v["households"], "households", scope, poverty=s)}
            for s, v in sorted(row["poverty_by_status"].items())},
        "elderly_alone": persons("elderly_alone", elderly_alone="true"),
        "disabled": persons("disabled", disabled="true"),
        "activists": persons("activists", activist="true"),
        "volunteers": persons("volunteers", volunteer="true"),
    }
    if not scope:
        out["outside_households"] = _figure(row["outside_households"], "households", {}, placement="outside")
    return out


def statistics(conn: psycopg.Connection, grid: str | None = None, community: str | None = None) -> dict:
    """四清 figures for one grid, one community and its grids, or everything (all, communities, grids).

    One SQL statement (GROUPING SETS with FILTER clauses) computes every level at once.
    """
    if grid is not None and conn.execute("SELECT 1 FROM grid WHERE code = %s", [grid]).fetchone() is None:
        raise NotFound("grid", grid)
    if community is not None and conn.execute(
            "SELECT 1 FROM community WHERE code = %s", [community]).fetchone() is None:
        raise NotFound("community", community)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_sql(), Area(community=community, grid=grid).params()).fetchall()
    result: dict[str, Any] = {"scope": {"grid": grid, "community": community}, "all": None,
                              "communities": [], "grids": []}
    for row in rows:
        if row["level"] == 3:
            if grid is None and community is None:
                result["all"] = {"level": "all", "figures": _figures(row, {})}
        elif row["level"] == 1:
            if grid is None:
                result["communities"].append({
                    "level": "community", "code": row["community"], "name": row["community_name"],
                    "figures": _figures(row, {"community": row["community"]})})
        else:
            result["grids"].append({
                "level": "grid", "code": row["grid"], "name": row["grid_name"],
                "community_code": row["community"], "figures": _figures(row, {"grid": row["grid"]})})
    return result


def flatten(figures: dict, prefix: str = "") -> dict[str, dict]:
    """Every figure of a nested figures dict by dotted name (e.g. employment.retired)."""
    out: dict[str, dict] = {}
    for key, value in figures.items():
        if isinstance(value, dict) and "href" in value:
            out[prefix + key] = value
        elif isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
    return out
