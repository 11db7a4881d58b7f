"""Facilities (阵地) out and back in: the export of an area (XLSX with Chinese headers, CSV with a BOM,
GeoJSON that GDAL reads) imports into a cleared area as the same rows, compared field by field with what
the database held; GBK CSV, GCJ-02 input, a broken row, and the scope of the importer."""

from __future__ import annotations

import io
import json
import math
import subprocess

import openpyxl
import pytest

from gis.facilities.exchange import COLUMNS, FAILURE_COLUMNS

IMPORT = "/imports/campaign/facilities"
EXPORT = "/exports/campaign/facilities"
# the layer's own columns, as the export writes them
LAYER_HEADERS = ["类型", "名称", "地址", "所属社区编码", "责任单位", "所在社区编码", "在用"]


def stored(conn, community: str) -> list[tuple]:
    """The facilities of a community as the database holds them, by name (independent of the exporter)."""
    return conn.execute(
        "SELECT f.kind, f.name, f.address, f.owner_community, u.name, f.community_code, f.active,"
        " ST_X(f.geom), ST_Y(f.geom)"
        " FROM facility f LEFT JOIN responsible_unit u ON u.id = f.owner_unit"
        " WHERE f.community_code = %s ORDER BY f.name", [community]).fetchall()


def same(before: list[tuple], after: list[tuple]) -> None:
    assert len(after) == len(before)
    for old, new in zip(before, after, strict=True):
        assert new[:7] == old[:7]  # kind, name, address, owners, community, active: exactly
        assert math.isclose(new[7], old[7], abs_tol=1e-9) and math.isclose(new[8], old[8], abs_tol=1e-9)


@pytest.fixture
def area(world, owner) -> str:
    """Community A holding four facilities of the test's own (none from an earlier test), one owned by
    a unit, one closed, one named like a spreadsheet formula."""
    a, x0, y0, tag = world["a"], world["x0"], world["y0"], world["tag"]
    owner.execute("DELETE FROM facility WHERE community_code = %s", [a])
    unit = owner.execute("INSERT INTO responsible_unit (name) VALUES (%s) ON CONFLICT (name) DO UPDATE"
                         " SET name = EXCLUDED.name RETURNING id", [f"{tag} 文明办"]).fetchone()[0]
    owner.execute(
        "INSERT INTO facility (kind, name, address, owner_community, owner_unit, geom, active) VALUES"
        " ('moral_lecture_hall', '幸福社区道德讲堂', '幸福路1号', %(a)s, NULL,"
        "  ST_Point(%(x)s, %(y)s, 4326), true),"
        " ('moral_lecture_hall', '=讲堂二', NULL, NULL, %(u)s, ST_Point(%(x)s + 0.001, %(y)s, 4326), true),"
        " ('notice_board', '宣传栏（旧）', '幸福路9号', %(a)s, NULL,"
        "  ST_Point(%(x)s, %(y)s + 0.002, 4326), false),"
        " ('volunteer_station', '志愿服务站', NULL, %(a)s, NULL,"
        "  ST_Point(%(x)s + 0.0123456, %(y)s + 0.0045678, 4326), true)",
        {"a": a, "u": unit, "x": x0 + 0.003, "y": y0 + 0.003})
    return a


def exported(api, headers, area: str, fmt: str) -> bytes:
    r = api.get(EXPORT, params={"area": area, "format": fmt}, headers=headers)
    assert r.status_code == 200, r.text
    return r.content


def imported(api, headers, name: str, content: bytes, **params) -> dict:
    r = api.post(IMPORT, files={"file": (name, content)}, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "geojson"])
def test_export_imports_back_as_the_same_rows(api, as_user, area, owner, fmt) -> None:
    before = stored(owner, area)
    content = exported(api, as_user("admin"), area, fmt)
    owner.execute("DELETE FROM facility WHERE community_code = %s", [area])  # a clean area
    report = imported(api, as_user("admin"), f"facilities.{fmt}", content)
    assert report["rows"] == 4
    same(before, stored(owner, area))
    # readable back by the JSON route
    listed = api.get("/facilities", params={"area": area}, headers=as_user("viewer")).json()
    assert sorted(f["name"] for f in listed["items"]) == sorted(r[1] for r in before)


def test_xlsx_has_chinese_headers_and_the_failing_communities(api, as_user, area, world) -> None:
    book = openpyxl.load_workbook(io.BytesIO(exported(api, as_user("viewer"), world["street"], "xlsx")))
    first, failing = book.worksheets
    assert first.title == "阵地"
    headers = [c.value for c in first[1]]
    assert headers == [*COLUMNS.values(), "经度", "纬度"]
    assert headers[:7] == LAYER_HEADERS
    rows = {r[1]: dict(zip(headers, r, strict=True)) for r in first.iter_rows(min_row=2, values_only=True)}
    # two 道德讲堂 in A: within the target 1-2; the formula-like name is text, not a formula
    assert rows["幸福社区道德讲堂"]["本社区同类数量"] == 2 and rows["幸福社区道德讲堂"]["达标情况"] == "达标"
    assert first.cell(row=2 + list(rows).index("=讲堂二"), column=2).data_type == "s"
    # community B has no 道德讲堂 and no 志愿服务站: listed on the second sheet (GET /facilities/check)
    assert failing.title == "未达标社区"
    assert [c.value for c in failing[1]] == list(FAILURE_COLUMNS.values())
    missing = {(r[0], r[2]) for r in failing.iter_rows(min_row=2, values_only=True)}
    assert {(world["b"], "道德讲堂"), (world["b"], "志愿服务站")} <= missing


def test_csv_starts_with_the_bom_and_neutralises_formulas(api, as_user, area) -> None:
    content = exported(api, as_user("viewer"), area, "csv")
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith(",".join(LAYER_HEADERS))
    assert "'=讲堂二" in text


def test_gdal_reads_the_geojson(api, as_user, area, world, tmp_path) -> None:
    path = tmp_path / "facilities.geojson"
    path.write_bytes(exported(api, as_user("viewer"), area, "geojson"))
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(path)], capture_output=True, text=True,
                         check=True).stdout
    assert "Feature Count: 4" in out and "Point" in out
    assert "WGS 84" in out or "4326" in out
    names = {f["properties"]["名称"] for f in json.loads(path.read_text())["features"]}
    assert "幸福社区道德讲堂" in names
    # an area without facilities: an empty collection, still a file GDAL reads
    path.write_bytes(exported(api, as_user("viewer"), world["b"], "geojson"))
    assert json.loads(path.read_text())["features"] == []
    subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(path)], capture_output=True, check=True)


def test_gbk_csv_with_chinese_headers(api, as_user, world, owner) -> None:
    a, x0, y0 = world["a"], world["x0"], world["y0"]
    owner.execute("DELETE FROM facility WHERE community_code = %s", [a])
    text = ("类型,名称,地址,所属社区编码,经度,纬度\r\n"
            f"道德讲堂,和谐讲堂,幸福路3号,{a},{x0 + 0.004},{y0 + 0.004}\r\n"
            f"市民学校,市民学校（社区）,,{a},{x0 + 0.005},{y0 + 0.005}\r\n")
    content = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # really GBK, not UTF-8
    assert imported(api, as_user("admin"), "阵地.csv", content)["rows"] == 2
    rows = stored(owner, a)
    assert sorted((r[0], r[1], r[2] or "") for r in rows) == [("civic_school", "市民学校（社区）", ""),
                                                              ("moral_lecture_hall", "和谐讲堂", "幸福路3号")]


# GCJ-02 (国测局) from WGS 84: the published formula (Krasovsky 1940 ellipsoid), written out here on its
# own so that the importer's conversion (gis/crs.py) is checked against another implementation.
_A, _EE = 6378245.0, 0.00669342162296594323


def _dlat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _dlon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    dlat, dlon = _dlat(lon - 105.0, lat - 35.0), _dlon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * math.sqrt(magic)) * math.pi)
    dlon = (dlon * 180.0) / (_A / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def test_gcj02_lands_within_a_metre_of_the_wgs84_point(api, as_user, world, owner) -> None:
    a = world["a"]
    owner.execute("DELETE FROM facility WHERE community_code = %s", [a])
    lon, lat = world["x0"] + 0.0071234, world["y0"] + 0.0042345  # the true (WGS 84) point, inside A
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert 100 < math.dist((lon, lat), (glon, glat)) * 111_000 < 1000  # GCJ-02 is off by hundreds of metres
    text = f"类型,名称,所属社区编码,所在社区编码,经度,纬度\n宣传栏,高德取点,{a},{a},{glon:.7f},{glat:.7f}\n"
    imported(api, as_user("admin"), "gcj.csv", text.encode(), crs="gcj02")
    metres = owner.execute("SELECT ST_Distance(geom::geography, ST_Point(%s, %s, 4326)::geography)"
                           " FROM facility WHERE name = '高德取点' AND community_code = %s",
                           [lon, lat, a]).fetchone()
    assert metres is not None and metres[0] < 1.0, metres
    # the same numbers read as WGS 84 (no crs given) land hundreds of metres off
    text = f"类型,名称,所属社区编码,经度,纬度\n宣传栏,未转换,{a},{glon:.7f},{glat:.7f}\n"
    imported(api, as_user("admin"), "wgs.csv", text.encode())
    metres = owner.execute("SELECT ST_Distance(geom::geography, ST_Point(%s, %s, 4326)::geography)"
                           " FROM facility WHERE name = '未转换'", [lon, lat]).fetchone()
    assert metres is not None and metres[0] > 100


def test_a_broken_row_names_row_and_field_and_writes_nothing(api, as_user, world, owner) -> None:
    a, x0, y0 = world["a"], world["x0"], world["y0"]
    before = owner.execute("SELECT count(*) FROM facility").fetchone()[0]
    text = ("类型,名称,所属社区编码,责任单位,所在社区编码,经度,纬度\n"
            f"道德讲堂,好行,{a},,,{x0 + 0.004},{y0 + 0.004}\n"
            f"图书馆,坏类型,{a},,,{x0 + 0.004},{y0 + 0.004}\n"
            f"宣传栏,,{a},,,{x0 + 0.004},{y0 + 0.004}\n"
            f"宣传栏,两个主人,{a},不存在的单位,,{x0 + 0.004},{y0 + 0.004}\n"
            f"宣传栏,在B社区,{a},,{a},{x0 + 0.03},{y0 + 0.004}\n")
    r = api.post(IMPORT, files={"file": ("broken.csv", text.encode())}, headers=as_user("admin"))
    assert r.status_code == 422, r.text
    errors = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert (2, "kind") in errors and (3, "name") in errors
    assert owner.execute("SELECT count(*) FROM facility").fetchone()[0] == before
    # the database's checks (owner, unit, point outside the community named) once the values are typed
    fixed = text.replace("图书馆", "宣传栏").replace("宣传栏,,", "宣传栏,无名,")
    r = api.post(IMPORT, files={"file": ("broken.csv", fixed.encode())}, headers=as_user("admin"))
    assert r.status_code == 422, r.text
    errors = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert {(4, "owner_community"), (4, "owner_unit")} <= errors
    assert (5, "community") in errors  # the point lies in B, not in the community the row names
    assert owner.execute("SELECT count(*) FROM facility").fetchone()[0] == before


def test_an_invalid_point_and_a_missing_column_are_named(api, as_user, world) -> None:
    text = f"类型,名称,所属社区编码,经度,纬度\n宣传栏,x,{world['a']},abc,25.6\n"
    r = api.post(IMPORT, files={"file": ("f.csv", text.encode())}, headers=as_user("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 1
    r = api.post(IMPORT, files={"file": ("f.csv", "名称,经度,纬度\nx,113.2,25.6\n".encode())},
                 headers=as_user("admin"))
    assert r.status_code == 422 and any(e["field"] == "kind" for e in r.json()["errors"])


def test_only_the_admins_of_the_area_import(api, as_user, world, owner) -> None:
    a, x0, y0 = world["a"], world["x0"], world["y0"]
    text = f"类型,名称,所属社区编码,经度,纬度\n宣传栏,越权,{a},{x0 + 0.004},{y0 + 0.004}\n".encode()
    assert api.post(IMPORT, files={"file": ("f.csv", text)}, headers=as_user("worker")).status_code == 403
    # the admin of B: the point lies in A, row-level security refuses the insert
    assert api.post(IMPORT, files={"file": ("f.csv", text)}, headers=as_user("admin_b")).status_code == 403
    assert owner.execute("SELECT count(*) FROM facility WHERE name = '越权'").fetchone()[0] == 0


def test_two_thousand_facilities_round_trip(api, as_user, world, owner) -> None:
    """FIGURES: 2,000 facilities in one CSV imported (all or none) and exported again as XLSX."""
    import time

    a, x0, y0 = world["a"], world["x0"], world["y0"]
    owner.execute("DELETE FROM facility WHERE community_code = %s", [a])
    lines = ["类型,名称,所属社区编码,经度,纬度"] + [
        f"宣传栏,宣传栏{i},{a},{x0 + 0.0001 + (i % 100) * 0.0001},{y0 + 0.0001 + (i // 100) * 0.0001}"
        for i in range(2000)]
    started = time.perf_counter()
    assert imported(api, as_user("admin"), "many.csv", "\n".join(lines).encode("gbk"))["rows"] == 2000
    imported_s = time.perf_counter() - started
    started = time.perf_counter()
    book = openpyxl.load_workbook(io.BytesIO(exported(api, as_user("admin"), a, "xlsx")), read_only=True)
    exported_s = time.perf_counter() - started
    assert book.worksheets[0].max_row == 2001
    print(f"\nFIGURES facilities exchange: 2,000 rows imported from GBK CSV in {imported_s:.2f} s, "
          f"exported as XLSX (and read back) in {exported_s:.2f} s")
    owner.execute("DELETE FROM facility WHERE community_code = %s", [a])
