"""Fixtures of the format round trips: a source database holding rows in every importable layer
(loaded through the importer, committed once per module) and an empty target database."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import shapely
from shapely.geometry import box

from gis.catalog import load_frame
from gis.codes import id_number_check_digit

COMMUNITY = "431002001001"
WEST, SOUTH, EAST, NORTH = 113.00, 25.78, 113.02, 25.80
MID_LON, MID_LAT = 113.01, 25.79
GRIDS = {COMMUNITY + "001": (WEST, MID_LAT, MID_LON, NORTH),
         COMMUNITY + "002": (MID_LON, MID_LAT, EAST, NORTH),
         COMMUNITY + "003": (WEST, SOUTH, MID_LON, MID_LAT),
         COMMUNITY + "004": (MID_LON, SOUTH, EAST, MID_LAT)}
# Digits a float carries well past the 7th decimal: a format that rounds would show it.
ODD = 0.000123456789


def _id(first17: str) -> str:
    return first17 + id_number_check_digit(first17)


def _frames() -> dict[str, pd.DataFrame]:
    """Rows for every layer, in load order, with Chinese text, quotes, commas, empty values, dates and
    flags; buildings and schools mix polygons and points (as real files do)."""
    n = 12
    rng = pd.Series(range(n))
    points = shapely.points(113.0003 + rng * 0.0013 + ODD, 25.7803 + rng * 0.0012 + ODD)
    return {
        "communities": gpd.GeoDataFrame(
            {"ref": ["c1"], "code": [COMMUNITY], "name": ["北湖社区"], "street_name": ["人民路街道"]},
            geometry=[box(WEST, SOUTH, EAST, NORTH)], crs=4326),
        "grids": gpd.GeoDataFrame(
            {"ref": [f"g{i}" for i in range(1, 5)], "code": list(GRIDS),
             "name": [f"第{i}网格" for i in range(1, 5)]},
            geometry=[box(*b) for b in GRIDS.values()], crs=4326),
        "grid_workers": pd.DataFrame({
            "ref": ["w1", "w2"], "name": ["王五", "赵六"], "phone": ["13800138000", None],
            "grid_codes": [f"{COMMUNITY}001;{COMMUNITY}002", f"{COMMUNITY}004"]}),
        "buildings": gpd.GeoDataFrame(
            {"ref": ["b1", "b2", "b3"], "name": ["1栋", "2栋", "3栋 (点)"], "floors": [6, None, 2]},
            geometry=[box(113.0011, 25.7811, 113.0023456789, 25.7822),
                      shapely.Polygon([(113.0151, 25.7951), (113.0162, 25.7951), (113.0162 + ODD, 25.7962),
                                       (113.0151, 25.7962)]),
                      shapely.Point(113.005 + ODD, 25.795 + ODD)], crs=4326),
        "households": gpd.GeoDataFrame(
            {"ref": [f"h{i}" for i in rng], "address": [f"人民路{i}号, \"东\"门" for i in rng],
             "building": [f"{i % 3}栋" if i % 4 else None for i in rng], "unit": ["1"] * n,
             "room": [f"{100 + i}" for i in rng]}, geometry=points, crs=4326),
        "persons": pd.DataFrame({
            "ref": ["p1", "p2", "p3"], "household_ref": ["h1", "h1", "h11"], "name": ["张三", "李梅", "王小"],
            "id_number": [_id("43100219800102001"), _id("43100219850607002"), None],
            "phone": ["13912345678", None, "0735-2222222"], "relation": ["head", "spouse", "other"],
            "residence": ["registered", "floating", "registered"], "employment": ["retired", None, "student"],
            "poverty": ["dibao", None, None], "key_person": [None, "released_prisoner", None],
            "elderly_alone": ["true", "false", "false"], "disabled": ["0", "1", "0"],
            "activist": ["是", "否", "否"], "volunteer": [None, "yes", None],
            "birth_date": [None, None, "2010-03-04"]}),
        "schools": gpd.GeoDataFrame(
            {"ref": ["s1", "s2"], "name": ["北湖小学", "人民中学"], "level": ["primary", "middle"],
             "gates": ["113.0045,25.7830; 113.0055,25.7829", None]},
            geometry=[box(113.004, 25.781, 113.006, 25.7829), shapely.Point(113.015, 25.785)], crs=4326),
        "places": gpd.GeoDataFrame(
            {"ref": ["pl1", "pl2", "pl3"], "name": ["星空网吧", "好又多超市", "新华书店"],
             "category": ["internet_cafe", "small_shop", "publication_shop"],
             "address": ["人民路1号", None, "人民路3号, 一楼"]},
            geometry=shapely.points([(113.0048, 25.7835), (113.0101 + ODD, 25.7901), (113.015, 25.786)]),
            crs=4326),
        "licences": pd.DataFrame({
            "place_ref": ["pl1", "pl1", "pl3"], "kind": ["business", "internet_cafe", "publication"],
            "number": ["91431000MA4L", None, "新出发湘字001号"],
            "valid_until": ["2027-06-30", None, "2026-01-01"],
            "displayed": ["true", "false", None]}),
        "roads": gpd.GeoDataFrame(
            {"ref": ["R001", "R002"], "name": ["人民路", "北湖街"]},
            geometry=[shapely.LineString([(113.0, 25.7905), (113.01, 25.7906 + ODD), (113.02, 25.7905)]),
                      shapely.LineString([(113.0105, 25.78), (113.0105, 25.80)])], crs=4326),
        "units": pd.DataFrame({
            "ref": ["u1", "u2"], "name": ["苏仙区城管局", "北湖小学"], "kind": [None, None],
            "contact": ["刘强", None], "phone": ["0735-1234567", None]}),
        # the campaign's layers (issue 16): 阵地 owned by the community or a unit, 无人管理小区 polygons
        "facilities": gpd.GeoDataFrame(
            {"kind": ["moral_lecture_hall", "volunteer_station", "civic_school"],
             "name": ["北湖社区道德讲堂", "志愿服务站, \"一楼\"", "市民学校"],
             "address": ["人民路1号", None, "北湖街2号"],
             "owner_community": [COMMUNITY, COMMUNITY, None], "owner_unit": [None, None, "苏仙区城管局"],
             "community": [COMMUNITY, None, None], "active": ["true", "true", "false"]},
            geometry=shapely.points([(113.0021, 25.7841), (113.0121 + ODD, 25.7951), (113.017, 25.782)]),
            crs=4326),
        "compounds": gpd.GeoDataFrame(
            {"ref": ["k1", "k2"], "name": ["北湖小区", "人民路3号院"], "management": ["none", "self"],
             "households": [120, None], "note": [None, "老旧, \"无\"物业"]},
            geometry=[box(113.0012, 25.7812, 113.0031 + ODD, 25.7829),
                      shapely.Polygon([(113.0131, 25.7931), (113.0152, 25.7931), (113.0152, 25.7952 + ODD),
                                       (113.0131, 25.7952)])], crs=4326),
    }


LOAD_ORDER = list(_frames())
# What must be stored before a layer can be imported (its references).
NEEDS = {"grids": ["communities"], "grid_workers": ["communities", "grids"],
         "buildings": ["communities", "grids"], "households": ["communities", "grids"],
         "persons": ["communities", "grids", "households"], "licences": ["places"],
         "facilities": ["communities", "units"], "compounds": ["communities"]}


@pytest.fixture(scope="module")
def source_url(fresh_database) -> Iterator[str]:
    """A database with the rows of _frames() in every layer, loaded through the importer."""
    url = fresh_database("gridmap_formats_src")
    with psycopg.connect(url) as conn:
        for layer, frame in _frames().items():
            load_frame(conn, layer, frame)
        conn.commit()
    yield url


@pytest.fixture(scope="module")
def target_url(fresh_database) -> Iterator[str]:
    """An empty migrated database; each test works in a transaction that is rolled back."""
    url = fresh_database("gridmap_formats_dst")
    yield url


@pytest.fixture
def source(source_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(source_url) as c:
        c.execute("SET jit = off")  # opens the transaction: the importer's own becomes a savepoint
        yield c
        c.rollback()


@pytest.fixture
def target(target_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(target_url) as c:
        c.execute("SET jit = off")
        yield c
        c.rollback()


@pytest.fixture(scope="session")
def layer_needs() -> dict[str, list[str]]:
    """Every layer with fixture rows -> the layers it refers to (to load first)."""
    return {layer: NEEDS.get(layer, []) for layer in LOAD_ORDER}
