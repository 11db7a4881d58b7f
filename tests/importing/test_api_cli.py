"""Upload and download over HTTP, and the gridmap import/export commands (real database, committed)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import shapely
from typer.testing import CliRunner

COMMUNITY = "431002002001"  # not the division of the other tests: these requests commit


def _geojson_community(code: str) -> bytes:
    import geopandas as gpd

    frame = gpd.GeoDataFrame({"code": [code], "name": ["测试社区"]},
                             geometry=[shapely.box(113.1, 25.8, 113.12, 25.82)], crs=4326)
    return frame.to_json().encode()


@pytest.fixture
def committed(database_url: str) -> Iterator[str]:
    """Deletes what the API/CLI committed for communities 431002002xxx."""
    yield database_url
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM household WHERE ref LIKE 'api-%' OR ref LIKE 'cli-%'")
        conn.execute("DELETE FROM grid WHERE community_code LIKE '431002002%'")
        conn.execute("DELETE FROM community WHERE code LIKE '431002002%'")


def _grids_csv(community: str) -> bytes:
    rows = ["code,name,wkt"]
    for i, (x0, x1) in enumerate([(113.1, 113.11), (113.11, 113.12)], start=1):
        rows.append(f'{community}00{i},网格{i},"{shapely.box(x0, 25.8, x1, 25.82).wkt}"')
    return ("\n".join(rows) + "\n").encode("utf-8")


def test_upload_imports_and_reports(client, committed):
    r = client.post("/imports/communities", files={"file": ("c.geojson", _geojson_community(COMMUNITY))})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 1
    r = client.post("/imports/grids", files={"file": ("g.csv", _grids_csv(COMMUNITY))})
    assert r.status_code == 200, r.text
    households = ("编号,地址,lon,lat\n"
                  "api-1,一号,113.105,25.81\napi-2,二号,113.11,25.81\napi-3,三号,113.2,25.81\n")
    r = client.post("/imports/households", files={"file": ("h.csv", households.encode("gb18030"))})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {"layer": "households", "rows": 3, "placements": {"inside": 1, "border": 1, "outside": 1},
                    "outside": ["api-3"], "border": ["api-2"]}

    r = client.get("/exports/households", params={"format": "csv", "grid": COMMUNITY + "001"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    assert "api-1" in text and "api-2" in text and "api-3" not in text

    r = client.get("/exports/grids", params={"format": "gpkg", "community": COMMUNITY})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geopackage+sqlite3"


def test_upload_with_field_mapping(client, committed):
    client.post("/imports/communities", files={"file": ("c.geojson", _geojson_community("431002002002"))})
    data = "osm_id,addr,lon,lat\napi-9,九号,113.105,25.81\n".encode()
    r = client.post("/imports/households", params={"id_field": "osm_id", "field": ["address=addr"]},
                    files={"file": ("h.csv", data)})
    assert r.status_code == 200, r.text
    assert r.json()["outside"] == ["api-9"]  # no grids in that community: reported, kept


def test_bad_rows_are_422_with_every_problem(client, committed):
    data = "ref,address,lon,lat\napi-5,,113.105,25.81\napi-6,六号,25.81,113.105\n".encode()
    r = client.post("/imports/households", files={"file": ("h.csv", data)})
    assert r.status_code == 422
    body = r.json()
    assert r.headers["content-type"] == "application/json"
    got = {(e["row"], e["field"]) for e in body["errors"]}
    assert got == {(1, "address"), (2, "geometry")}
    assert any("swapped" in e["reason"] for e in body["errors"])


@pytest.mark.parametrize("name, content", [
    ("broken.xlsx", b"PK\x03\x04 nonsense"),
    ("cut.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feat'),
    ("notes.txt", b"hello"),
])
def test_broken_files_are_422(client, name, content):
    r = client.post("/imports/households", files={"file": (name, content)})
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "file" and name in error["reason"]


def test_unknown_layer_is_404_and_bad_mapping_422(client):
    assert client.post("/imports/planets", files={"file": ("a.csv", b"x\n1\n")}).status_code == 404
    assert client.get("/exports/planets").status_code == 404
    r = client.post("/imports/households", params={"field": "oops"}, files={"file": ("a.csv", b"x\n1\n")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "field"
    assert client.get("/exports/persons", params={"format": "shp"}).status_code == 422
    assert client.get("/exports/households", params={"format": "kml"}).status_code == 422


# --- the command line ----------------------------------------------------------------------------

@pytest.fixture
def cli(committed, monkeypatch, tmp_path):
    from api.cli import app

    monkeypatch.setenv("GRIDMAP_DATABASE_URL", committed)
    monkeypatch.chdir(tmp_path)  # no stray .env
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_import_prints_the_report_and_export_writes_the_file(cli, tmp_path):
    (tmp_path / "c.geojson").write_bytes(_geojson_community("431002002003"))
    (tmp_path / "g.csv").write_bytes(_grids_csv("431002002003"))
    (tmp_path / "h.csv").write_text("osm_id,addr,lng,lat\ncli-1,一号,113.105,25.81\ncli-2,二号,113.3,25.81\n")
    assert cli("import", "communities", str(tmp_path / "c.geojson")).exit_code == 0
    assert cli("import", "grids", str(tmp_path / "g.csv")).exit_code == 0
    result = cli("import", "households", str(tmp_path / "h.csv"),
                 "--id-field", "osm_id", "--address-field", "addr")
    assert result.exit_code == 0, result.output
    assert "households: 2 rows imported" in result.output
    assert "outside every grid (1): cli-2" in result.output
    out = tmp_path / "out.xlsx"
    result = cli("export", "households", str(out), "--community", "431002002003", "--crs", "gcj02")
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


def test_cli_import_lists_every_problem_and_exits_2(cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("ref,address,lon,lat\ncli-7,,113.105,25.81\ncli-8,八号,x,25.81\n")
    result = cli("import", "households", str(path), "--field-map", "address=address")
    assert result.exit_code == 2
    assert "row 1  address: required, but empty" in result.output
    assert "row 2  lon: 'x' is not a number" in result.output


def test_cli_rejects_stray_arguments(cli, tmp_path):
    result = cli("import", "households", str(tmp_path / "x.csv"), "--bogus")
    assert result.exit_code == 2


def test_field_map_parser():
    from api.cli.data import extra_field_map

    assert extra_field_map(["--category-field", "type", "--street-name-field=街道"]) == {
        "category": "type", "street_name": "街道"}
