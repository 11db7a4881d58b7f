"""sortby, properties and skipGeometry; HEAD; 404/400 bodies with the OGC exception fields; GeoJSON
as RFC 7946 has it (no "crs" member, outer rings counter-clockwise, holes clockwise); the new
parameters in the OpenAPI document; CORS for the configured origins (GRIDMAP_CORS_ORIGINS).
Orders and orientations are checked against the rows read as the owner, sorted or tested in Python."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient

from api.cors import install_cors
from gis.settings import Settings
from tests.conftest import sign_in_admin

EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"


def get(live, path: str, **params) -> httpx.Response:
    return httpx.get(f"{live.url}/ogc{path}", headers=live.headers, params=params, timeout=60)


def owner_rows(db, query: str) -> list[tuple]:
    return db.execute(query).fetchall()


# --- sortby ---------------------------------------------------------------------------------------

def _order(rows: list[tuple], keys: list[tuple[int, bool]]) -> list:
    """Rows (id first) sorted like the API promises: each key in turn, empty values last in either
    direction, text by code point, then the id."""
    ordered = sorted(rows, key=lambda r: r[0])
    for index, descending in reversed(keys):
        present = sorted((r for r in ordered if r[index] is not None), key=lambda r: r[index],
                         reverse=descending)
        ordered = present + [r for r in ordered if r[index] is None]
    return [r[0] for r in ordered]


@pytest.mark.parametrize(("sortby", "keys"), [
    ("-category,name", [(1, True), (2, False)]),
    ("name", [(2, False)]),
    ("+category,-id", [(1, False), (0, True)]),
])
def test_sortby_orders_places_like_python(live, db, sortby, keys):
    rows = owner_rows(db, "SELECT id, category, name FROM place")
    body = get(live, "/collections/places/items", sortby=sortby, limit=10000, skipGeometry="true").json()
    assert [f["id"] for f in body["features"]] == _order(rows, keys)


def test_sortby_plus_sent_unencoded_and_empty_values_last(live, db):
    rows = owner_rows(db, """SELECT s.id, u.name FROM road_section s
                             LEFT JOIN road_section_assignment a
                                    ON a.section_id = s.id AND a.valid @> current_date
                             LEFT JOIN responsible_unit u ON u.id = a.unit_id WHERE s.retired_on IS NULL""")
    for raw, descending in (("+unit_name,-id", False), ("-unit_name,-id", True)):
        # a literal + in a query string is a blank: the key still sorts ascending
        r = httpx.get(f"{live.url}/ogc/collections/road_sections/items?sortby={raw}", headers=live.headers)
        assert r.status_code == 200, r.text
        assert [f["id"] for f in r.json()["features"]] == _order(rows, [(1, descending), (0, True)])
        assert r.json()["features"][-1]["properties"]["unit_name"] is None


def test_sortby_pages_do_not_overlap(live, db):
    seen: list[int] = []
    for offset in range(0, 120, 25):
        page = get(live, "/collections/buildings/items", sortby="-floors", limit=25, offset=offset).json()
        seen += [f["id"] for f in page["features"]]
    assert len(seen) == len(set(seen)) == db.execute("SELECT count(*) FROM building").fetchone()[0]


@pytest.mark.parametrize("bad", ["colour", "name,-colour", "-", "geom"])
def test_sortby_only_queryables(live, bad):
    r = get(live, "/collections/places/items", sortby=bad)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "InvalidParameterValue" and r.json()["errors"][0]["field"] == "sortby"


# --- properties and skipGeometry ------------------------------------------------------------------

def test_properties_subset(live, db):
    body = get(live, "/collections/places/items", properties="name,category", limit=50).json()
    assert all(set(f["properties"]) == {"name", "category"} for f in body["features"])
    by_id = dict(owner_rows(db, "SELECT id, name FROM place"))
    assert all(f["properties"]["name"] == by_id[f["id"]] for f in body["features"])
    none = get(live, "/collections/places/items", properties="", limit=5).json()
    assert all(f["properties"] == {} and f["geometry"] for f in none["features"])
    r = get(live, "/collections/places/items", properties="name,secret")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "properties"


def test_skip_geometry(live):
    body = get(live, "/collections/grids/items", skipGeometry="true").json()
    assert body["features"] and all(f["geometry"] is None and f["properties"] for f in body["features"])
    kept = get(live, "/collections/grids/items", skipGeometry="false").json()
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in kept["features"])
    r = get(live, "/collections/grids/items", skipGeometry="yes please")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "skipGeometry"


# --- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/collections/nope", "/collections/nope/items",
                                  "/collections/nope/queryables",
                                  "/collections/places/items/99999999", "/collections/places/items/abc",
                                  "/collections/nope/items/1"])
def test_404_bodies_carry_the_ogc_fields(live, path):
    r = get(live, path)
    assert r.status_code == 404, r.text
    body = r.json()
    assert body["code"] == "NotFound" and body["description"] and body["detail"] == body["description"]
    assert body["errors"] == []


def test_400_bodies_carry_the_ogc_fields(live):
    r = get(live, "/collections/places/items", limit="x", sortby="colour")
    body = r.json()
    assert r.status_code == 400 and body["code"] == "InvalidParameterValue" and body["description"]
    assert {e["field"] for e in body["errors"]} == {"limit", "sortby"}


# --- GeoJSON as RFC 7946 has it -------------------------------------------------------------------

@pytest.fixture(scope="module")
def holed_building(ogc_database_url) -> Iterator[int]:
    """A building drawn the wrong way round: outer ring clockwise, its courtyard counter-clockwise."""
    with psycopg.connect(ogc_database_url) as conn:
        (building_id,) = conn.execute(
            """INSERT INTO building (ref, name, floors, grid_code, geom) VALUES ('BH', 'Courtyard house', 2,
                 '431002001001001', ST_GeomFromText('POLYGON((113.01 25.75, 113.01 25.752, 113.012 25.752,
                 113.012 25.75, 113.01 25.75), (113.0105 25.7505, 113.0115 25.7505, 113.0115 25.7515,
                 113.0105 25.7515, 113.0105 25.7505))', 4326)) RETURNING id""").fetchone()
        conn.commit()
        yield building_id
        conn.execute("DELETE FROM building WHERE id = %s", [building_id])
        conn.commit()


def _rings(geometry: dict, lat_first: bool = False) -> list[tuple[bool, bool]]:
    """(is an outer ring, is counter-clockwise in lon/lat) for every ring of a GeoJSON geometry."""
    polygons = ([geometry["coordinates"]] if geometry["type"] == "Polygon" else
                geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [])
    found = []
    for polygon in polygons:
        for i, ring in enumerate(polygon):
            points = [(p[1], p[0]) if lat_first else (p[0], p[1]) for p in ring]
            found.append((i == 0, bool(shapely.is_ccw(shapely.LinearRing(points)))))
    return found


@pytest.mark.parametrize("crs", [None, EPSG4326, EPSG4490])
def test_outer_rings_counter_clockwise_holes_clockwise(live, holed_building, crs):
    params = {"crs": crs} if crs else {}
    rings = []
    for collection in ("grids", "communities", "buildings"):
        body = get(live, f"/collections/{collection}/items", limit=1000, **params).json()
        for f in body["features"]:
            rings += _rings(f["geometry"], lat_first=crs is not None)
    one = get(live, f"/collections/buildings/items/{holed_building}", **params).json()
    holed = _rings(one["geometry"], lat_first=crs is not None)
    assert holed == [(True, True), (False, False)]
    assert rings and all(outer == ccw for outer, ccw in rings)


@pytest.mark.parametrize("crs", [None, EPSG4490])
def test_no_geojson_2008_crs_member(live, crs):
    params = {"crs": crs} if crs else {}
    for path in ("/collections/places/items", "/collections/grids/items"):
        body = get(live, path, limit=20, **params).json()
        features = body["features"]
        assert features and all("crs" not in f["geometry"] and "crs" not in f for f in features)
    one = get(live, "/collections/grids/items/431002001001001", **params).json()
    assert "crs" not in one["geometry"]


# --- OpenAPI --------------------------------------------------------------------------------------

def test_openapi_declares_the_new_parameters(live):
    doc = httpx.get(f"{live.url}/ogc/api", headers=live.headers).json()
    for collection in ("places", "perimeter_violations"):
        params = {p["name"]: p for p in doc["paths"][f"/collections/{collection}/items"]["get"]["parameters"]}
        assert {"sortby", "properties", "skipGeometry", "filter", "filter-lang"} <= set(params)
        assert params["filter-lang"]["schema"]["enum"] == ["cql2-text", "cql2-json"]
        assert params["skipGeometry"]["schema"]["type"] == "boolean"
        assert ("datetime" in params) == (collection == "perimeter_violations")
    conformance = httpx.get(f"{live.url}/ogc/conformance", headers=live.headers).json()["conformsTo"]
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in conformance


# --- HEAD and CORS on the app as api/app.py builds it, with install_cors ----------------------------

@pytest.fixture(scope="module")
def app_with_cors(ogc_database_url, tmp_path_factory):
    from api.app import create_app

    def build(origins: str) -> tuple[object, str]:
        settings = Settings(database_url=ogc_database_url, data_dir=tmp_path_factory.mktemp("cors"),
                            cors_origins=origins, _env_file=None)
        app = create_app(settings)
        install_cors(app, settings)
        return app, sign_in_admin(ogc_database_url, settings)
    return build


@pytest.mark.parametrize("path", ["/ogc", "/ogc/", "/ogc/conformance", "/ogc/api", "/ogc/collections",
                                  "/ogc/collections/places", "/ogc/collections/places/queryables",
                                  "/ogc/collections/places/items?limit=3&sortby=-name",
                                  "/ogc/collections/grids/items/431002001001001"])
def test_head_on_every_ogc_get_route(app_with_cors, path):
    app, token = app_with_cors("")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        full, head = client.get(path), client.head(path)
    assert full.status_code == head.status_code == 200, (path, full.text)
    assert head.content == b""
    assert head.headers["content-type"] == full.headers["content-type"]
    assert int(head.headers["content-length"]) == len(full.content)


def test_head_answers_the_get_status(app_with_cors):
    app, token = app_with_cors("")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.head("/ogc/collections/nope").status_code == 404
        assert client.head("/ogc/collections/places/items?limit=0").status_code == 400
    with TestClient(app) as anonymous:
        assert anonymous.head("/ogc/collections/places/items").status_code == 401


def test_head_through_a_real_server(app_with_cors, serve_app):
    app, token = app_with_cors("")
    with serve_app(app) as url:
        r = httpx.head(f"{url}/ogc/collections/places/items?limit=5",
                       headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.content == b"" and int(r.headers["content-length"]) > 100


def test_cors_for_the_configured_origins_only(app_with_cors):
    app, token = app_with_cors("https://map.example.cn, http://localhost:5173")
    with TestClient(app) as client:
        pre = client.options("/ogc/collections/places/items", headers={
            "Origin": "https://map.example.cn", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        assert pre.status_code == 200, pre.text
        assert pre.headers["access-control-allow-origin"] == "https://map.example.cn"
        assert "authorization" in pre.headers["access-control-allow-headers"].lower()
        r = client.get("/ogc/collections/places/items?limit=1",
                       headers={"Origin": "http://localhost:5173", "Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert "content-crs" in r.headers["access-control-expose-headers"].lower()
        other = client.get("/ogc/collections", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        refused = client.options("/ogc/collections", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in refused.headers


def test_no_cors_headers_unless_configured(app_with_cors):
    app, _ = app_with_cors("")
    with TestClient(app) as client:
        r = client.get("/ogc/collections", headers={"Origin": "https://map.example.cn"})
        assert "access-control-allow-origin" not in r.headers
