"""The register export (一册): XLSX readable by openpyxl, CSV with a BOM, masked unless asked; the CLI."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from typer.testing import CliRunner

from api.cli import app as cli

FORMULA = '=HYPERLINK("http://evil","click")'


@pytest.fixture
def register(client, two_grids, h):
    d = two_grids()
    ids = {}
    for key, dx, address in (("w", 0.005, "解放路1号"), ("e", 0.015, FORMULA), ("empty", 0.016, "空户")):
        r = client.post(
            "/households",
            json={
                "address": address,
                "building": "2栋",
                "room": "101",
                "lon": d["x0"] + dx,
                "lat": d["y0"] + 0.01,
            },
        )
        ids[key] = r.json()["id"]
    d["id_number"] = h.id_number(born="19620204", male=True)
    for hid, name, fields in (
        (
            ids["w"],
            "户主甲",
            {"relation": "head", "id_number": d["id_number"], "phone": "13700001111", "poverty": "dibao"},
        ),
        (ids["w"], "成员乙", {"relation": "child"}),
        (ids["e"], "户主丙", {"relation": "head", "key_person": "petitioner"}),
    ):
        r = client.post("/persons", json={"household_id": hid, "name": name, **fields})
        assert r.status_code == 201, r.text
    return d


def test_community_xlsx_sheet_per_grid_masked(client, register):
    d = register
    r = client.get(f"/communities/{d['community']}/register.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert [s.title[:15] for s in book.worksheets] == [d["west"], d["east"]]
    west, east = book.worksheets
    header = [c.value for c in west[1]]
    assert header[0] == "网格编码 Grid" and "身份证号 ID number" in header and "电话 Phone" in header
    assert west.freeze_panes == "A2" and west.auto_filter.ref.startswith("A1:")
    assert west.column_dimensions["D"].width == 30
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in west.iter_rows(min_row=2)]
    assert [r["姓名 Name"] for r in rows] == ["户主甲", "成员乙"]  # head first
    assert rows[0]["身份证号 ID number"] == d["id_number"][:6] + "********" + d["id_number"][-4:]
    assert rows[0]["电话 Phone"] == "137****1111" and rows[0]["困难类别 Poverty"] == "dibao"
    east_rows = list(east.iter_rows(min_row=2, values_only=True))
    assert len(east_rows) == 2 and east_rows[1][header.index("姓名 Name")] is None  # member-less household
    # A formula-like address stays text: it must not run when the sheet is opened.
    cell = east.cell(row=2, column=header.index("地址 Address") + 1)
    assert cell.value == FORMULA and cell.data_type == "s"


def test_grid_csv_has_bom_and_masks(client, register):
    d = register
    r = client.get(f"/grids/{d['west']}/register.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[0]["姓名 Name"] == "户主甲"
    assert d["id_number"] not in r.content.decode("utf-8-sig") and "*" in rows[0]["身份证号 ID number"]
    east = client.get(f"/grids/{d['east']}/register.csv").content.decode("utf-8-sig")
    assert [r["地址 Address"] for r in csv.DictReader(io.StringIO(east))][0] == "'" + FORMULA  # defused


def test_export_404_and_422(client):
    assert client.get("/grids/430102999999999/register.xlsx").status_code == 404
    assert client.get("/communities/430102999999/register.csv").status_code == 404
    assert client.get("/grids/x/register.csv").status_code == 422


def test_cli_register_export_stats_and_division(register, settings, tmp_path, monkeypatch):
    d = register
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    out = tmp_path / "grid.xlsx"
    result = runner.invoke(cli, ["register", "export", "--grid", d["west"], "-o", str(out), "--unmasked"])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert d["id_number"] in [c.value for c in sheet[2]]  # --unmasked gives the full number
    result = runner.invoke(
        cli, ["register", "export", "--community", d["community"], "-o", str(tmp_path / "c.csv")]
    )
    assert result.exit_code == 0 and (tmp_path / "c.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert runner.invoke(cli, ["register", "export", "-o", str(tmp_path / "x.csv")]).exit_code == 2
    assert (
        runner.invoke(
            cli, ["register", "export", "--grid", d["west"], "-o", str(tmp_path / "x.pdf")]
        ).exit_code
        == 2
    )

    result = runner.invoke(cli, ["stats", "--community", d["community"]])
    assert result.exit_code == 0 and d["west"] in result.output
    result = runner.invoke(cli, ["stats", "--grid", d["west"], "--json"])
    assert result.exit_code == 0 and '"href": "/persons?grid=' in result.output

    result = runner.invoke(cli, ["check", "division", d["community"]])
    assert result.exit_code == 0, result.output
    assert '"ok": true' in result.output
    result = runner.invoke(cli, ["check", "division", d["community"], "--format", "geojson"])
    assert result.exit_code == 0 and '"FeatureCollection"' in result.output
