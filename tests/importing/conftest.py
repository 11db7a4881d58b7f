"""Fixtures for import/export tests: a small division (one community, 2x2 grids) and a clean database."""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pyogrio
import pytest
import shapely
from psycopg import sql
from shapely.geometry import box

from gis.catalog import load_frame
from gis.migrate import migrate
from tests.conftest import own_database

# A database of this folder's own: the HTTP and CLI imports commit.
database_url, settings, admin_token = own_database("gridmap_importing")

COMMUNITY = "431002001001"
WEST, SOUTH, EAST, NORTH = 113.00, 25.78, 113.02, 25.80
MID_LON, MID_LAT = 113.01, 25.79
GRIDS = {  # code -> box
    COMMUNITY + "001": (WEST, MID_LAT, MID_LON, NORTH),
    COMMUNITY + "002": (MID_LON, MID_LAT, EAST, NORTH),
    COMMUNITY + "003": (WEST, SOUTH, MID_LON, MID_LAT),
    COMMUNITY + "004": (MID_LON, SOUTH, EAST, MID_LAT),
}


def community_frame() -> gpd.GeoDataFrame:
    attributes = {"ref": ["c1"], "code": [COMMUNITY], "name": ["北湖社区"], "street_name": ["人民路街道"]}
    return gpd.GeoDataFrame(attributes, geometry=[box(WEST, SOUTH, EAST, NORTH)], crs=4326)


def grid_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"ref": [f"g{i}" for i in range(1, 5)], "code": list(GRIDS),
                             "name": [f"第{i}网格" for i in range(1, 5)]},
                            geometry=[box(*b) for b in GRIDS.values()], crs=4326)


def load_division(conn: psycopg.Connection) -> None:
    load_frame(conn, "communities", community_frame())
    load_frame(conn, "grids", grid_frame())


@pytest.fixture
def division(conn: psycopg.Connection) -> psycopg.Connection:
    """``conn`` with one community of four grids loaded (rolled back after the test)."""
    load_division(conn)
    return conn


@pytest.fixture
def clean_db(server_conninfo: str) -> Iterator[str]:
    """A second, empty migrated database: the target of round trips."""
    name = f"gridmap_clean_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(server_conninfo, dbname=name)
    with psycopg.connect(url) as c:
        migrate(c)
    yield url
    with psycopg.connect(server_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- files in every format ---------------------------------------------------------------------


def write(frame: pd.DataFrame, path: Path, *, encoding: str = "utf-8") -> Path:
    """Write ``frame`` as the format ``path``'s extension names (tables get lon/lat columns)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx"):
        table = pd.DataFrame(frame.drop(columns="geometry")) if "geometry" in frame else frame
        if isinstance(frame, gpd.GeoDataFrame):
            table["lon"], table["lat"] = frame.geometry.x, frame.geometry.y
        if suffix == ".csv":
            path.write_bytes(table.to_csv(index=False).encode(encoding))
        else:
            table.to_excel(path, index=False)
    elif suffix == ".zip":
        folder = path.with_suffix("")
        folder.mkdir()
        pyogrio.write_dataframe(frame, folder / "layer.shp", encoding=encoding)
        with zipfile.ZipFile(path, "w") as archive:
            for part in folder.iterdir():
                archive.write(part, part.name)
    else:
        pyogrio.write_dataframe(frame, path)
    return path


def households(points: list[tuple[float, float]], prefix: str = "h") -> gpd.GeoDataFrame:
    n = len(points)
    return gpd.GeoDataFrame(
        {"ref": [f"{prefix}{i}" for i in range(1, n + 1)],
         "address": [f"人民路{i}号" for i in range(1, n + 1)],
         "building": [f"{i}栋" for i in range(1, n + 1)], "unit": ["1"] * n, "room": ["101"] * n},
        geometry=shapely.points(points), crs=4326)


def stored_households(conn: psycopg.Connection) -> dict[str, tuple]:
    rows = conn.execute("SELECT ref, address, grid_code, placement::text, ST_X(geom), ST_Y(geom) "
                        "FROM household").fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """write_file(frame, "name.ext", encoding=...) -> the path of a real file in tmp_path."""
    return lambda frame, name, **kw: write(frame, tmp_path / name, **kw)


@pytest.fixture
def make_households() -> Callable[..., gpd.GeoDataFrame]:
    """make_households([(lon, lat), ...], prefix="h") -> households h1, h2, ... with addresses."""
    return households


@pytest.fixture
def stored() -> Callable[[psycopg.Connection], dict[str, tuple]]:
    """stored(conn) -> {ref: (address, grid_code, placement, lon, lat)} of the stored households."""
    return stored_households


@pytest.fixture
def division_frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(communities, grids) frames of the test division, not loaded."""
    return community_frame(), grid_frame()
