"""What an export says its coordinates are, as GDAL and spreadsheet readers see it: Gauss-Krüger tables
name their columns x/y, GCJ-02 tables lon_gcj02/lat_gcj02, and no GCJ-02 file is read as WGS 84."""

from __future__ import annotations

import csv
import io
import subprocess

import numpy as np
import openpyxl
import pyogrio
import pytest
from pyproj import CRS, Transformer

from gis.catalog import LAYERS, export_layer, import_file, load_frame
from gis.crs import wgs84_to_gcj02
from gis.interop.exporting import layer_frame


def _stored(conn) -> dict[str, tuple[float, float]]:
    return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT ref, ST_X(geom), ST_Y(geom) FROM household")}


def _csv_rows(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _xlsx_rows(path) -> list[dict[str, object]]:
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_gk3_tables_name_their_columns_x_y(source, tmp_path, ext):
    path = tmp_path / f"households.{ext}"
    export_layer(source, "households", path, crs="gk3")
    rows = _csv_rows(path) if ext == "csv" else _xlsx_rows(path)
    assert {"x", "y"} <= rows[0].keys() and not {"lon", "lat"} & rows[0].keys()
    stored = _stored(source)
    to_gk = Transformer.from_crs(4326, 4526, always_xy=True)  # zone 38 (114°E) for Chenzhou
    for row in rows:
        x, y = to_gk.transform(*stored[row["ref"]])
        assert abs(float(row["x"]) - x) < 0.001 and abs(float(row["y"]) - y) < 0.001


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_gcj02_tables_say_gcj02_and_come_back(source, target, tmp_path, ext):
    path = tmp_path / f"households.{ext}"
    export_layer(source, "households", path, crs="gcj02")
    rows = _csv_rows(path) if ext == "csv" else _xlsx_rows(path)
    assert {"lon_gcj02", "lat_gcj02"} <= rows[0].keys() and not {"lon", "lat"} & rows[0].keys()
    stored = _stored(source)
    for row in rows:
        glon, glat = wgs84_to_gcj02(np.array([stored[row["ref"]][0]]), np.array([stored[row["ref"]][1]]))
        assert abs(float(row["lon_gcj02"]) - glon[0]) < 1e-9 and abs(float(row["lat_gcj02"]) - glat[0]) < 1e-9
    for needed in ("communities", "grids"):
        load_frame(target, needed, layer_frame(source, LAYERS[needed]))
    import_file(target, "households", path)  # no --crs: the columns say GCJ-02
    back = _stored(target)
    worst = max(np.hypot(back[r][0] - stored[r][0], back[r][1] - stored[r][1]) for r in stored)
    assert worst < 1e-7  # ~1 cm


def test_gcj02_table_with_a_contradicting_crs_is_refused(source, target, tmp_path):
    from gis.errors import InvalidInput

    path = tmp_path / "households.csv"
    export_layer(source, "households", path, crs="gcj02")
    with pytest.raises(InvalidInput) as caught:
        import_file(target, "households", path, crs="EPSG:4326")
    assert caught.value.problems[0].field == "crs"


def _ogrinfo_srs(path) -> str:
    result = subprocess.run(["ogrinfo", "-so", "-al", str(path)], capture_output=True, text=True, check=True)
    return result.stdout


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "zip"])
def test_gcj02_files_are_not_read_as_wgs84(source, target, tmp_path, ext):
    path = tmp_path / f"households.{ext}"
    export_layer(source, "households", path, crs="gcj02")
    opened = f"/vsizip/{path}" if ext == "zip" else str(path)
    declared = pyogrio.read_info(opened)["crs"]  # GDAL 3.12 through pyogrio
    assert declared is not None and CRS(declared).to_epsg() is None
    assert "GCJ-02" in CRS(declared).name and not CRS(declared).is_geographic
    shown = _ogrinfo_srs(opened)  # the system's GDAL (3.6), as a desktop GIS would read it
    srs = shown.split("Layer SRS WKT")[1]
    assert "GCJ-02" in srs and 'GEOGCRS["WGS 84"' not in srs and "EPSG" not in srs
    for needed in ("communities", "grids"):
        load_frame(target, needed, layer_frame(source, LAYERS[needed]))
    import_file(target, "households", path)  # no --crs: the declared CRS says GCJ-02
    before, after = _stored(source), _stored(target)
    assert max(np.hypot(after[r][0] - before[r][0], after[r][1] - before[r][1]) for r in before) < 1e-7


def test_wgs84_files_still_say_wgs84(source, tmp_path):
    for ext in ("geojson", "gpkg"):
        path = tmp_path / f"households.{ext}"
        export_layer(source, "households", path)
        assert pyogrio.read_info(path)["crs"] == "EPSG:4326"
    assert "GCJ" not in (tmp_path / "households.geojson").read_text(encoding="utf-8")
    assert {"lon", "lat"} <= _csv_rows(_exported(source, tmp_path / "households.csv"))[0].keys()


def _exported(source, path):
    export_layer(source, "households", path)
    return path
