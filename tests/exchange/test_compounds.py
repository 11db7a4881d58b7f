"""Unmanaged compounds (无人管理小区) out and back in, through the layer importer: the export (GeoJSON,
CSV with WKT, XLSX) imports into a cleared area as the same compounds, compared field by field with
what the database held; Shapefile and GeoPackage files import; an invalid polygon is named by row and
field and nothing is written; the export carries the helper of the day and the task counts."""

from __future__ import annotations

import io
import subprocess
import zipfile

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely

from gis.compounds.exchange import COLUMNS

IMPORT = "/imports/campaign/compounds"
EXPORT = "/exports/campaign/compounds"


@pytest.fixture
def planner(campaign) -> dict:
    return {"Authorization": f"Bearer {campaign['tokens']['planner']}"}


def stored(conn, tag: str) -> list[tuple]:
    return conn.execute("SELECT ref, name, management, households, note, ST_AsText(geom) FROM compound"
                        " WHERE ref LIKE %s ORDER BY ref", [f"{tag}%"]).fetchall()


def same(before: list[tuple], after: list[tuple]) -> None:
    assert len(after) == len(before) > 0
    for old, new in zip(before, after, strict=True):
        assert new[:5] == old[:5]
        assert shapely.equals_exact(shapely.from_wkt(new[5]), shapely.from_wkt(old[5]), tolerance=1e-9)


@pytest.fixture
def compounds(campaign, owner) -> str:
    """Three compounds of the test's own in the campaign world's community (refs tagged), one with a
    hole, one a MultiPolygon, one without management or households."""
    tag = f"{campaign['tag']}-x"
    owner.execute("DELETE FROM compound WHERE ref LIKE %s", [f"{tag}%"])
    x, y = 113.2 + 0.002, 25.9 + 0.002
    owner.execute(
        "INSERT INTO compound (ref, name, management, households, note, geom) VALUES"
        " (%(t)s || '1', '幸福小区', 'abandoned', 120, '弃管多年', ST_Multi(ST_Difference("
        "   ST_MakeEnvelope(%(x)s, %(y)s, %(x)s + 0.001, %(y)s + 0.001, 4326),"
        "   ST_MakeEnvelope(%(x)s + 0.0004, %(y)s + 0.0004, %(x)s + 0.0006, %(y)s + 0.0006, 4326)))),"
        " (%(t)s || '2', '=和平里', 'self', NULL, NULL, ST_Collect("
        "   ST_MakeEnvelope(%(x)s + 0.002, %(y)s, %(x)s + 0.0025, %(y)s + 0.0005, 4326),"
        "   ST_MakeEnvelope(%(x)s + 0.003, %(y)s, %(x)s + 0.0035, %(y)s + 0.0005, 4326))),"
        " (%(t)s || '3', '老街院', 'none', NULL, NULL,"
        "   ST_Multi(ST_MakeEnvelope(%(x)s + 0.004, %(y)s, %(x)s + 0.0047, %(y)s + 0.0003, 4326)))",
        {"t": tag, "x": x, "y": y})
    return tag


@pytest.mark.parametrize("fmt", ["geojson", "csv", "xlsx"])
def test_export_imports_back_as_the_same_compounds(api, planner, compounds, owner, campaign, fmt) -> None:
    before = stored(owner, compounds)
    r = api.get(EXPORT, params={"area": campaign["community"], "format": fmt}, headers=planner)
    assert r.status_code == 200, r.text
    owner.execute("DELETE FROM compound WHERE ref LIKE %s", [f"{compounds}%"])
    r = api.post(IMPORT, files={"file": (f"compounds.{fmt}", r.content)}, headers=planner)
    assert r.status_code == 200, r.text
    assert r.json()["rows"] >= 3
    same(before, stored(owner, compounds))
    # readable back by the JSON route
    listed = api.get("/compounds", params={"area": campaign["community"]}, headers=planner).json()
    assert {c["ref"] for c in listed} >= {row[0] for row in before}


@pytest.mark.parametrize("suffix", ["zip", "gpkg"])
def test_shapefile_and_geopackage_import(api, planner, campaign, owner, tmp_path, suffix) -> None:
    tag = f"{campaign['tag']}-{suffix}"
    owner.execute("DELETE FROM compound WHERE ref LIKE %s", [f"{tag}%"])
    frame = gpd.GeoDataFrame(
        # GIS files name their fields in English (dBASE keeps 10 bytes); the values are Chinese
        {"ref": [f"{tag}-1", f"{tag}-2"], "name": ["东苑", "西苑"], "management": ["无物业", "弃管"],
         "households": [30, 45]},
        geometry=[shapely.box(113.21, 25.905, 113.211, 25.906),
                  shapely.box(113.212, 25.905, 113.213, 25.906)],
        crs="EPSG:4490")
    if suffix == "gpkg":
        path = tmp_path / "c.gpkg"
        pyogrio.write_dataframe(frame, path, driver="GPKG")
    else:
        pyogrio.write_dataframe(frame, tmp_path / "c.shp", driver="ESRI Shapefile", encoding="UTF-8")
        path = tmp_path / "c.zip"
        with zipfile.ZipFile(path, "w") as z:
            for part in tmp_path.glob("c.*"):
                if part.suffix != ".zip":
                    z.write(part, part.name)
    r = api.post(IMPORT, files={"file": (path.name, path.read_bytes())}, headers=planner)
    assert r.status_code == 200, r.text
    rows = stored(owner, tag)
    assert [(x[0], x[1], x[2], x[3]) for x in rows] == [(f"{tag}-1", "东苑", "none", 30),
                                                        (f"{tag}-2", "西苑", "abandoned", 45)]


def test_an_invalid_polygon_names_row_and_field_and_writes_nothing(api, planner, campaign, owner) -> None:
    tag = f"{campaign['tag']}-bad"
    before = owner.execute("SELECT count(*) FROM compound").fetchone()[0]
    text = ("编号,名称,管理方式,户数,wkt\n"
            f"{tag}-1,好小区,无物业,10,\"POLYGON((113.21 25.905,113.211 25.905,113.211 25.906,113.21 25.906,"
            "113.21 25.905))\"\n"
            f"{tag}-2,蝴蝶结,无物业,10,\"POLYGON((113.21 25.905,113.211 25.906,113.211 25.905,113.21 25.906,"
            "113.21 25.905))\"\n"
            f"{tag}-3,负户数,无物业,-3,"
            "\"POLYGON((113.22 25.905,113.221 25.905,113.221 25.906,113.22 25.905))\"\n"
            f"bad ref!,坏编号,随便,1,\"POINT(113.21 25.905)\"\n")
    r = api.post(IMPORT, files={"file": ("bad.csv", text.encode())}, headers=planner)
    assert r.status_code == 422, r.text
    errors = {(e["row"], e["field"]): e["reason"] for e in r.json()["errors"]}
    assert "Self-intersection" in errors[(2, "geometry")]
    assert (4, "management") in errors and (4, "geometry") in errors
    assert owner.execute("SELECT count(*) FROM compound").fetchone()[0] == before
    # once the values are typed, the database's checks: the ref's form and a negative count
    text = text.replace("蝴蝶结,无物业,10,\"POLYGON((113.21 25.905,113.211 25.906,113.211 25.905,",
                        "蝴蝶结,无物业,10,\"POLYGON((113.21 25.905,113.211 25.905,113.211 25.906,")
    text = text.replace("随便,1,\"POINT(113.21 25.905)\"", "无物业,1,\"POLYGON((113.23 25.905,113.231 25.905,"
                        "113.231 25.906,113.23 25.905))\"")
    r = api.post(IMPORT, files={"file": ("bad.csv", text.encode())}, headers=planner)
    assert r.status_code == 422, r.text
    errors = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert {(3, "households"), (4, "ref")} <= errors
    assert owner.execute("SELECT count(*) FROM compound").fetchone()[0] == before


def test_the_export_has_the_helper_and_task_counts(api, planner, compounds, campaign, owner,
                                                   tmp_path) -> None:
    unit = campaign["units"]["a"]
    cid = owner.execute("SELECT id FROM compound WHERE ref = %s", [f"{compounds}1"]).fetchone()[0]
    owner.execute("INSERT INTO compound_helper (compound_id, unit_id, valid) VALUES"
                  " (%s, %s, daterange(current_date - 10, NULL))", [cid, unit])
    owner.execute("INSERT INTO compound_task (compound_id, unit_id, kind, title, done_on, recorder) VALUES"
                  " (%(c)s, %(u)s, 'greening', '补种', current_date - 2, 'x'),"
                  " (%(c)s, %(u)s, 'greening', '修剪', current_date - 1, 'x'),"
                  " (%(c)s, %(u)s, 'lighting', '路灯', current_date - 1, 'x')", {"c": cid, "u": unit})
    r = api.get(EXPORT, params={"area": campaign["community"], "format": "xlsx"}, headers=planner)
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers == [*COLUMNS.values(), "wkt"]
    rows = {row[0]: dict(zip(headers, row, strict=True))
            for row in sheet.iter_rows(min_row=2, values_only=True)}
    helped = rows[f"{compounds}1"]
    assert helped["帮扶单位"] == f"{campaign['tag']} unit a"
    assert (helped["任务数"], helped["绿化"], helped["亮化"], helped["美化"]) == (3, 2, 1, 0)
    assert rows[f"{compounds}2"]["帮扶单位"] is None and rows[f"{compounds}2"]["任务数"] == 0
    assert sheet.cell(row=2 + list(rows).index(f"{compounds}2"), column=2).data_type == "s"  # =和平里
    # CSV: the BOM; GeoJSON: GDAL reads the polygons
    csv = api.get(EXPORT, params={"area": campaign["community"], "format": "csv"}, headers=planner).content
    assert csv.startswith(b"\xef\xbb\xbf") and "帮扶单位" in csv.decode("utf-8-sig").splitlines()[0]
    path = tmp_path / "c.geojson"
    path.write_bytes(api.get(EXPORT, params={"area": campaign["community"], "format": "geojson"},
                             headers=planner).content)
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(path)], capture_output=True, text=True,
                         check=True).stdout
    assert "Polygon" in out and "Feature Count:" in out


def test_who_imports_and_exports_compounds(api, campaign, owner) -> None:
    bearer = lambda name: {"Authorization": f"Bearer {campaign['tokens'][name]}"}  # noqa: E731
    text = (f"编号,名称,wkt\n{campaign['tag']}-v1,x,"
            "\"POLYGON((113.21 25.905,113.211 25.905,113.211 25.906,113.21 25.905))\"\n")
    for name in ("viewer", "unit_a", "inspector"):
        r = api.post(IMPORT, files={"file": ("c.csv", text.encode())}, headers=bearer(name))
        assert r.status_code == 403, (name, r.status_code)
    assert api.get(EXPORT, headers=bearer("inspector")).status_code == 403
    assert api.get(EXPORT, headers=bearer("unit_a")).status_code == 200


def test_the_overlaps_the_new_compounds_make_are_reported(api, planner, campaign, owner) -> None:
    tag = f"{campaign['tag']}-ov"
    owner.execute("DELETE FROM compound WHERE ref LIKE %s", [f"{tag}%"])
    square = "POLYGON(({x0} 25.907,{x1} 25.907,{x1} 25.908,{x0} 25.908,{x0} 25.907))"
    text = ("编号,名称,wkt\n"
            f"{tag}-1,甲,\"{square.format(x0=113.215, x1=113.216)}\"\n"
            f"{tag}-2,乙,\"{square.format(x0=113.2155, x1=113.2165)}\"\n")
    r = api.post(IMPORT, files={"file": ("ov.csv", text.encode())}, headers=planner)
    assert r.status_code == 200, r.text
    pairs = r.json()["overlaps"]
    assert [(p["name"], p["other_name"]) for p in pairs] == [("甲", "乙")] and pairs[0]["overlap_m2"] > 1000
    # a second import overlapping them: its own pairs, both
    text = f"编号,名称,wkt\n{tag}-3,丙,\"{square.format(x0=113.2158, x1=113.2168)}\"\n"
    pairs = api.post(IMPORT, files={"file": ("ov.csv", text.encode())}, headers=planner).json()["overlaps"]
    assert sorted((p["name"], p["other_name"]) for p in pairs) == [("乙", "丙"), ("甲", "丙")]
