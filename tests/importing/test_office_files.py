"""Files as offices send them: a GBK Shapefile without .cpg (written by GDAL's ogr2ogr), an XLSX ledger
(台账) with a merged title and a two-row header (written by openpyxl), semicolon/tab CSV in UTF-8
and GBK. What is stored is compared with what the file holds, read independently (csv, openpyxl)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import psycopg
import pyogrio
import pytest
from openpyxl.styles import Alignment
from typer.testing import CliRunner

from gis.catalog import import_file
from gis.errors import InvalidInput

# 𠀀 has a GB18030 code but no GBK one: the GBK files go without it.
ADDRESSES = ["人民路1号, 东门", "北湖区燕泉路12号", "苏仙岭路𠀀镕巷3号", "郴江·河畔花园2栋"]
GBK_ADDRESSES = ADDRESSES[:2] + ["苏仙岭路镕巷3号", ADDRESSES[3]]
POINTS = [(113.0031, 25.7831), (113.0152, 25.7852), (113.0043, 25.7953), (113.0164, 25.7964)]


def _stored(conn: psycopg.Connection, table: str = "household", column: str = "address") -> dict:
    return dict(conn.execute(f"SELECT ref, {column} FROM {table}").fetchall())


# --- Shapefile: GBK .dbf, no .cpg -----------------------------------------------------------------

def _gbk_shapefile(tmp_path: Path, names: list[str], *, cpg: str | None = None, field: str = "address",
                   extra: dict | None = None) -> Path:
    """A zipped Shapefile written by ogr2ogr with ENCODING=GBK, its .cpg removed (or replaced)."""
    features = [{"type": "Feature", "properties": {"ref": f"s{i}", field: name, **(extra or {})},
                 "geometry": {"type": "Point", "coordinates": list(POINTS[i])}}
                for i, name in enumerate(names)]
    source = tmp_path / "src.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                               ensure_ascii=False), encoding="utf-8")
    folder = tmp_path / "shp"
    folder.mkdir()
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", str(folder / "layer.shp"),
                    str(source)], check=True, capture_output=True)
    (folder / "layer.cpg").unlink(missing_ok=True)
    if cpg is not None:
        (folder / "layer.cpg").write_text(cpg)
    path = tmp_path / "layer.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, part.name)
    return path


def test_gbk_shapefile_without_cpg_reads_back_exactly(division, tmp_path):
    path = _gbk_shapefile(tmp_path, GBK_ADDRESSES)
    dbf = (tmp_path / "shp" / "layer.dbf").read_bytes()
    assert GBK_ADDRESSES[0].encode("gbk") in dbf and not (tmp_path / "shp" / "layer.cpg").exists()
    plain = pyogrio.read_dataframe(tmp_path / "shp" / "layer.shp")  # what GDAL alone makes of it
    assert list(plain["address"]) != GBK_ADDRESSES
    import_file(division, "households", path)
    assert _stored(division) == {f"s{i}": a for i, a in enumerate(GBK_ADDRESSES)}


def test_encoding_option_wins_over_a_wrong_cpg(division, tmp_path):
    path = _gbk_shapefile(tmp_path, GBK_ADDRESSES, cpg="UTF-8")
    with pytest.raises(InvalidInput):  # the .cpg is believed: GBK bytes are not UTF-8
        import_file(division, "households", path)
    import_file(division, "households", path, encoding="gbk")
    assert _stored(division) == {f"s{i}": a for i, a in enumerate(GBK_ADDRESSES)}


def test_encoding_is_refused_where_it_means_nothing(division, tmp_path):
    with pytest.raises(InvalidInput) as caught:
        import_file(division, "households", tmp_path / "x.gpkg", encoding="gbk")
    assert caught.value.problems[0].field == "encoding"
    with pytest.raises(InvalidInput) as caught:
        import_file(division, "households", tmp_path / "x.csv", encoding="klingon")
    assert caught.value.problems[0].field == "encoding"


# --- CSV: delimiter and encoding --------------------------------------------------------------------

def _csv_bytes(delimiter: str, encoding: str, addresses: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["编号", "地址", "经度", "纬度"])
    for i, (address, (lon, lat)) in enumerate(zip(addresses, POINTS, strict=True)):
        writer.writerow([f"c{i}", address, lon, lat])
    return out.getvalue().encode(encoding)


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_delimited_text_in_utf8_and_gbk(division, tmp_path, delimiter, encoding):
    addresses = GBK_ADDRESSES if encoding == "gbk" else ADDRESSES
    path = tmp_path / "h.csv"
    path.write_bytes(_csv_bytes(delimiter, encoding, addresses))
    import_file(division, "households", path)
    expected = {row["编号"]: row["地址"] for row in
                csv.DictReader(io.StringIO(path.read_bytes().decode(encoding)), delimiter=delimiter)}
    assert _stored(division) == expected
    assert len(expected) == 4


def test_csv_encoding_option(division, tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(_csv_bytes(";", "gbk", GBK_ADDRESSES))
    with pytest.raises(InvalidInput) as caught:
        import_file(division, "households", path, encoding="utf-8")
    assert caught.value.problems[0].field == "encoding"
    import_file(division, "households", path, encoding="GBK")
    assert sorted(_stored(division).values()) == sorted(GBK_ADDRESSES)


# --- XLSX ledger (台账) -------------------------------------------------------------------------------

def _ledger(path: Path, *, notes_first: bool = True) -> Path:
    """Row 1: a merged title; rows 2-3: a header with merged groups (户主信息 over 姓名/身份证号,
    住址信息 over 地址/楼栋/房号) and columns merged down (编号, 经度, 纬度); then the households."""
    book = openpyxl.Workbook()
    if notes_first:
        book.active.title = "填表说明"
        book.active["A1"] = "本表由社区网格员填写，每户一行。"
        sheet = book.create_sheet("住户台账")
    else:
        sheet = book.active
        sheet.title = "住户台账"
    sheet["A1"] = "北湖社区住户台账"
    sheet.merge_cells("A1:H1")
    sheet["A1"].alignment = Alignment(horizontal="center")
    for cell, label in {"A2": "编号", "B2": "户主信息", "D2": "住址信息", "G2": "经度", "H2": "纬度"}.items():
        sheet[cell] = label
    for merged in ("A2:A3", "B2:C2", "D2:F2", "G2:G3", "H2:H3"):
        sheet.merge_cells(merged)
    for column, name in zip("BCDEF", ["姓  名", "身份证号", "地址", "楼栋", "房号"], strict=True):
        sheet[f"{column}3"] = name
    for i, (address, (lon, lat)) in enumerate(zip(ADDRESSES, POINTS, strict=True)):
        sheet.append([f"x{i}", f"户主{i}", f"43100219800101{i:03d}X", address, f"{i + 1}栋", f"{101 + i}",
                      lon, lat])
    book.save(path)
    return path


def _ledger_rows(path: Path) -> dict[str, tuple]:
    """The ledger's households as openpyxl reads them: ref -> (address, building, room, lon, lat)."""
    sheet = openpyxl.load_workbook(path)["住户台账"]
    return {r[0]: (r[3], r[4], r[5], r[6], r[7]) for r in sheet.iter_rows(min_row=4, values_only=True)}


def _stored_ledger(conn: psycopg.Connection) -> dict[str, tuple]:
    rows = conn.execute("SELECT ref, address, building, room, ST_X(geom), ST_Y(geom) FROM household")
    return {r[0]: (r[1], r[2], r[3], round(r[4], 7), round(r[5], 7)) for r in rows}


def _rounded(rows: dict[str, tuple]) -> dict[str, tuple]:
    return {k: (*v[:3], round(v[3], 7), round(v[4], 7)) for k, v in rows.items()}


def test_ledger_header_and_sheet_are_found(division, tmp_path):
    path = _ledger(tmp_path / "台账.xlsx")
    import_file(division, "households", path)
    assert _stored_ledger(division) == _rounded(_ledger_rows(path))


@pytest.mark.parametrize("sheet", ["住户台账", "2"])
def test_ledger_with_sheet_and_two_row_header_given(division, tmp_path, sheet):
    path = _ledger(tmp_path / "台账.xlsx")
    import_file(division, "households", path, sheet=sheet, header_row="2-3",
                field_map={"address": "住址信息/地址"})
    assert _stored_ledger(division) == _rounded(_ledger_rows(path))


def test_ledger_read_from_the_wrong_row_shows_what_was_found(division, tmp_path):
    path = _ledger(tmp_path / "台账.xlsx")
    with pytest.raises(InvalidInput) as caught:
        import_file(division, "households", path, header_row="2")
    shown = {p.field: p.reason for p in caught.value.problems}
    assert "required column missing" in shown["address"]
    assert "sheet '住户台账' (2 of 2), header row 2" in shown["file"]
    for column in ("'编号'", "'户主信息'", "'住址信息'", "'经度'", "'纬度'"):
        assert column in shown["file"]
    with pytest.raises(InvalidInput) as caught:
        import_file(division, "households", path, sheet="1")  # the notes sheet: no header anywhere
    assert "sheet '填表说明' (1 of 2)" in {p.field: p.reason for p in caught.value.problems}["file"]


@pytest.mark.parametrize(("options", "field"), [({"sheet": "9"}, "sheet"), ({"sheet": "台账"}, "sheet"),
                                                ({"header_row": "3-5"}, "header_row"),
                                                ({"header_row": "0"}, "header_row"),
                                                ({"header_row": "40"}, "header_row")])
def test_ledger_options_out_of_range_name_their_field(division, tmp_path, options, field):
    path = _ledger(tmp_path / "台账.xlsx", notes_first=False)
    with pytest.raises(InvalidInput) as caught:
        import_file(division, "households", path, **options)
    assert caught.value.problems[0].field == field


def test_ledger_as_csv_with_title_row(division, tmp_path):
    """The same ledger saved as CSV by Excel (GBK, merged cells as empty cells)."""
    path = _ledger(tmp_path / "台账.xlsx", notes_first=False)
    sheet = openpyxl.load_workbook(path).active
    out = io.StringIO()
    csv.writer(out).writerows([["" if v is None else v for v in row]
                               for row in sheet.iter_rows(values_only=True)])
    csv_path = tmp_path / "台账.csv"
    csv_path.write_bytes(out.getvalue().replace("𠀀", "").encode("gbk"))
    import_file(division, "households", csv_path)
    expected = {k: (v[0].replace("𠀀", ""), *v[1:]) for k, v in _rounded(_ledger_rows(path)).items()}
    assert _stored_ledger(division) == expected


# --- the documented CLI and HTTP forms ---------------------------------------------------------------

@pytest.fixture
def committed_places(database_url: str):
    yield database_url
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM place WHERE ref LIKE 'office-%' OR ref LIKE 's_'")


def test_cli_import_with_encoding_sheet_and_header_row(committed_places, monkeypatch, tmp_path):
    from api.cli import app

    monkeypatch.setenv("GRIDMAP_DATABASE_URL", committed_places)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    shapefile = _gbk_shapefile(tmp_path, GBK_ADDRESSES, cpg="UTF-8", field="name",
                               extra={"category": "small_shop"})
    result = runner.invoke(app, ["import", "places", str(shapefile), "--encoding", "gbk"])
    assert result.exit_code == 0, result.output
    with psycopg.connect(committed_places) as conn:
        assert _stored(conn, "place", "name") == {f"s{i}": a for i, a in enumerate(GBK_ADDRESSES)}
        conn.execute("DELETE FROM place WHERE ref LIKE 's_'")
    book = openpyxl.Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("商铺")
    sheet.append(["苏仙区商铺台账"])
    sheet.append(["编号", "店名", "类别", "经度", "纬度"])
    sheet.append(["office-1", "好又多超市", "small_shop", 113.0101, 25.7901])
    book.save(tmp_path / "shops.xlsx")
    result = runner.invoke(app, ["import", "places", str(tmp_path / "shops.xlsx"), "--sheet", "商铺",
                                 "--header-row", "2"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["import", "places", str(tmp_path / "shops.xlsx"), "--sheet", "商铺",
                                 "--header-row", "1"])
    assert result.exit_code == 2
    assert "header row 1" in result.output and "columns found: '苏仙区商铺台账'" in result.output


def test_http_import_takes_encoding_sheet_and_header_row(client, committed_places, tmp_path):
    shops = zip(GBK_ADDRESSES, POINTS, strict=True)
    rows = [["编号", "店名", "类别", "经度", "纬度"]] + [
        [f"office-{i}", name, "small_shop", lon, lat] for i, (name, (lon, lat)) in enumerate(shops)]
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows([["苏仙区商铺台账"], *rows])
    data = out.getvalue().encode("gbk")
    r = client.post("/imports/places", files={"file": ("shops.csv", data)},
                    data={"encoding": "utf-8", "header_row": "2"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "encoding"
    r = client.post("/imports/places", files={"file": ("shops.csv", data)}, data={"header_row": "1"})
    assert r.status_code == 422
    assert any("columns found: '苏仙区商铺台账'" in e["reason"] for e in r.json()["errors"])
    r = client.post("/imports/places", files={"file": ("shops.csv", data)},
                    data={"encoding": "gbk", "header_row": "2"})
    assert r.status_code == 200, r.text
    with psycopg.connect(committed_places) as conn:
        assert _stored(conn, "place", "name") == {f"office-{i}": a for i, a in enumerate(GBK_ADDRESSES)}
    r = client.post("/imports/places", files={"file": ("shops.csv", data)}, data={"sheet": "1"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sheet"
