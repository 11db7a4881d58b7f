"""Importable layers of the school perimeter: schools (with gates), places (businesses), licences."""

from __future__ import annotations

import re
from dataclasses import replace

from gis.areas import by_geometry
from gis.interop.layerspec import Field, LayerSpec

SCHOOL_LEVELS = ("kindergarten", "primary", "middle", "high", "vocational")
PLACE_CATEGORIES = ("internet_cafe", "game_hall", "mahjong_parlor", "entertainment", "bar", "tobacco",
                    "lottery", "publication_shop", "food_shop", "small_shop", "restaurant", "other")

_LEVEL_NAMES = {"幼儿园": "kindergarten", "小学": "primary", "初中": "middle", "中学": "middle",
                "高中": "high", "职业学校": "vocational", "职校": "vocational", "中职": "vocational"}
_CATEGORY_NAMES = {"网吧": "internet_cafe", "游戏厅": "game_hall", "麻将馆": "mahjong_parlor",
                   "歌舞娱乐": "entertainment", "酒吧": "bar", "烟草零售": "tobacco", "烟草": "tobacco",
                   "彩票": "lottery", "出版物": "publication_shop", "书店": "publication_shop",
                   "食品店": "food_shop", "五小门店": "small_shop", "餐馆": "restaurant",
                   "餐饮": "restaurant", "其他": "other"}
# Gate coordinates are split with str methods and each number matched on its own: every pattern here
# has one way to match (no two quantifiers competing for the same blanks), so the time is linear in
# the value whatever a file puts in it.
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_WKT_POINT = re.compile(r"\((-?[0-9.]+) (-?[0-9.]+)\)")
GATE_REACH_M = 500  # a gate farther than this from its campus is a typo or swapped coordinates


def _coded(name: str, codes: tuple[str, ...], names: dict[str, str], aliases: tuple[str, ...]) -> Field:
    """A required field holding one of ``codes``; the Chinese ``names`` are taken as their codes."""

    def normalise(value: str) -> str:
        key = value.strip()
        return names.get(key, key.lower())

    return Field(name, required=True, choices=codes, normalise=normalise, aliases=aliases)


def _pair(text: str) -> tuple[str, str] | None:
    """'lon,lat' or 'lon lat' (blanks around either) as its two numbers, or None."""
    if "," in text:
        lon, _, lat = text.partition(",")
        parts = [lon.strip(), lat.strip()]
    else:
        parts = text.split()
    if len(parts) != 2 or not all(_NUMBER.fullmatch(p) for p in parts):
        return None
    return parts[0], parts[1]


def _gates_wkt(value: str) -> str:
    """'lon,lat; lon,lat' (or a WKT MULTIPOINT) as WKT; left as is when it does not parse."""
    if value.strip().upper().startswith("MULTIPOINT"):
        return value.strip()
    pairs = [_pair(p) for p in value.split(";") if p.strip()]
    if not pairs or not all(pairs):
        return value
    return "MULTIPOINT(" + ", ".join(f"({p[0]} {p[1]})" for p in pairs if p) + ")"


def _gates_problem(value: str) -> str | None:
    if value.startswith("MULTIPOINT(") and value.endswith(")"):
        points = value[len("MULTIPOINT("):-1].split(",")  # ", " or PostGIS's ","
        if all(_WKT_POINT.fullmatch(p[1:] if p.startswith(" ") else p) for p in points):
            return None
    return "gates must be 'lon,lat; lon,lat' pairs"


SCHOOLS = LayerSpec(
    name="schools", table="school", geometry="any",
    description="Schools (学校): campus boundary polygon (or a point when unknown), level, gates",
    fields=(
        Field("name", required=True, aliases=("学校", "学校名称", "名称")),
        _coded("level", SCHOOL_LEVELS, _LEVEL_NAMES, aliases=("学段", "类型", "学校类型")),
        Field("gates", normalise=_gates_wkt, check=_gates_problem, aliases=("校门", "gate")),
    ),
    check_sql=f"""
        SELECT row_no, 'geometry', 'a school is a campus polygon or a point, got ' || GeometryType(geom)
        FROM staging WHERE GeometryType(geom) NOT IN ('POINT', 'POLYGON', 'MULTIPOLYGON')
        UNION ALL
        SELECT row_no, 'gates', 'a gate is ' || round(ST_Distance(geom::geography,
               ST_GeomFromText(gates, 4326)::geography))::text || ' m from the campus (lat/lon swapped?)'
        FROM staging WHERE gates IS NOT NULL
          AND NOT ST_DWithin(geom::geography, ST_GeomFromText(gates, 4326)::geography, {GATE_REACH_M})
        ORDER BY 1""",
    insert_sql="""
        INSERT INTO school (ref, name, level, geom, gates)
        SELECT ref, name, level, geom, ST_GeomFromText(gates, 4326) FROM staging ORDER BY row_no""",
    export_sql="SELECT s.ref, s.name, s.level, ST_AsText(s.gates) AS gates, s.geom FROM school s WHERE "
               + by_geometry("s.geom") + " ORDER BY s.ref, s.id",
)

_LICENCE_FIELDS = (
    Field("licence_kind", aliases=("证照类型", "许可证类型")),
    Field("licence_number", aliases=("证照编号", "许可证号")),
    Field("licence_valid_until", kind="date", aliases=("有效期至", "证照有效期")),
    Field("licence_displayed", kind="bool", aliases=("亮证", "是否亮证")),
)

PLACES = LayerSpec(
    name="places", table="place", geometry="point",
    description="Places (经营场所): name, category, address, entrance point; optionally one licence",
    fields=(
        Field("name", required=True, aliases=("店名", "名称", "场所名称")),
        # The categories are data (place_category): a province adds its own with `gridmap rules add`.
        replace(_coded("category", PLACE_CATEGORIES, _CATEGORY_NAMES, aliases=("类别", "行业", "业态")),
                vocabulary_sql="SELECT code, name_zh FROM place_category ORDER BY code"),
        Field("address", aliases=("地址",)),
        *_LICENCE_FIELDS,
    ),
    # Identities are drawn first so that the licences can be written in the same statement.
    insert_sql="""
        WITH s AS (SELECT s.*, nextval(pg_get_serial_sequence('place', 'id')) AS id FROM staging s),
        p AS (INSERT INTO place (id, ref, name, category, address, geom) OVERRIDING SYSTEM VALUE
              SELECT id, ref, name, category, address, geom FROM s ORDER BY row_no)
        INSERT INTO licence (place_id, kind, number, valid_until, displayed)
        SELECT id, coalesce(licence_kind, 'business'), licence_number, licence_valid_until,
               coalesce(licence_displayed, false)
        FROM s
        WHERE licence_kind IS NOT NULL OR licence_number IS NOT NULL OR licence_valid_until IS NOT NULL""",
    export_sql="SELECT p.ref, p.name, p.category, p.address, p.geom FROM place p WHERE "
               + by_geometry("p.geom") + " ORDER BY p.ref, p.id",
)

LICENCES = LayerSpec(
    name="licences", table="licence", geometry=None,
    description="Licences (证照) of places: place ref, kind, number, valid until, displayed (亮证)",
    fields=(
        Field("place_ref", required=True, aliases=("place", "场所编号")),
        Field("kind", required=True, aliases=("证照类型", "类型")),
        Field("number", aliases=("证照编号", "编号")),
        Field("valid_until", kind="date", aliases=("有效期至", "有效期")),
        Field("displayed", kind="bool", aliases=("亮证", "是否亮证")),
    ),
    check_sql="""
        SELECT s.row_no, 'place_ref', 'place ' || s.place_ref || ' is not stored'
        FROM staging s WHERE NOT EXISTS (SELECT 1 FROM place p WHERE p.ref = s.place_ref)
        ORDER BY 1""",
    insert_sql="""
        INSERT INTO licence (place_id, kind, number, valid_until, displayed)
        SELECT p.id, s.kind, s.number, s.valid_until, coalesce(s.displayed, false)
        FROM staging s JOIN place p ON p.ref = s.place_ref ORDER BY s.row_no""",
    export_sql="""
        SELECT p.ref AS place_ref, l.kind, l.number, l.valid_until, l.displayed
        FROM licence l JOIN place p ON p.id = l.place_id ORDER BY p.ref, l.id""",
)

PERIMETER_LAYERS: dict[str, LayerSpec] = {s.name: s for s in (SCHOOLS, PLACES, LICENCES)}
