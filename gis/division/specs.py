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
    # The rule the community_within_scope trigger enforces (gis/migrations/010), with the rows named.
    check_sql="""
        SELECT s.row_no, 'geom', 'reaches into community ' || r.codes || ' outside your scope'
        FROM staging s CROSS JOIN LATERAL (SELECT community_reaches_out_of_scope(s.geom, s.code)) r(codes)
        WHERE (SELECT row_security_active('community') AND NOT access_all('{admin}'))
          AND r.codes IS NOT NULL
        ORDER BY 1""",
    insert_sql="INSERT INTO community (code, name, street_name, ref, geom) "
               "SELECT code, name, street_name, ref, ST_Multi(geom) FROM staging ORDER BY row_no",
    export_sql="SELECT ref, code, name, street_name, geom FROM community WHERE "
               + by_community_code("code") + " ORDER BY code",
)

# After new grids, the households (and buildings) in their extent are placed again; only changed rows
# are written. Households through replace_households (gis/migrations/010), the one home of
# re-placement: with the importer's rights, so a scoped admin's import touches only households they
# may write. The extent, not the union of the grids: one box costs nothing to build and the same to
# test, and households outside the new grids keep their placement anyway. The GiST index is rebuilt
# first: built sorted (PostgreSQL 15), its leaf pages do not overlap, and a point lookup reads 3 pages
# instead of 6 - placing 100k points took 1.4 s instead of 4 s.
_REPLACE = """
SELECT grid_geom_reindex();  -- REINDEX is the owner's; the service role runs it through this function
SELECT replace_households(ST_SetSRID(ST_Extent(geom)::geometry, 4326)) FROM staging;
UPDATE building b SET grid_code = p.grid_code
FROM (SELECT x.id, g.grid_code
      FROM building x CROSS JOIN LATERAL grid_for_point(ST_PointOnSurface(x.geom)) g
      WHERE x.geom && (SELECT ST_SetSRID(ST_Extent(geom)::geometry, 4326) FROM staging)) p
WHERE p.id = b.id AND b.grid_code IS DISTINCT FROM p.grid_code
"""

# Rows a scoped importer may not write, named: a grid code outside their admin scope (the policy would
# refuse the whole file without saying which row), and a boundary reaching beyond its community by more
# than the tolerance (the constraint trigger would too). One-time filters keep the owner's and an admin
# of everything's imports from paying for the scope test.
_GRID_CHECKS = """
    SELECT row_no, 'community_code', 'must be the first 12 digits of the grid code ' || code
    FROM staging WHERE community_code IS NOT NULL AND community_code <> left(code, 12)
    UNION ALL
    SELECT s.row_no, 'community_code',
           'community ' || coalesce(s.community_code, left(s.code, 12)) || ' does not exist'
    FROM staging s LEFT JOIN community c ON c.code = coalesce(s.community_code, left(s.code, 12))
    WHERE c.code IS NULL
    UNION ALL
    SELECT s.row_no, 'code', 'grid ' || s.code || ' is outside your scope'
    FROM staging s
    WHERE (SELECT row_security_active('grid') AND NOT access_all('{admin}'))
      AND NOT access_covers(s.code, '{admin}')
    UNION ALL
    SELECT s.row_no, 'geom',
           'reaches more than ' || division_tolerance_m() || ' m outside community ' || c.code
    FROM staging s JOIN community c ON c.code = coalesce(s.community_code, left(s.code, 12))
    WHERE division_reaches_beyond(s.geom, c.geom)
    ORDER BY 1"""

GRIDS = LayerSpec(
    name="grids", table="grid", geometry="polygon",
    description="Grids (网格): 15-digit code, name, community, boundary",
    fields=(
        Field("code", required=True, unique=True, check=grid_code_problem,
              aliases=("网格编码", "网格代码", "编码", "代码")),
        Field("name", required=True, aliases=("网格名称", "名称", "网格")),
        Field("community_code", check=community_code_problem, aliases=("社区编码", "社区代码")),
    ),
    check_sql=_GRID_CHECKS,
    insert_sql="INSERT INTO grid (code, community_code, name, ref, geom) "
               "SELECT code, coalesce(community_code, left(code, 12)), name, ref, ST_Multi(geom) "
               "FROM staging ORDER BY row_no",
    after_sql=_REPLACE,
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
    # A scoped admin imports buildings of their own grids (or communities, outside every grid) only;
    # the table has no row-level security, so the rule is checked here, row by row, by the database.
    check_sql="""
        SELECT s.row_no, 'geom', 'outside your scope'
        FROM staging s
        WHERE (SELECT row_security_active('grid') AND NOT access_all('{admin}'))
          AND NOT division_point_in_scope(ST_PointOnSurface(s.geom))
        ORDER BY 1""",
    insert_sql="""
        INSERT INTO building (ref, name, floors, grid_code, geom)
        SELECT s.ref, s.name, s.floors, p.grid_code, s.geom
        FROM staging s CROSS JOIN LATERAL grid_for_point(ST_PointOnSurface(s.geom)) p ORDER BY s.row_no""",
    export_sql="SELECT ref, name, floors, grid_code, geom FROM building WHERE "
               + by_grid_code("grid_code") + " ORDER BY ref, id",
)

DIVISION_LAYERS: dict[str, LayerSpec] = {s.name: s for s in (COMMUNITIES, GRIDS, GRID_WORKERS, BUILDINGS)}
