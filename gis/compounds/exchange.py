"""Unmanaged compounds (无人管理小区) in and out: the importable layer (Shapefile, GeoJSON, GeoPackage,
or a table with a WKT column) and the export with each compound's helper on a day and its task counts.

The layer goes through the importer every other layer uses (gis/interop): all rows or none, every
problem named by row and field, an invalid polygon refused with shapely's reason before the database
sees it. Its columns are the export's headers, so an export imports back as the same compounds.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.areas import by_geometry
from gis.compounds.compounds import REF, check_day, overlaps, today
from gis.interop.layerspec import Field, LayerSpec
from gis.sql_files import sql_text

COMPOUNDS = LayerSpec(
    name="compounds", table="compound", geometry="polygon",
    description="Unmanaged compounds (无人管理小区): polygon, name, management, households, note",
    fields=(
        Field("name", required=True, aliases=("名称", "小区名称")),
        # management kinds are data (compound_management): 无物业, 自管 ... taken as their codes
        Field("management", aliases=("管理方式", "管理类型"),
              vocabulary_sql="SELECT code, name_zh FROM compound_management ORDER BY code"),
        Field("households", kind="int", aliases=("户数",)),
        Field("note", aliases=("备注",)),
    ),
    check_sql=f"""
        SELECT row_no, 'ref', quote_literal(left(ref, 40)) || ' must be 1-60 letters, digits or . _ : -'
        FROM staging WHERE ref IS NOT NULL AND ref !~ '{REF}'
        UNION ALL
        SELECT row_no, 'households', 'must not be negative' FROM staging WHERE households < 0
        UNION ALL
        SELECT row_no, 'note', 'at most 2000 characters' FROM staging WHERE length(note) > 2000
        UNION ALL
        SELECT row_no, 'name', 'at most 200 characters' FROM staging WHERE length(name) > 200
        ORDER BY 1""",
    # The new ids are kept for this transaction (``imported_ids``): the overlaps they make are reported
    # like the division check's, and only theirs (several statements: psycopg runs them as one when
    # there are no parameters).
    insert_sql="""
        CREATE TEMP TABLE IF NOT EXISTS compound_imported (id bigint) ON COMMIT DROP;
        DELETE FROM compound_imported;
        WITH made AS (
            INSERT INTO compound (ref, name, management, households, note, geom)
            SELECT ref, btrim(name), coalesce(management, 'none'), households, note, ST_Multi(geom)
            FROM staging ORDER BY row_no
            RETURNING id)
        INSERT INTO compound_imported SELECT id FROM made""",
    # the generic export (GET /exports/compounds, `gridmap export compounds`): the layer's own fields, so
    # that it imports back; the helpers and tasks are /exports/campaign/compounds'
    export_sql="SELECT k.ref, k.name, k.management, k.households, k.note, k.geom FROM compound k WHERE "
               + by_geometry("k.geom") + " ORDER BY k.ref, k.id",
)

def imported_overlaps(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The overlaps (over 1 m², GET /compounds/overlaps) involving the compounds this transaction's
    import made; to be called before the transaction ends."""
    ids = [r[0] for r in conn.execute("SELECT id FROM pg_temp.compound_imported ORDER BY id")]
    return overlaps(conn, ids) if ids else []


# key -> header; the first five are the layer's columns (编号 is the importer's ref)
COLUMNS = {
    "ref": "编号", "name": "名称", "management_zh": "管理方式", "households": "户数", "note": "备注",
    "community_code": "所在社区编码", "grid_code": "所在网格编码", "unit_name": "帮扶单位",
    "helper_from": "帮扶起始", "helper_to": "帮扶截止", "tasks": "任务数", "beautify": "美化",
    "lighting": "亮化", "greening": "绿化", "good_deed": "实事好事", "area_m2": "面积（平方米）",
}


def export_rows(conn: psycopg.Connection, area: str | None = None, on: date | None = None
                ) -> list[dict[str, Any]]:
    """The compounds the reader sees in ``area`` (street, community or grid; None: all) as GET /compounds
    places them, with the helper on ``on`` (default today) and the tasks the reader sees, by kind."""
    check_day(on=on)
    query = f"""
        SELECT k.*, coalesce(t.tasks, 0) AS tasks, coalesce(t.beautify, 0) AS beautify,
               coalesce(t.lighting, 0) AS lighting, coalesce(t.greening, 0) AS greening,
               coalesce(t.good_deed, 0) AS good_deed, ST_AsBinary(c.geom) AS geom
        FROM ({sql_text('gis.compounds', 'placed')}) k
        JOIN compound c ON c.id = k.id
        LEFT JOIN (SELECT compound_id, count(*) AS tasks,
                          count(*) FILTER (WHERE kind = 'beautify') AS beautify,
                          count(*) FILTER (WHERE kind = 'lighting') AS lighting,
                          count(*) FILTER (WHERE kind = 'greening') AS greening,
                          count(*) FILTER (WHERE kind = 'good_deed') AS good_deed
                   FROM compound_task GROUP BY compound_id) t ON t.compound_id = k.id
        WHERE %(area)s::text IS NULL OR k.grid_code = %(area)s OR starts_with(k.community_code, %(area)s)
        ORDER BY k.name, k.id"""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, {"area": area, "on": on or today()}).fetchall()
