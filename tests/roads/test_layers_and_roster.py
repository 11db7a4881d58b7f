"""Importing roads and units through the importer; the duty roster as XLSX."""

from __future__ import annotations

import json
from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from gis.catalog import import_file
from gis.errors import InvalidInput
from gis.roads.assignments import assign_section
from gis.roads.cutting import cut_roads
from gis.roads.roster import roster_workbook
from tests.roads.conftest import add_unit, section_id


def _geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": {"type": "LineString", "coordinates": coords}}
        for props, coords in features]}, ensure_ascii=False), "utf-8")
    return path


def test_import_roads_geojson(conn, tmp_path):
    path = _geojson(tmp_path / "roads.geojson", [
        ({"ref": "G1", "路名": "迎宾路"}, [[111.70, 29.01], [111.72, 29.01]]),
        ({"ref": "G2", "路名": "滨湖路"}, [[111.71, 29.00], [111.71, 29.02]]),
    ])
    report = import_file(conn, "roads", path)
    assert report.rows == 2
    assert conn.execute("SELECT name FROM road WHERE ref = 'G1'").fetchone() == ("迎宾路",)
    assert cut_roads(conn, "intersections", roads=["G1", "G2"]).created == 4


def test_import_refuses_bad_lines_with_row_and_field(conn, tmp_path):
    # a line of one (repeated) point is refused by the importer's own geometry checks
    one_point = _geojson(tmp_path / "one_point.geojson", [
        ({"ref": "B1", "name": "好路"}, [[111.70, 29.01], [111.72, 29.01]]),
        ({"ref": "B3", "name": "一点路"}, [[111.70, 29.03], [111.70, 29.03]]),
    ])
    with pytest.raises(InvalidInput) as err:
        import_file(conn, "roads", one_point)
    assert [(p.row, p.field) for p in err.value.problems] == [(2, "geometry")]
    # a line running back over itself and a road without a code, by the layer's set-based checks
    path = _geojson(tmp_path / "bad.geojson", [
        ({"ref": "B1", "name": "好路"}, [[111.70, 29.01], [111.72, 29.01]]),
        ({"ref": "B2", "name": "回头路"}, [[111.70, 29.02], [111.72, 29.02], [111.71, 29.02]]),
        # crossing itself is fine (a loop road); only running back over itself is refused
        ({"ref": "B4", "name": "交叉环路"},
         [[111.70, 29.05], [111.72, 29.05], [111.71, 29.06], [111.71, 29.04]]),
        ({"ref": None, "name": "无编号路"}, [[111.70, 29.04], [111.71, 29.04]]),
    ])
    with pytest.raises(InvalidInput) as err:
        import_file(conn, "roads", path)
    assert [(p.row, p.field) for p in err.value.problems] == [(2, "geometry"), (4, "ref")]
    assert "overlaps itself" in err.value.problems[0].reason
    assert conn.execute("SELECT count(*) FROM road WHERE ref LIKE 'B%'").fetchone() == (0,)


def test_import_units_csv(conn, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("编号,单位名称,类型,联系人,电话\nU1,市城管局,机关,李四,0736-7221234\n"
                    "U2,第一中学,学校,王五,13800001111\n", "utf-8")
    assert import_file(conn, "units", path).rows == 2
    assert conn.execute("SELECT kind, contact FROM responsible_unit WHERE ref = 'U2'").fetchone() == (
        "school", "王五")
    bad = tmp_path / "bad_units.csv"
    bad.write_text("单位名称,类型,电话\n某单位,外星,12\n", "utf-8")
    with pytest.raises(InvalidInput) as err:
        import_file(conn, "units", bad)
    assert {p.field for p in err.value.problems} == {"kind", "phone"}


def test_roster_workbook(network):
    cut_roads(network, "intersections")
    unit = add_unit(network, "市城管局")
    assign_section(network, section_id(network, "R1-001"), unit, date(2026, 1, 1))
    assign_section(network, section_id(network, "R2-002"), unit, date(2026, 1, 1), date(2026, 12, 31),
                   duty_day=2)
    assign_section(network, section_id(network, "R3-001"), unit, date(2020, 1, 1), date(2020, 12, 31))
    book = load_workbook(BytesIO(roster_workbook(network, unit, date(2026, 6, 1))))
    sheet = book["值勤表 Roster"]
    assert "市城管局" in sheet["A1"].value
    assert sheet["A4"].value == "路段编号 Section" and sheet["I4"].value == "值勤日 Duty day"
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=5, max_row=6)]
    assert [r[0] for r in rows] == ["R2-002", "R1-001"]  # Tuesday first, then Friday; 2020 is past
    assert rows[1][8] == "星期五 Friday" and rows[1][10] == "长期 open"
    week = book["每周 Week"]
    assert week["E1"].value == "星期五 Friday" and week["E2"].value.startswith("R1-001")


def test_import_roads_gpkg_and_zipped_shapefile(conn, tmp_path):
    import zipfile

    import geopandas as gpd
    from shapely import LineString, MultiLineString

    frame = gpd.GeoDataFrame(
        {"ref": ["P1", "P2"], "name": ["光明路", "和平路"]},
        geometry=[LineString([(111.70, 29.06), (111.72, 29.06)]),
                  # two parts joining end to end: taken as one line
                  MultiLineString([[(111.71, 29.05), (111.71, 29.06)], [(111.71, 29.06), (111.71, 29.07)]])],
        crs="EPSG:4326")
    frame.to_file(tmp_path / "roads.gpkg", driver="GPKG")
    assert import_file(conn, "roads", tmp_path / "roads.gpkg").rows == 2
    assert conn.execute("SELECT GeometryType(geom), ST_NPoints(geom) FROM road WHERE ref = 'P2'"
                        ).fetchone() == ("LINESTRING", 3)
    frame.assign(ref=["Z1", "Z2"]).to_file(tmp_path / "roads.shp")
    with zipfile.ZipFile(tmp_path / "roads.zip", "w") as archive:
        for part in tmp_path.glob("roads.*"):
            if part.suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                archive.write(part, part.name)
    assert import_file(conn, "roads", tmp_path / "roads.zip").rows == 2
    assert cut_roads(conn, "intersections", roads=["Z1", "Z2"]).created == 4
