"""Facilities (阵地) in and out: the importable layer and the export of an area's facilities with the
target check (阵地达标).

The layer goes through the importer every other layer uses (gis/interop: all rows or none, every
problem named by row and field, GBK CSV, GCJ-02 / EPSG:4490 converted to WGS 84 on the way in). Its
columns are the export's Chinese headers, so an export imports back as the same facilities. The
community a facility stands in is still the database's to derive from the point (migration 026); a
所在社区 column, when the file has one, must agree with the point (a swapped or unconverted coordinate
shows there).
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.areas import by_geometry
from gis.errors import InvalidInput
from gis.facilities import check
from gis.interop.layerspec import Field, LayerSpec

FACILITIES = LayerSpec(
    name="facilities", table="facility", geometry="point",
    description="Facilities (阵地): kind, name, address, owner (a community or a unit), in use",
    fields=(
        # kinds are data (facility_kind): their Chinese names (道德讲堂) are taken as their codes
        Field("kind", required=True, aliases=("类型", "阵地类型"),
              vocabulary_sql="SELECT code, name_zh FROM facility_kind ORDER BY code"),
        Field("name", required=True, aliases=("名称", "阵地名称")),
        Field("address", aliases=("地址",)),
        Field("owner_community", aliases=("所属社区编码", "所属社区")),
        Field("owner_unit", aliases=("责任单位",), description="the unit's name"),
        Field("community", aliases=("所在社区编码",), description="checked against the point"),
        Field("active", kind="bool", aliases=("在用", "是否在用")),
    ),
    check_sql="""
        SELECT row_no, 'owner_community', 'give the owner: 所属社区编码 (owner_community) or 责任单位 '
               || '(owner_unit), one of them'
        FROM staging WHERE (owner_community IS NULL) = (owner_unit IS NULL)
        UNION ALL
        SELECT s.row_no, 'owner_community', 'community ' || s.owner_community || ' is not stored'
        FROM staging s WHERE s.owner_community IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM community c WHERE c.code = s.owner_community)
        UNION ALL
        SELECT s.row_no, 'owner_unit', 'unit ' || quote_literal(left(s.owner_unit, 40)) || ' is not stored'
        FROM staging s WHERE s.owner_unit IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM responsible_unit u WHERE u.name = s.owner_unit)
        UNION ALL
        SELECT s.row_no, 'community', 'the point lies outside community ' || left(s.community, 15)
               || ' (longitude and latitude swapped, or GCJ-02 read as WGS 84? see crs)'
        FROM staging s WHERE s.community IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM community c
                          WHERE c.code = s.community AND ST_Intersects(c.geom, s.geom))
        ORDER BY 1""",
    # the community is the point's (trigger facility_place); row-level security lets an admin write the
    # facilities of the communities in her scope only. The system the file's points came in (GCJ-02 from a
    # phone map, converted to WGS 84 on the way in) is staged by the importer as position_crs.
    insert_sql="""
        INSERT INTO facility (kind, name, address, owner_community, owner_unit, geom, position_crs, active)
        SELECT s.kind, btrim(s.name), s.address, s.owner_community, u.id, s.geom, s.position_crs,
               coalesce(s.active, true)
        FROM staging s LEFT JOIN responsible_unit u ON u.name = s.owner_unit
        ORDER BY s.row_no""",
    # the generic export (GET /exports/facilities, `gridmap export facilities`): the layer's own fields,
    # so that it imports back; the facility check's figures are /exports/campaign/facilities'
    export_sql="""
        SELECT f.kind, f.name, f.address, f.owner_community, u.name AS owner_unit,
               f.community_code AS community, f.active, f.geom
        FROM facility f LEFT JOIN responsible_unit u ON u.id = f.owner_unit
        WHERE """ + by_geometry("f.geom") + " ORDER BY f.community_code, f.kind, f.id",
)

# key -> header of the export; the first seven are the layer's columns (aliases above)
COLUMNS = {
    "kind_zh": "类型", "name": "名称", "address": "地址", "owner_community": "所属社区编码",
    "owner_unit_name": "责任单位", "community_code": "所在社区编码", "active": "在用",
    "community_name": "所在社区", "same_kind": "本社区同类数量", "min_count": "标准下限",
    "max_count": "标准上限", "verdict": "达标情况", "sessions": "活动次数",
}
FAILURE_COLUMNS = {
    "community_code": "社区编码", "community_name": "社区", "kind_zh": "类型", "count": "现有数量",
    "min_count": "标准下限", "max_count": "标准上限", "verdict": "达标情况",
}
VERDICTS = {"too_few": "不足", "too_many": "超出", "ok": "达标", "none": "无标准", "outside": "不在社区内"}

# Each facility with its community's count of that kind (active ones) against the most specific target:
# the figures of check.sql, per row.
_ROWS = """
SELECT f.id, k.name_zh AS kind_zh, f.name, f.address, f.owner_community, u.name AS owner_unit_name,
       f.community_code, f.active, c.name AS community_name, n.same_kind, t.min_count, t.max_count,
       CASE WHEN f.community_code IS NULL THEN 'outside'
            WHEN t.min_count IS NULL THEN 'none'
            WHEN n.same_kind < t.min_count THEN 'too_few'
            WHEN n.same_kind > t.max_count THEN 'too_many' ELSE 'ok' END AS verdict,
       (SELECT count(*) FROM facility_session s WHERE s.facility_id = f.id) AS sessions,
       ST_AsBinary(f.geom) AS geom
FROM facility f
JOIN facility_kind k ON k.code = f.kind
LEFT JOIN responsible_unit u ON u.id = f.owner_unit
LEFT JOIN community c ON c.code = f.community_code
LEFT JOIN (SELECT g.community_code, g.kind, count(*) AS same_kind FROM facility g
           WHERE g.active AND g.community_code IS NOT NULL GROUP BY g.community_code, g.kind) n
       ON n.community_code = f.community_code AND n.kind = f.kind
LEFT JOIN LATERAL (SELECT ft.min_count, ft.max_count FROM facility_target ft
                   WHERE ft.kind = f.kind AND starts_with(f.community_code, ft.scope)
                   ORDER BY length(ft.scope) DESC LIMIT 1) t ON true
WHERE %(prefix)s = '' OR starts_with(f.community_code, %(prefix)s)
ORDER BY f.community_code, f.kind, f.id"""


def export_rows(conn: psycopg.Connection, prefix: str = "") -> list[dict[str, Any]]:
    """The facilities of ``prefix`` ('' = all, those outside every community included), each with its
    community's count of that kind against the target; ``geom`` as WKB."""
    if not re.fullmatch(check.AREA, prefix):  # as GET /facilities/check answers it
        raise InvalidInput.one("area", "a 6-, 9- or 12-digit code, or nothing")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_ROWS, {"prefix": prefix}).fetchall()
    for r in rows:
        r["same_kind"] = r["same_kind"] or 0
        r["active"] = "是" if r["active"] else "否"
        r["verdict"] = VERDICTS[r["verdict"]]
    return rows


def failure_rows(conn: psycopg.Connection, prefix: str = "") -> list[dict[str, Any]]:
    """The communities failing a target (GET /facilities/check): also those with no facility at all."""
    rows = check.failures(conn, prefix)
    for r in rows:
        r["verdict"] = VERDICTS[r["failure"]]
    return rows
