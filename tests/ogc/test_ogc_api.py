"""OGC API - Features over HTTP: landing page, conformance, OpenAPI, collections, items, CRS, CQL2."""

from __future__ import annotations

import httpx
import pytest
from pyproj import Transformer

VISIBLE = {"communities", "grids", "buildings", "schools", "places", "road_sections", "perimeter_violations",
           "compounds", "facilities"}
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


def get(live, path: str, **params) -> httpx.Response:
    return httpx.get(f"{live.url}/ogc{path}", params=params, headers=live.headers, timeout=30)


def follow(live, url: str) -> httpx.Response:
    return httpx.get(url, headers=live.headers, timeout=30)


def count(db, query: str, *args) -> int:
    return db.execute(query, args or None).fetchone()[0]


def test_landing_page_links(live):
    r = get(live, "/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    rels = {link["rel"]: link for link in r.json()["links"]}
    assert {"service-desc", "data", "conformance", "self"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert follow(live, rels["service-desc"]["href"]).json()["openapi"].startswith("3.0")
    assert follow(live, rels["data"]["href"]).status_code == 200


def test_conformance_declares_parts_1_to_3(live):
    conforms = get(live, "/conformance").json()["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-2/1.0/conf/crs",
                 "ogcapi-features-3/1.0/conf/filter", "cql2/1.0/conf/cql2-text"):
        assert any(c.endswith(part) for c in conforms), part


def test_collections_with_extents_and_no_personal_layers(live, db):
    body = get(live, "/collections").json()
    ids = {c["id"] for c in body["collections"]}
    # The client is an admin of everything: households are offered (narrowed to the caller's grids
    # by row-level security), persons never are.
    assert ids == VISIBLE | {"households"}
    places = next(c for c in body["collections"] if c["id"] == "places")
    minx, miny, maxx, maxy = places["extent"]["spatial"]["bbox"][0]
    ext = db.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                     "FROM (SELECT ST_Extent(geom) e FROM place) x").fetchone()
    assert (minx, miny, maxx, maxy) == pytest.approx(ext)
    assert EPSG4490 in places["crs"]
    households = get(live, "/collections/households/items", limit=5).json()["features"]
    assert all(set(f["properties"]) <= {"id", "grid_code", "placement"} for f in households)
    assert get(live, "/collections/persons/items").status_code == 404


def test_openapi_lists_queryables_as_parameters(live):
    doc = get(live, "/api").json()
    params = {p["name"] for p in doc["paths"]["/collections/places/items"]["get"]["parameters"]}
    assert {"limit", "offset", "bbox", "bbox-crs", "crs", "filter", "filter-lang"} <= params
    assert {"category", "name", "ref", "address", "id"} <= params
    household_params = {p["name"] for p in doc["paths"]["/collections/households/items"]["get"]["parameters"]}
    assert not household_params & {"address", "name", "id_number", "phone"}  # no personal field offered


def test_items_paging_and_counts(live, db):
    total = count(db, "SELECT count(*) FROM place")
    r = get(live, "/collections/places/items")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["numberMatched"] == total and body["numberReturned"] == 100 == len(body["features"])
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    page2 = follow(live, nxt).json()
    assert page2["numberReturned"] == 100
    assert not {f["id"] for f in body["features"]} & {f["id"] for f in page2["features"]}
    last = get(live, "/collections/places/items", limit=1000, offset=2000).json()
    assert last["numberReturned"] == total - 2000
    assert not [link for link in last["links"] if link["rel"] == "next"]
    feature = body["features"][0]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    assert set(feature["properties"]) == {"id", "ref", "name", "category", "address"}
    # limit over the maximum is served as the maximum (Part 1 asks so), not refused
    assert get(live, "/collections/places/items", limit=50_000).json()["numberReturned"] == total


def test_single_item_and_404s(live, db):
    pid, ref = db.execute("SELECT id, ref FROM place ORDER BY id LIMIT 1").fetchone()
    r = get(live, f"/collections/places/items/{pid}")
    assert r.status_code == 200 and r.json()["properties"]["ref"] == ref and r.json()["id"] == pid
    grid = get(live, "/collections/grids/items/431002001001002").json()
    assert grid["properties"]["name"] == "Grid 2" and grid["geometry"]["type"] == "MultiPolygon"
    assert get(live, "/collections/places/items/999999999").status_code == 404
    assert get(live, "/collections/places/items/not-a-number").status_code == 404
    assert get(live, "/collections/nowhere/items").status_code == 404


def test_bbox_subset(live, db):
    bbox = (113.0, 25.75, 113.02, 25.77)
    expected = count(db, "SELECT count(*) FROM place "
                         "WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
                     *bbox)
    assert 0 < expected < N_PLACES_HALF
    body = get(live, "/collections/places/items", bbox=",".join(map(str, bbox)), limit=10_000).json()
    assert body["numberMatched"] == expected == len(body["features"])
    for f in body["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


N_PLACES_HALF = 1_250


def test_property_equality_parameter(live, db):
    expected = count(db, "SELECT count(*) FROM place WHERE category = 'bar'")
    body = get(live, "/collections/places/items", category="bar", limit=10_000).json()
    assert body["numberMatched"] == expected > 0
    assert {f["properties"]["category"] for f in body["features"]} == {"bar"}
    assert get(live, "/collections/buildings/items", floors="abc").status_code == 400


def test_crs_4490_output_and_bbox_crs(live, db):
    pid, lon, lat = db.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM place ORDER BY id LIMIT 1").fetchone()
    r = get(live, f"/collections/places/items/{pid}", crs=EPSG4490)
    assert r.status_code == 200 and r.headers["content-crs"] == f"<{EPSG4490}>"
    # EPSG:4490 is latitude-first; CGCS2000 and WGS 84 agree to well under a metre here.
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:4490").transform(lat, lon)
    assert r.json()["geometry"]["coordinates"] == pytest.approx([x, y], abs=1e-6)
    assert r.json()["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-6)
    items = get(live, "/collections/places/items", crs=EPSG4490, limit=5)
    assert items.headers["content-crs"] == f"<{EPSG4490}>"
    # bbox in EPSG:4490 axis order (lat, lon) selects the same places as in CRS84
    crs84 = get(live, "/collections/places/items", bbox="113.0,25.75,113.02,25.77").json()["numberMatched"]
    latlon = get(live, "/collections/places/items", bbox="25.75,113.0,25.77,113.02",
                 **{"bbox-crs": EPSG4490}).json()["numberMatched"]
    assert crs84 == latlon > 0
    bad = get(live, "/collections/places/items", crs="EPSG:3857")
    assert bad.status_code == 400 and bad.json()["code"] == "InvalidParameterValue"


@pytest.mark.parametrize(("cql", "where"), [
    ("category = 'internet_cafe'", "category = 'internet_cafe'"),
    ("category IN ('bar', 'internet_cafe') AND id > 100",
     "category IN ('bar', 'internet_cafe') AND id > 100"),
    ("name LIKE 'Place 12%'", "name LIKE 'Place 12%'"),
    ("NOT (category = 'small_shop') OR id BETWEEN 10 AND 20",
     "NOT (category = 'small_shop') OR id BETWEEN 10 AND 20"),
    ("CASEI(name) = casei('PLACE 7')", "lower(name) = 'place 7'"),
    ("S_INTERSECTS(geom, POLYGON((113 25.75, 113.02 25.75, 113.02 25.77, 113 25.77, 113 25.75)))",
     "ST_Intersects(geom, ST_MakeEnvelope(113, 25.75, 113.02, 25.77, 4326))"),
    ("BBOX(geom, 113, 25.75, 113.02, 25.77) AND category <> 'bar'",
     "ST_Intersects(geom, ST_MakeEnvelope(113, 25.75, 113.02, 25.77, 4326)) AND category <> 'bar'"),
    ("address IS NOT NULL", "address IS NOT NULL"),
])
def test_cql2_filter_matches_sql(live, db, cql, where):
    expected = count(db, f"SELECT count(*) FROM place WHERE {where}")
    r = get(live, "/collections/places/items", filter=cql, limit=1)
    assert r.status_code == 200, r.text
    assert r.json()["numberMatched"] == expected > 0


def test_cql2_on_joined_collections(live, db):
    body = get(live, "/collections/perimeter_violations/items", filter="distance_m < 200").json()
    assert body["numberMatched"] == 2  # the closed violation is not served
    assert {f["properties"]["school_name"] for f in body["features"]} == {"No. 1 Primary"}
    roads = get(live, "/collections/road_sections/items", filter="unit_name = 'District Bureau'").json()
    assert roads["numberMatched"] == 2
    assert get(live, "/collections/road_sections/items").json()["numberMatched"] == 9  # retired one hidden
    dated = get(live, "/collections/perimeter_violations/items", filter="found_on >= DATE('2000-01-01')")
    assert dated.json()["numberMatched"] == 2


@pytest.mark.parametrize("bad", [
    "category = ",                       # syntax
    "colour = 'red'",                    # unknown property
    "id = 'abc'",                        # wrong type
    "name > 3",                          # wrong type
    "S_INTERSECTS(name, POINT(1 2))",    # not the geometry
    "floors + 1 > 2",                    # arithmetic: not offered
    "S_INTERSECTS(geom, POLYGON((0 0, 1 1, 0 1, 1 0, 0 0)))",  # invalid (self-intersecting) geometry
    "S_INTERSECTS(geom, POINT(200 95))",  # outside the globe: would make ST_Transform fail
])
def test_bad_filters_are_400_not_500(live, bad):
    r = get(live, "/collections/places/items", filter=bad)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue" and body["errors"][0]["field"] == "filter"


def test_filter_values_are_bound_not_spliced(live, db):
    """An injection attempt is a literal that matches nothing, and the table survives."""
    before = count(db, "SELECT count(*) FROM place")
    evil = "name = 'x); DROP TABLE place; --' OR name = 'Place 1'"
    r = get(live, "/collections/places/items", filter=evil)
    assert r.status_code == 200 and r.json()["numberMatched"] == 1
    r = get(live, "/collections/places/items", category="x'; DROP TABLE place; --")
    assert r.status_code == 200 and r.json()["numberMatched"] == 0
    assert count(db, "SELECT count(*) FROM place") == before


def test_bad_parameters_are_400(live):
    for params in ({"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"bbox": "1,2,3"}, {"bbox": "3,2,1,4"},
                   {"colour": "red"}, {"filter-lang": "ecql"}):
        r = get(live, "/collections/places/items", **params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["errors"], params


def test_queryables_schema(live):
    body = get(live, "/collections/buildings/queryables").json()
    assert body["properties"]["floors"]["type"] == "integer"
    assert body["properties"]["name"]["type"] == "string"
    assert body["properties"]["geom"]["format"] == "geometry-any"


def test_filter_crs_is_latitude_first_for_epsg_uris(live):
    crs84 = get(live, "/collections/places/items", filter="BBOX(geom, 113, 25.75, 113.02, 25.77)")
    latlon = get(live, "/collections/places/items", filter="BBOX(geom, 25.75, 113, 25.77, 113.02)",
                 **{"filter-crs": EPSG4490})
    assert latlon.status_code == 200, latlon.text
    assert crs84.json()["numberMatched"] == latlon.json()["numberMatched"] > 0


def test_datetime_without_temporal_property_is_400(live):
    """places have no date: a datetime the collection cannot honour is refused, not ignored."""
    r = get(live, "/collections/places/items", datetime="2026-01-01T00:00:00Z", limit=1)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "datetime"
