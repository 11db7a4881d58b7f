"""Bad input to the perimeter layers: each problem reported with its row; nothing half-imported."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis.catalog import load_frame
from gis.errors import InvalidInput
from tests.perimeter.conftest import CHENZHOU, campus, offset

LON, LAT = CHENZHOU


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names


def _problems(exc: pytest.ExceptionInfo[InvalidInput]) -> set[tuple[int | None, str]]:
    return {(p.row, p.field) for p in exc.value.problems}


def test_schools_invalid_polygon_and_line(conn):
    bowtie = shapely.Polygon([(LON, LAT), (LON + 0.002, LAT + 0.002), (LON + 0.002, LAT), (LON, LAT + 0.002)])
    frame = gpd.GeoDataFrame(
        {"id": ["S1", "S2", "S3", "S4"], "name": ["ok", "bowtie", "line", "bad level"],
         "level": ["小学", "primary", "middle", "university"]},
        geometry=[campus(LON, LAT), bowtie, shapely.LineString([(LON, LAT), (LON + 0.01, LAT)]),
                  campus(LON + 0.05, LAT)], crs="EPSG:4326")
    with pytest.raises(InvalidInput) as exc:
        load_frame(conn, "schools", frame)
    assert _problems(exc) >= {(2, "geometry"), (4, "level")}
    assert any("Self-intersection" in p.reason for p in exc.value.problems if p.row == 2)
    assert _count(conn, "school") == 0


def test_schools_with_gates(conn):
    poly = campus(LON, LAT)
    gate = offset(LON, poly.bounds[3], 0, 0)
    frame = gpd.GeoDataFrame({"id": ["S1", "S2"], "name": ["a", "b"], "level": ["primary", "primary"],
                              "gates": [f"{gate[0]},{gate[1]}", f"{gate[1]},{gate[0]}"]},
                             geometry=[poly, campus(LON + 0.05, LAT)], crs="EPSG:4326")
    with pytest.raises(InvalidInput) as exc:  # the second school's gate has lat/lon swapped
        load_frame(conn, "schools", frame)
    assert _problems(exc) == {(2, "gates")} and "m from the campus" in exc.value.problems[0].reason
    load_frame(conn, "schools", frame.iloc[:1])
    assert conn.execute("SELECT ST_NumGeometries(gates) FROM school WHERE ref = 'S1'").fetchone()[0] == 1


def test_places_category_dates_and_swapped_coordinates(conn):
    frame = pd.DataFrame({
        "id": ["P1", "P2", "P3", "P4", "P5", "P6"],
        "name": ["ok", "no category", "casino", "bad date", "swapped", "网吧 by its Chinese name"],
        "category": ["food_shop", None, "casino", "food_shop", "bar", "网吧"],
        "lon": [LON, LON, LON, LON, LAT, LON],
        "lat": [LAT, LAT, LAT, LAT, LON, LAT],
        "licence_valid_until": ["2026-12-31", None, None, "31/12/2026", None, None],
    })
    with pytest.raises(InvalidInput) as exc:
        load_frame(conn, "places", frame)
    assert _problems(exc) == {(2, "category"), (3, "category"), (4, "licence_valid_until"), (5, "geometry")}
    reasons = {p.row: p.reason for p in exc.value.problems}
    assert "swapped" in reasons[5] and "casino" in reasons[3] and "required" in reasons[2]
    assert _count(conn, "place") == 0 and _count(conn, "licence") == 0
    load_frame(conn, "places", frame.iloc[[0, 5]])
    assert dict(conn.execute("SELECT ref, category FROM place").fetchall()) == {"P1": "food_shop",
                                                                                 "P6": "internet_cafe"}
    assert _count(conn, "licence") == 1


def test_licences_unknown_place_and_bad_date(conn):
    load_frame(conn, "places", pd.DataFrame({"id": ["P1"], "name": ["a"], "category": ["food_shop"],
                                             "lon": [LON], "lat": [LAT]}))
    frame = pd.DataFrame({"place_ref": ["P1", "P9", "P1"], "kind": ["食品经营许可证"] * 3,
                          "valid_until": ["2027-01-01", "2027-01-01", "2027-02-30"],
                          "displayed": ["是", "否", "1"]})
    with pytest.raises(InvalidInput) as exc:
        load_frame(conn, "licences", frame)
    assert _problems(exc) == {(3, "valid_until")}  # Python checks first; the unknown place is for SQL
    with pytest.raises(InvalidInput) as exc:
        load_frame(conn, "licences", frame.iloc[:2])
    assert _problems(exc) == {(2, "place_ref")}
    assert _count(conn, "licence") == 0
