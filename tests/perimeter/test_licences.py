"""Licences in the whole jurisdiction (证照齐全、亮证经营): the listing against an independent evaluation
in Python over the rows fetched separately (licences, places, communities and grids as shapely
geometries), in every format (csv/openpyxl/json reading the outputs), scoped, through the CLI and
the API."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import numpy as np
import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from gis.errors import InvalidInput, NotFound
from gis.perimeter.export import Stream, rows, xlsx_bytes
from gis.perimeter.licences import COLUMNS, licence_listing
from tests.perimeter.conftest import CHENZHOU, DAY, World, offset

WEST, EAST = "431002001001", "431002001002"  # two communities side by side
GRIDS = ("431002001001001", "431002001001002")  # two grids covering the west community's south half
CATEGORIES = ["food_shop", "small_shop", "publication_shop", "restaurant", "internet_cafe", "other"]
HOSTILE = "=HYPERLINK(\"http://x\",\"x\")"


def _box(west: float, south: float, east: float, north: float) -> shapely.Polygon:
    return shapely.box(west, south, east, north)


def _city(world: World, n: int = 400, seed: int = 11) -> None:
    """Two 1 km communities, two grids over half of one, and shops scattered over 3 km (many outside
    every community) with every kind of licence history."""
    x0, y0 = CHENZHOU
    x1 = offset(x0, y0, 90, 1000)[0]
    x2 = offset(x0, y0, 90, 2000)[0]
    y_mid = offset(x0, y0, 0, 500)[1]
    y1 = offset(x0, y0, 0, 1000)[1]
    world.community(WEST, _box(x0, y0, x1, y1))
    world.community(EAST, _box(x1, y0, x2, y1))
    x_half = (x0 + x1) / 2
    world.grid(GRIDS[0], _box(x0, y0, x_half, y_mid))
    world.grid(GRIDS[1], _box(x_half, y0, x1, y_mid))
    rng = np.random.default_rng(seed)
    histories = [[], [(DAY, True)], [(DAY - timedelta(days=1), True)], [(None, True)], [(None, False)],
                 [(DAY + timedelta(days=30), False)], [(DAY - timedelta(days=9), True), (DAY, False)],
                 [(DAY - timedelta(days=9), False), (DAY + timedelta(days=1), True)]]
    west, south = offset(x0, y0, 270, 500)[0], offset(x0, y0, 180, 500)[1]
    east, north = offset(x2, y0, 90, 500)[0], offset(x0, y1, 0, 500)[1]
    shops = [{"ref": f"s{i:04d}", "category": str(rng.choice(CATEGORIES)),
              "lon": float(rng.uniform(west, east)), "lat": float(rng.uniform(south, north)),
              "licences": histories[int(rng.integers(len(histories)))]} for i in range(n)]
    # On the line between the two grids, and exactly on the community boundary.
    shops.append({"ref": "border", "category": "food_shop", "lon": x_half, "lat": (y0 + y_mid) / 2})
    shops.append({"ref": "between", "category": "small_shop", "lon": x1, "lat": (y_mid + y1) / 2})
    world.places(shops)
    world.conn.execute("UPDATE place SET name = %s WHERE ref = 's0000'", [HOSTILE])


def _expected(conn: psycopg.Connection, day: date, categories: list[str] | None = None,
              area: shapely.Geometry | None = None) -> dict[str, dict]:
    """The listing computed in Python from plain rows: the licence rule, the placement by shapely."""
    if categories is None:
        categories = [r[0] for r in conn.execute(
            "SELECT DISTINCT category FROM perimeter_rule WHERE kind = 'licence_required'").fetchall()]
    places = conn.execute("SELECT id, ref, category, ST_X(geom), ST_Y(geom) FROM place").fetchall()
    licences: dict[int, list[tuple[date | None, bool]]] = {}
    for place_id, until, shown in conn.execute("SELECT place_id, valid_until, displayed FROM licence"):
        licences.setdefault(place_id, []).append((until, shown))
    communities = [(c, shapely.from_wkb(g)) for c, g in
                   conn.execute("SELECT code, ST_AsBinary(geom) FROM community ORDER BY code").fetchall()]
    grids = [(c, shapely.from_wkb(g)) for c, g in
             conn.execute("SELECT code, ST_AsBinary(geom) FROM grid ORDER BY code").fetchall()]
    expected = {}
    for place_id, ref, category, lon, lat in places:
        point = shapely.Point(lon, lat)
        if category not in categories or (area is not None and not area.intersects(point)):
            continue
        held = licences.get(place_id, [])
        valid = [shown for until, shown in held if until is None or until >= day]
        if any(valid):
            continue
        state = "missing" if not held else "not_displayed" if valid else "expired"
        in_grids = [code for code, g in grids if g.intersects(point)]
        placement = ("outside" if not in_grids else
                     "border" if len(in_grids) > 1 or not grids[[c for c, _ in grids].index(in_grids[0])][1]
                     .contains(point) else "inside")
        expected[ref] = {
            "licence_state": state, "grid_code": in_grids[0] if in_grids else None, "placement": placement,
            "community_code": next((code for code, g in communities if g.intersects(point)), None)}
    return expected


def _got(listed: list[dict]) -> dict[str, dict]:
    return {r["place_ref"]: {k: r[k] for k in ("licence_state", "grid_code", "placement", "community_code")}
            for r in listed}


def test_listing_matches_an_independent_evaluation(conn, world):
    _city(world)
    listed = rows(conn, licence_listing(conn, DAY))
    expected = _expected(conn, DAY)
    assert _got(listed) == expected
    states = {e["licence_state"] for e in expected.values()}
    assert states == {"missing", "expired", "not_displayed"}, "every state is exercised"
    assert any(e["grid_code"] is None and e["community_code"] for e in expected.values())
    assert any(e["community_code"] is None for e in expected.values()), "outside every community: listed"
    assert _got(listed)["border"]["placement"] == "border"
    assert _got(listed)["between"]["community_code"] == WEST  # on the line: the lower code
    # by community, then grid (empty last), then shop
    keys = [(r["community_code"] or "~", r["grid_code"] or "~", r["place_ref"]) for r in listed]
    assert keys == sorted(keys)
    # another day, other categories: still the same rule
    later = DAY + timedelta(days=2)
    chosen = ["restaurant", "food_shop"]
    assert _got(rows(conn, licence_listing(conn, later, categories=chosen))) == _expected(conn, later, chosen)


def test_scopes_by_geometry_and_bad_input(conn, world):
    _city(world)
    west = shapely.from_wkb(conn.execute("SELECT ST_AsBinary(geom) FROM community WHERE code = %s",
                                         [WEST]).fetchone()[0])
    grid = shapely.from_wkb(conn.execute("SELECT ST_AsBinary(geom) FROM grid WHERE code = %s",
                                         [GRIDS[1]]).fetchone()[0])
    assert _got(rows(conn, licence_listing(conn, DAY, community=WEST))) == _expected(conn, DAY, area=west)
    assert _got(rows(conn, licence_listing(conn, DAY, grid=GRIDS[1]))) == _expected(conn, DAY, area=grid)
    with pytest.raises(NotFound):
        licence_listing(conn, DAY, community="431002001999")
    with pytest.raises(InvalidInput) as bad:
        licence_listing(conn, DAY, categories=["food_shop", "casino"])
    assert bad.value.problems[0].field == "category" and "casino" in str(bad.value)
    with pytest.raises(InvalidInput):
        licence_listing(conn, DAY, community=WEST, grid=GRIDS[0])


def _streamed(conn: psycopg.Connection, fmt: str) -> bytes:
    return b"".join(Stream(conn, licence_listing(conn, DAY), fmt))


def test_every_format_says_the_same(conn, world):
    _city(world)
    expected = _expected(conn, DAY)
    data = _streamed(conn, "csv")
    assert data.startswith("\ufeff".encode()), "a UTF-8 BOM for Excel"
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == [c.header for c in COLUMNS] and table[0][:2] == ["社区编码", "社区名称"]
    by_ref = {r[5]: r for r in table[1:]}
    assert set(by_ref) == set(expected)
    state_zh = {"missing": "无证", "expired": "证照过期", "not_displayed": "未亮证"}
    for ref, e in expected.items():
        assert by_ref[ref][0] == (e["community_code"] or "") and by_ref[ref][2] == (e["grid_code"] or "")
        assert by_ref[ref][9] == state_zh[e["licence_state"]]
    if "s0000" in by_ref:
        assert by_ref["s0000"][6] == "'" + HOSTILE, "a formula is kept as text"
    body = json.loads(_streamed(conn, "json"))
    assert body["count"] == len(expected) and body["date"] == DAY.isoformat()
    assert _got(body["shops"]) == expected
    features = json.loads(_streamed(conn, "geojson"))["features"]
    assert {f["properties"]["place_ref"]: f["properties"]["licence_state"] for f in features} == {
        ref: e["licence_state"] for ref, e in expected.items()}
    assert all(f["geometry"]["type"] == "Point" for f in features)
    listing = licence_listing(conn, DAY)
    sheet = load_workbook(io.BytesIO(xlsx_bytes(rows(conn, listing), listing))).active
    assert sheet["A1"].value == "社区编码" and sheet.max_row == len(expected) + 1
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_empty_listing_is_valid_json(conn, world):
    _city(world, n=0)
    conn.execute("DELETE FROM place")
    assert json.loads(_streamed(conn, "json"))["count"] == 0
    assert json.loads(_streamed(conn, "geojson"))["features"] == []
    assert _streamed(conn, "csv").decode("utf-8-sig").splitlines() == [",".join(c.header for c in COLUMNS)]


@pytest.fixture
def committed_city(perimeter_url, clean):
    with psycopg.connect(perimeter_url) as c:
        _city(World(c), n=120)
    with psycopg.connect(perimeter_url) as c:
        expected = _expected(c, DAY)
    yield expected
    clean()


def test_cli_and_api(committed_city, perimeter_url, perimeter_settings, monkeypatch, tmp_path):
    from tests.conftest import sign_in_admin

    expected = committed_city
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", perimeter_url)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["check", "licences", "--date", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert {r["场所编号"] for r in table} == set(expected)
    result = runner.invoke(cli, ["check", "licences", "--format", "json", "--date", DAY.isoformat(),
                                 "--community", WEST])
    assert result.exit_code == 0, result.output
    west = {ref for ref, e in expected.items() if e["community_code"] == WEST}
    assert {r["place_ref"] for r in json.loads(result.stdout)["shops"]} >= west
    out = tmp_path / "shops.xlsx"
    result = runner.invoke(cli, ["check", "licences", "--format", "xlsx", "--output", str(out), "--date",
                                 DAY.isoformat(), "--category", "restaurant"])
    assert result.exit_code == 0 and load_workbook(out).active["F1"].value == "场所编号"
    assert runner.invoke(cli, ["check", "licences", "--category", "casino"]).exit_code == 2

    token = sign_in_admin(perimeter_url, perimeter_settings)
    with TestClient(create_app(perimeter_settings), headers={"Authorization": f"Bearer {token}"}) as client:
        r = client.get("/perimeter/licences", params={"date": DAY.isoformat(), "format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"] and r.content.startswith("\ufeff".encode())
        table = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert {row["场所编号"] for row in table} == set(expected)
        r = client.get("/perimeter/licences", params={"date": DAY.isoformat()})
        assert r.json()["count"] == len(expected) and _got(r.json()["shops"]) == expected
        r = client.get("/perimeter/licences", params={"date": DAY.isoformat(), "format": "geojson"})
        assert r.headers["content-type"].startswith("application/geo+json")
        assert len(r.json()["features"]) == len(expected)
        r = client.get("/perimeter/licences", params={"date": DAY.isoformat(), "format": "xlsx"})
        assert load_workbook(io.BytesIO(r.content)).active.max_row == len(expected) + 1
        assert client.get("/perimeter/licences", params={"community": "431002001999"}).status_code == 404
        assert client.get("/perimeter/licences", params={"community": "12x"}).status_code == 422
        r = client.get("/perimeter/licences", params=[("category", "food_shop"), ("category", "casino")])
        assert r.status_code == 422 and "casino" in r.text
