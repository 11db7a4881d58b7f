"""Importable layers of the grid division (一档): communities, grids, grid workers and buildings."""

from __future__ import annotations

import re

import pandas as pd

from gis.areas import by_community_code, by_grid_code
from gis.codes import community_code_problem, grid_code_problem, phone_problem
from gis.interop.layerspec import Field, LayerSpec

_GRID_LIST_SPLIT = re.compile(r"[;；,，、\s]+")


def positive_problem(value: str) -> str | None:
    number = pd.to_numeric(value, errors="coerce")
    return "must be a positive whole number" if pd.isna(number) or number <= 0 or number % 1 else None


def _grid_list(value: str) -> str:
    return ";".join(c for c in _GRID_LIST_SPLIT.split(value.strip()) if c)


def grid_list_problem(value: str) -> str | None:
    for code in value.split(";"):
        if (problem := grid_code_problem(code)) is not None:
            return f"grid {code} {problem}"
    return None


COMMUNITIES = LayerSpec(
    name="communities", table="community", geometry="polygon",
    description="Communities (社区): 12-digit code, name, street, boundary",
    fields=(
        Field("code", required=True, unique=True, check=community_code_problem,
              aliases=("社区编码", "社区代码", "编码", "代码")),
        Field("name", required=True, aliases=("社区名称", "名称", "社区")),
        Field("street_name", aliases=("street", "街道", "街道名称")),
    ),
    insert_sql="INSERT INTO community (code, name, street_name, ref, geom) "
               "SELECT code, name, street_name, ref, ST_Multi(geom) FROM staging ORDER BY row_no",
    export_sql="SELECT ref, code, name, street_name, geom FROM community WHERE "
               + by_community_code("code") + " ORDER BY code",
)

# After grids change, every household (and building) is placed again; only changed rows are written.
# The GiST index is rebuilt first: built sorted (PostgreSQL 15), its leaf pages do not overlap, and a
# point lookup reads 3 pages instead of 6 - placing 100k points took 1.4 s instead of 4 s.
_REASSIGN = """
SELECT grid_geom_reindex();  -- REINDEX is the owner's; the service role runs it through this function
UPDATE household h SET grid_code = p.grid_code, placement = p.placement
FROM (SELECT x.id, g.grid_code, g.placement
      FROM household x CROSS JOIN LATERAL grid_for_point(x.geom) g) p
WHERE p.id = h.id
  AND (h.grid_code IS DISTINCT FROM p.grid_code OR h.placement IS DISTINCT FROM p.placement);
UPDATE building b SET grid_code = p.grid_code
FROM (SELECT x.id, g.grid_code
      FROM building x CROSS JOIN LATERAL grid_for_point(ST_PointOnSurface(x.geom)) g) p
WHERE p.id = b.id AND b.grid_code IS DISTINCT FROM p.grid_code
"""

GRIDS = LayerSpec(
    name="grids", table="grid", geometry="polygon",
    description="Grids (网格): 15-digit code, name, community, boundary",
    fields=(
        Field("code", required=True, unique=True, check=grid_code_problem,
              aliases=("网格编码", "网格代码", "编码", "代码")),
        Field("name", required=True, aliases=("网格名称", "名称", "网格")),
        Field("community_code", check=community_code_problem, aliases=("社区编码", "社区代码")),
    ),
    check_sql="""
        SELECT row_no, 'community_code', 'must be the first 12 digits of the grid code ' || code
        FROM staging WHERE community_code IS NOT NULL AND community_code <> left(code, 12)
        UNION ALL
        SELECT s.row_no, 'community_code',
               'community ' || coalesce(s.community_code, left(s.code, 12)) || ' does not exist'
        FROM staging s LEFT JOIN community c ON c.code = coalesce(s.community_code, left(s.code, 12))
        WHERE c.code IS NULL
        ORDER BY 1""",
    insert_sql="INSERT INTO grid (code, community_code, name, ref, geom) "
               "SELECT code, coalesce(community_code, left(code, 12)), name, ref, ST_Multi(geom) "
               "FROM staging ORDER BY row_no",
    after_sql=_REASSIGN,
    export_sql="SELECT ref, code, name, community_code, geom FROM grid WHERE "
               + by_grid_code("code") + " ORDER BY code",
)

GRID_WORKERS = LayerSpec(
    name="grid_workers", table="grid_worker", geometry=None,
    description="Grid workers (网格员) and the grids they serve (';'-separated codes)",
    fields=(
        Field("name", required=True, aliases=("姓名", "网格员")),
        Field("phone", check=phone_problem, aliases=("电话", "手机", "联系电话")),
        Field("grid_codes", required=True, normalise=_grid_list, check=grid_list_problem,
              aliases=("grid_code", "grids", "网格编码", "负责网格")),
    ),
    check_sql="""
        SELECT s.row_no, 'grid_codes', 'grid ' || c.code || ' does not exist'
        FROM staging s CROSS JOIN LATERAL unnest(string_to_array(s.grid_codes, ';')) AS c(code)
        WHERE NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = c.code)
        ORDER BY 1""",
    # Identities are drawn first so that the links can be written in the same statement.
    insert_sql="""
        WITH s AS (SELECT s.*, nextval(pg_get_serial_sequence('grid_worker', 'id')) AS id FROM staging s),
        w AS (INSERT INTO grid_worker (id, name, phone, ref) OVERRIDING SYSTEM VALUE
              SELECT id, name, phone, ref FROM s ORDER BY row_no)
        INSERT INTO grid_worker_grid (worker_id, grid_code)
        SELECT DISTINCT s.id, c.code
        FROM s CROSS JOIN LATERAL unnest(string_to_array(s.grid_codes, ';')) c(code)
        """,
    export_sql="""
        SELECT w.ref, w.name, w.phone, string_agg(l.grid_code, ';' ORDER BY l.grid_code) AS grid_codes
        FROM grid_worker w JOIN grid_worker_grid l ON l.worker_id = w.id
        WHERE w.id IN (SELECT worker_id FROM grid_worker_grid WHERE """
               + by_grid_code("grid_code") + """)
        GROUP BY w.id ORDER BY w.ref, w.id""",
)

BUILDINGS = LayerSpec(
    name="buildings", table="building", geometry="any",
    description="Buildings (楼栋): footprint polygon or a point",
    fields=(
        Field("name", required=True, aliases=("楼栋", "名称", "楼栋名称")),
        Field("floors", kind="int", check=positive_problem, aliases=("层数",)),
    ),
    insert_sql="""
        INSERT INTO building (ref, name, floors, grid_code, geom)
        SELECT s.ref, s.name, s.floors, p.grid_code, s.geom
        FROM staging s CROSS JOIN LATERAL grid_for_point(ST_PointOnSurface(s.geom)) p ORDER BY s.row_no""",
    export_sql="SELECT ref, name, floors, grid_code, geom FROM building WHERE "
               + by_grid_code("grid_code") + " ORDER BY ref, id",
)

DIVISION_LAYERS: dict[str, LayerSpec] = {s.name: s for s in (COMMUNITIES, GRIDS, GRID_WORKERS, BUILDINGS)}
