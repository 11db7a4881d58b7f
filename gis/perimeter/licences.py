"""Licences in the whole jurisdiction (证照齐全、亮证经营): every shop of a licensed category without a
valid displayed licence on the check date, by community and grid, not only near schools.

The categories are data: those some ``licence_required`` perimeter rule names (出版物、食品店、五小门店
by default), or the ones a caller lists. The listing has the perimeter check's outputs (JSON, GeoJSON,
CSV, XLSX; gis/perimeter/export.py); CSV and XLSX carry Chinese headers, the CSV a UTF-8 BOM.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import psycopg
from psycopg import sql

from gis.areas import Area, by_geometry
from gis.errors import InvalidInput, NotFound
from gis.perimeter.export import Column, Listing
from gis.sql_files import sql_text

LICENCES_SQL = sql.SQL(sql_text("gis.perimeter", "licences")).format(
    place_in_area=sql.SQL(by_geometry("p.geom")))
COLUMNS = (
    Column("community_code", "社区编码"), Column("community_name", "社区名称"),
    Column("grid_code", "网格编码"), Column("grid_name", "网格名称"), Column("placement_name", "网格归属"),
    Column("place_ref", "场所编号"), Column("place_name", "场所名称"), Column("category_name", "类别"),
    Column("address", "地址"), Column("licence_state_name", "证照状态"),
    Column("licence_valid_until", "证照有效期至"),
    Column("lon", "经度", 7), Column("lat", "纬度", 7),
)
XLSX_EXTRA = (Column("category", "类别代码"), Column("licence_state", "证照状态代码"),
              Column("placement", "归属代码"))
PROPERTIES = ("place_id", "place_ref", "place_name", "category", "category_name", "address", "licence_state",
              "licence_state_name", "licence_valid_until", "community_code", "community_name", "grid_code",
              "grid_name", "placement")
ORDER = ("community_code", "grid_code", "place_ref", "place_id")


def licensed_categories(conn: psycopg.Connection) -> list[str]:
    """The categories some licence_required perimeter rule names, in code order."""
    found = conn.execute("SELECT array_agg(DISTINCT category ORDER BY category) FROM perimeter_rule"
                         " WHERE kind = 'licence_required'").fetchone()
    return list(found[0] or []) if found else []


def _known_categories(conn: psycopg.Connection, categories: Sequence[str]) -> list[str]:
    known = {r[0] for r in conn.execute("SELECT code FROM place_category WHERE code = ANY (%s)",
                                        [list(categories)]).fetchall()}
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise InvalidInput.one("category", f"unknown place categories: {', '.join(unknown)}")
    return list(dict.fromkeys(categories))


def _check_area(conn: psycopg.Connection, community: str | None, grid: str | None) -> None:
    if community is not None and grid is not None:
        raise InvalidInput.one("scope", "give at most one of community, grid")
    for table, code in (("community", community), ("grid", grid)):
        exists = sql.SQL("SELECT 1 FROM {} WHERE code = %s").format(sql.Identifier(table))
        if code is not None and conn.execute(exists, [code]).fetchone() is None:
            raise NotFound(table, code)


def licence_listing(conn: psycopg.Connection, day: date | None = None, *, community: str | None = None,
                    grid: str | None = None, categories: Sequence[str] | None = None) -> Listing:
    """The shops without a valid displayed licence on ``day`` (default today), in the whole
    jurisdiction or one community or grid (by geometry), ready to run in any format."""
    day = day or date.today()
    _check_area(conn, community, grid)
    chosen = _known_categories(conn, categories) if categories else licensed_categories(conn)
    params = {"day": day, "categories": chosen, **Area(community, grid).params()}
    return Listing(LICENCES_SQL, params, ORDER, COLUMNS, PROPERTIES, "place_id", "shops",
                   {"date": day.isoformat(), "categories": chosen}, bom=True, sheet="无证经营 unlicensed",
                   xlsx_extra=XLSX_EXTRA)
