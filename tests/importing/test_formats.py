"""Every import format is read into the same rows; encodings are detected; broken files are refused."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from gis.catalog import import_file
from gis.errors import InvalidInput
from gis.interop.readers import read_frame

POINTS = [(113.005, 25.785), (113.015, 25.795), (113.0151, 25.7851)]


@pytest.mark.parametrize("name", ["h.geojson", "h.gpkg", "h.zip", "h.csv", "h.xlsx"])
def test_every_format_imports_the_same_households(division, write_file, make_households, stored, name):
    path = write_file(make_households(POINTS), name)
    report = import_file(division, "households", path)
    assert report.rows == 3
    rows = stored(division)
    assert sorted(rows) == ["h1", "h2", "h3"]
    assert rows["h1"][0] == "人民路1号"
    assert rows["h2"][1] == "431002001001002" and rows["h2"][2] == "inside"
    assert rows["h3"][3:] == pytest.approx((113.0151, 25.7851), abs=1e-12)


def test_gbk_csv_with_chinese_names_is_decoded(division, write_file, make_households, stored):
    path = write_file(make_households(POINTS), "gbk.csv", encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GBK, not UTF-8 by accident
    import_file(division, "households", path)
    assert stored(division)["h2"][0] == "人民路2号"


def test_utf8_bom_csv_and_chinese_headers(division, tmp_path, stored):
    path = tmp_path / "bom.csv"
    path.write_bytes("编号,地址,经度,纬度\nx1,解放路8号,113.001,25.781\n".encode("utf-8-sig"))
    import_file(division, "households", path)
    assert stored(division)["x1"][0] == "解放路8号"


def test_zipped_shapefile_honours_its_cpg(division, write_file, make_households, stored):
    path = write_file(make_households(POINTS), "gbk.zip", encoding="GBK")
    with zipfile.ZipFile(path) as archive:
        cpg = next(n for n in archive.namelist() if n.endswith(".cpg"))
        assert archive.read(cpg).decode().strip().upper() in {"GBK", "CP936", "936"}
        dbf = archive.read(next(n for n in archive.namelist() if n.endswith(".dbf")))
    assert "人民路1号".encode("gbk") in dbf  # the attributes really are GBK on disk
    import_file(division, "households", path)
    assert stored(division)["h1"][0] == "人民路1号"


def test_csv_keeps_codes_as_text(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("ref,code\n007,431002001001001\n", encoding="utf-8")
    frame = read_frame(path)
    assert list(frame["ref"]) == ["007"]


def test_broken_xlsx_is_invalid_input_naming_the_file(tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(InvalidInput) as err:
        read_frame(path)
    assert err.value.problems[0].field == "file"
    assert "register.xlsx" in err.value.problems[0].reason


def test_truncated_geojson_is_invalid_input(tmp_path, write_file, make_households):
    whole = write_file(make_households(POINTS), "whole.geojson").read_text()
    path = tmp_path / "cut.geojson"
    path.write_text(whole[: len(whole) // 2])
    with pytest.raises(InvalidInput) as err:
        read_frame(path)
    assert "cut.geojson" in str(err.value)


@pytest.mark.parametrize("name, content", [
    ("bad.zip", b"not a zip"),
    ("bad.gpkg", b"SQLite format 3\x00 garbage"),
    ("bad.csv", b'ref,address\n"unterminated,1\n'),
    ("bad.txt", b"whatever"),
])
def test_other_broken_files_are_invalid_input(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as err:
        read_frame(path)
    assert name in str(err.value)


def test_empty_file_is_invalid_input(division, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("ref,address,lon,lat\n")
    with pytest.raises(InvalidInput, match="no data rows"):
        import_file(division, "households", path)


def test_xlsx_numbers_read_as_text(tmp_path):
    path = tmp_path / "numbers.xlsx"
    pd.DataFrame({"ref": [12], "phone": [13800138000]}).to_excel(path, index=False)
    frame = read_frame(path)
    assert list(frame["phone"]) == ["13800138000"]
