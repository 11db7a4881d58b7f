"""Facilities (阵地) and unmanaged compounds (无人管理小区) through the generic import machinery
(gis/catalog.py LAYERS): the CLI `gridmap import`, POST /imports/{layer} under its per-layer rule, the
workbench's import page; and the system an imported point came in kept as its position_crs."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from tests.exchange.test_facilities import wgs84_to_gcj02

GRIDMAP = str(Path(sys.executable).with_name("gridmap"))


@pytest.fixture
def gridmap(database_url: str, tmp_path: Path):
    """``gridmap(*args)``: the installed command run as a user runs it, against this folder's database."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
        env |= {"GRIDMAP_DATABASE_URL": database_url, "COLUMNS": "200"}
        done = subprocess.run([GRIDMAP, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr + done.stdout
        return done

    return run


def test_the_cli_imports_a_gbk_csv_of_facilities_that_get_facilities_then_lists(
        gridmap, api, as_user, world, owner, tmp_path) -> None:
    a, x0, y0, tag = world["a"], world["x0"], world["y0"], world["tag"]
    owner.execute("DELETE FROM facility WHERE community_code = %s", [a])
    unit = f"{tag} 关工委"
    owner.execute("INSERT INTO responsible_unit (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", [unit])
    text = ("类型,名称,地址,所属社区编码,责任单位,在用,经度,纬度\r\n"
            f"道德讲堂,{tag}和谐讲堂,幸福路3号,{a},,是,{x0 + 0.004},{y0 + 0.004}\r\n"
            f"志愿服务站,{tag}服务站,,,{unit},是,{x0 + 0.006},{y0 + 0.005}\r\n"
            f"宣传栏,{tag}旧宣传栏,,{a},,否,{x0 + 0.007},{y0 + 0.006}\r\n")
    path = tmp_path / "阵地.csv"
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GBK: the encoding is detected
    assert "facilities: 3 rows imported" in gridmap("import", "facilities", str(path)).stdout
    r = api.get("/facilities", params={"area": a}, headers=as_user("admin"))
    assert r.status_code == 200, r.text
    got = {f["name"]: (f["kind"], f["owner_community"], f["owner_unit_name"], f["active"], f["position_crs"])
           for f in r.json()["items"]}
    assert got == {f"{tag}和谐讲堂": ("moral_lecture_hall", a, None, True, "EPSG:4326"),
                   f"{tag}服务站": ("volunteer_station", None, unit, True, "EPSG:4326"),
                   f"{tag}旧宣传栏": ("notice_board", a, None, False, "EPSG:4326")}


def test_the_cli_imports_a_geopackage_of_compounds_that_get_compounds_then_lists(
        gridmap, api, campaign, owner, tmp_path) -> None:
    tag = f"{campaign['tag']}-gen"
    owner.execute("DELETE FROM compound WHERE ref LIKE %s", [f"{tag}%"])
    x, y = 113.2 + 0.012, 25.9 + 0.006  # inside the campaign world's community
    frame = gpd.GeoDataFrame(
        {"编号": [f"{tag}1", f"{tag}2"], "名称": ["向阳小区", "老粮站宿舍"], "管理方式": ["无物业", "弃管"],
         "户数": [48, 16]},
        geometry=[shapely.box(x, y, x + 0.001, y + 0.001),
                  shapely.MultiPolygon([shapely.box(x + 0.002, y, x + 0.0025, y + 0.0005),
                                        shapely.box(x + 0.003, y, x + 0.0035, y + 0.0005)])],
        crs="EPSG:4326")
    path = tmp_path / "小区.gpkg"
    frame.to_file(path, driver="GPKG")
    assert "compounds: 2 rows imported" in gridmap("import", "compounds", str(path)).stdout
    planner = {"Authorization": f"Bearer {campaign['tokens']['planner']}"}
    # (every module's campaign world lies at one place: a compound goes to the lowest community code there)
    r = api.get("/compounds", headers=planner)
    assert r.status_code == 200, r.text
    got = {k["ref"]: (k["name"], k["management"], k["households"]) for k in r.json()
           if (k["ref"] or "").startswith(tag)}
    assert got == {f"{tag}1": ("向阳小区", "none", 48), f"{tag}2": ("老粮站宿舍", "abandoned", 16)}
    parts = owner.execute("SELECT ST_NumGeometries(geom) FROM compound WHERE ref = %s", [f"{tag}2"])
    assert parts.fetchone() == (2,)


def test_the_generic_route_takes_both_layers_under_their_rules(api, as_user, campaign, world, owner) -> None:
    a, x0, y0, tag = world["a"], world["x0"], world["y0"], world["tag"]
    csv = f"类型,名称,所属社区编码,经度,纬度\n市民学校,{tag}通用导入,{a},{x0 + 0.003},{y0 + 0.007}\n"
    upload = {"file": ("f.csv", csv.encode())}
    assert api.post("/imports/facilities", files=upload, headers=as_user("viewer")).status_code == 403
    assert api.post("/imports/facilities", files=upload, headers=as_user("admin_b")).status_code == 403  # RLS
    r = api.post("/imports/facilities", files=upload, headers=as_user("admin"))
    assert r.status_code == 200 and r.json()["rows"] == 1, r.text
    ref = f"{campaign['tag']}-route"
    owner.execute("DELETE FROM compound WHERE ref = %s", [ref])
    wkt = f"POLYGON(({113.21} {25.901},{113.211} {25.901},{113.211} {25.902},{113.21} {25.901}))"
    upload = {"file": ("k.csv", f"编号,名称,wkt\n{ref},三角院,\"{wkt}\"\n".encode())}
    planner = {"Authorization": f"Bearer {campaign['tokens']['planner']}"}
    viewer = {"Authorization": f"Bearer {campaign['tokens']['viewer']}"}
    assert api.post("/imports/compounds", files=upload, headers=viewer).status_code == 403
    r = api.post("/imports/compounds", files=upload, headers=planner)
    assert r.status_code == 200 and r.json()["rows"] == 1, r.text
    # the campaign path is the same import, answering the overlaps too
    owner.execute("DELETE FROM compound WHERE ref = %s", [ref])
    r = api.post("/imports/campaign/compounds", files=upload, headers=planner)
    assert r.status_code == 200 and r.json()["rows"] == 1 and "overlaps" in r.json(), r.text


def test_a_gcj02_import_keeps_gcj02_as_position_crs_and_the_wgs84_point(api, as_user, world, owner) -> None:
    a, tag = world["a"], world["tag"]
    lon, lat = world["x0"] + 0.0081234, world["y0"] + 0.0032345  # the true (WGS 84) point, inside A
    glon, glat = wgs84_to_gcj02(lon, lat)  # an independent implementation of the published formula
    assert math.dist((lon, lat), (glon, glat)) * 111_000 > 100
    names = {"gcj": f"{tag}高德取点", "columns": f"{tag}高德列", "wgs": f"{tag}GPS取点"}
    owner.execute("DELETE FROM facility WHERE name = ANY(%s)", [list(names.values())])
    files = {
        # the system given as the crs parameter
        "gcj": (f"类型,名称,所属社区编码,经度,纬度\n宣传栏,{names['gcj']},{a},{glon:.7f},{glat:.7f}\n",
                {"crs": "gcj02"}),
        # the system named by the columns (our GCJ-02 exports write lon_gcj02/lat_gcj02)
        "columns": (f"kind,name,owner_community,lon_gcj02,lat_gcj02\n"
                    f"notice_board,{names['columns']},{a},{glon:.7f},{glat:.7f}\n", {}),
        "wgs": (f"类型,名称,所属社区编码,经度,纬度\n宣传栏,{names['wgs']},{a},{lon:.7f},{lat:.7f}\n", {}),
    }
    for key, (text, params) in files.items():
        r = api.post("/imports/facilities", files={"file": (f"{key}.csv", text.encode())}, params=params,
                     headers=as_user("admin"))
        assert r.status_code == 200, r.text
    found = {name: (crs, metres) for name, crs, metres in owner.execute(
        "SELECT name, position_crs, ST_Distance(geom::geography, ST_Point(%s, %s, 4326)::geography)"
        " FROM facility WHERE name = ANY(%s)", [lon, lat, list(names.values())])}
    for key, crs in (("gcj", "GCJ-02"), ("columns", "GCJ-02"), ("wgs", "EPSG:4326")):
        stored_crs, metres = found[names[key]]
        assert stored_crs == crs and metres < 1.0, (key, found[names[key]])


def test_the_workbench_import_page_offers_both_layers(api, as_user, campaign) -> None:
    page = api.get("/imports", headers=as_user("admin")).text
    assert 'value="facilities"' in page and "阵地" in page
    planner = api.get("/imports", headers={"Authorization": f"Bearer {campaign['tokens']['planner']}"}).text
    assert 'value="compounds"' in planner and "无人管理小区" in planner
    assert 'value="facilities"' not in planner  # the admins' layer


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "csv"])
def test_the_generic_export_imports_back_as_the_same_rows(api, as_user, world, campaign, owner, fmt,
                                                          tmp_path) -> None:
    """GET /exports/{layer} writes the layer's own fields: a cleared area imports them back unchanged."""
    a, x0, y0, tag = world["a"], world["x0"], world["y0"], world["tag"]
    owner.execute("DELETE FROM facility WHERE community_code = %s", [a])
    text = ("类型,名称,地址,所属社区编码,在用,经度,纬度\n"
            f"道德讲堂,{tag}讲堂,幸福路5号,{a},是,{x0 + 0.0041},{y0 + 0.0042}\n"
            f"宣传栏,{tag}栏,,{a},否,{x0 + 0.0051},{y0 + 0.0052}\n")
    assert api.post("/imports/facilities", files={"file": ("f.csv", text.encode())},
                    headers=as_user("admin")).status_code == 200
    facility_sql = ("SELECT kind, name, address, owner_community, active, round(ST_X(geom)::numeric, 7),"
                    " round(ST_Y(geom)::numeric, 7) FROM facility WHERE community_code = %s ORDER BY name")
    before = owner.execute(facility_sql, [a]).fetchall()
    r = api.get("/exports/facilities", params={"format": fmt, "community": a}, headers=as_user("viewer"))
    assert r.status_code == 200, r.text
    owner.execute("DELETE FROM facility WHERE community_code = %s", [a])
    suffix = {"shp": "zip"}.get(fmt, fmt)
    upload = {"file": (f"back.{suffix}", r.content)}
    r = api.post("/imports/facilities", files=upload, headers=as_user("admin"))
    assert r.status_code == 200 and r.json()["rows"] == 2, r.text
    assert owner.execute(facility_sql, [a]).fetchall() == before

    planner = {"Authorization": f"Bearer {campaign['tokens']['planner']}"}
    prefix = f"{campaign['tag']}-rt{fmt}"
    owner.execute("DELETE FROM compound WHERE ref LIKE %s", [f"{prefix}%"])
    x, y = 113.2 + 0.015, 25.9 + 0.007
    owner.execute("INSERT INTO compound (ref, name, management, households, note, geom) VALUES"
                  " (%s, '东风小区', 'abandoned', 30, '弃管',"
                  "  ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
                  [f"{prefix}1", x, y, x + 0.0008, y + 0.0006])
    compound_sql = ("SELECT ref, name, management, households, note, ST_AsText(geom) FROM compound"
                    " WHERE ref LIKE %s ORDER BY ref")
    before = owner.execute(compound_sql, [f"{prefix}%"]).fetchall()
    r = api.get("/exports/compounds", params={"format": fmt, "community": campaign["community"]},
                headers=planner)
    assert r.status_code == 200, r.text
    path = tmp_path / f"k.{suffix}"
    path.write_bytes(r.content)
    if fmt == "csv":  # the polygon as WKT, as the importer takes it
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype={"households": "Int64"})
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries.from_wkt(frame.pop("wkt")))
    else:
        frame = gpd.read_file(path)
    mine = frame[frame["ref"].str.startswith(prefix, na=False)]
    assert len(mine) == 1
    row = mine.iloc[0]
    ref, name, management, households, note, wkt = before[0]
    assert (row["ref"], row["name"], row["management"], int(row["households"]), row["note"]) == \
        (ref, name, management, households, note)
    # (a Shapefile's polygon layer does not say Multi: compared by shape)
    assert shapely.hausdorff_distance(row.geometry, shapely.from_wkt(wkt)) < 1e-9
