"""Vector tiles for every client: TileJSON 3.0.0 and OGC API - Tiles tileset metadata, MVT feature ids,
gzip, and households counted per cell below z15 (within the reader's row-level security).

An own database (the OGC fixture rows plus households in a second grid) served by uvicorn, read by an
admin and by a grid worker of the first grid only. Tiles are decoded with mapbox-vector-tile and GDAL's
MVT driver; every expected figure is counted by the owner in SQL, not by the code under test.
"""

from __future__ import annotations

import gzip
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import mapbox_vector_tile
import psycopg
import pyogrio
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api.routes.tiles import accepts_gzip
from gis.access import accounts
from gis.settings import Settings
from tests.conftest import sign_in_admin
from tests.ogc.conftest import FIXTURE_SQL, N_PLACES

GRID_1, GRID_2 = "431002001001001", "431002001001002"
# 40 households of the second grid (lon 112.9975..113.015), in the same z12..z14 tiles as the first's.
MORE_HOUSEHOLDS = """
INSERT INTO household (ref, address, grid_code, placement, geom)
SELECT 'G2-' || i, 'Other road ' || i, %s, 'inside',
       ST_Point(113.0 + (i %% 8) * 0.0007, 25.745 + (i / 8) * 0.0009, 4326)
FROM generate_series(1, 40) AS i
"""
LAYERS = ("households", "places", "grids", "road_sections")
TABLES = {"households": ("household", "true"), "places": ("place", "true"), "grids": ("grid", "true"),
          "road_sections": ("road_section", "retired_on IS NULL")}


@dataclass
class Served:
    url: str
    database_url: str
    admin: dict[str, str]
    worker: dict[str, str]  # a grid worker (网格员) of GRID_1 only


@pytest.fixture(scope="module")
def served(fresh_database, serve_app, tmp_path_factory) -> Iterator[Served]:
    from api.app import create_app

    url = fresh_database("gridmap_tiles_clients")
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL(FIXTURE_SQL).format(places=sql.Literal(N_PLACES)))  # type: ignore[arg-type]
        conn.execute(MORE_HOUSEHOLDS, [GRID_2])
        conn.commit()
    settings = Settings(database_url=url, data_dir=tmp_path_factory.mktemp("tilesdata"), _env_file=None)
    admin = sign_in_admin(url, settings)
    username, password = f"worker-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with psycopg.connect(url) as conn:
        accounts.create_user(conn, username, password)
        accounts.grant(conn, username, "grid_worker", GRID_1)
        worker, _ = accounts.issue_token(conn, username, password, settings.secret_key, timedelta(hours=1))
        conn.commit()
    with serve_app(create_app(settings)) as base:
        yield Served(base, url, {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {worker}"})


@pytest.fixture
def owner(served: Served) -> Iterator[psycopg.Connection]:
    with psycopg.connect(served.database_url) as c:
        yield c


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def get(served: Served, path: str, headers: dict[str, str] | None = None, **more: str) -> httpx.Response:
    return httpx.get(served.url + path, headers=(headers or served.admin) | more, timeout=30)


def decode(data: bytes, layer: str) -> list[dict]:
    return mapbox_vector_tile.decode(data).get(layer, {}).get("features", [])


def envelope_count(owner: psycopg.Connection, table: str, condition: str, z: int, x: int, y: int,
                   grid: str | None = None) -> int:
    """Rows whose geometry meets the tile and its 64-unit buffer, counted as the owner."""
    query = (f"SELECT count(*) FROM {table} WHERE {condition} AND ST_Intersects(ST_Transform(geom, 3857), "
             f"ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096))")
    params: list = [z, x, y]
    if grid:
        query += " AND grid_code = %s"
        params.append(grid)
    return owner.execute(query, params).fetchone()[0]  # type: ignore[index]


# --- TileJSON ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", LAYERS)
def test_tilejson_is_valid_and_its_tile_url_serves_the_layer(served, owner, layer):
    r = get(served, f"/tiles/{layer}/tilejson.json")
    assert r.status_code == 200, r.text
    doc = r.json()
    # TileJSON 3.0.0: tilejson and tiles are required; vector_layers is required for vector tiles.
    assert doc["tilejson"] == "3.0.0"
    assert isinstance(doc["tiles"], list) and doc["tiles"] and all(isinstance(t, str) for t in doc["tiles"])
    assert doc["scheme"] == "xyz"
    assert 0 <= doc["minzoom"] <= doc["maxzoom"] <= 30
    (vector,) = doc["vector_layers"]
    assert vector["id"] == layer and isinstance(vector["fields"], dict)
    assert all(isinstance(v, str) for v in vector["fields"].values())
    assert doc["minzoom"] <= vector["minzoom"] <= vector["maxzoom"] <= doc["maxzoom"]
    # bounds: the data's extent, counted as the owner
    table, condition = TABLES[layer]
    want = owner.execute(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                         f"(SELECT ST_Extent(geom) AS e FROM {table} WHERE {condition}) AS x").fetchone()
    assert doc["bounds"] == pytest.approx(list(want), abs=1e-6)
    lon, lat, zoom = doc["center"]
    assert want[0] <= lon <= want[2] and want[1] <= lat <= want[3]
    assert doc["minzoom"] <= zoom <= doc["maxzoom"]
    # the template is on the socket's address (no public URL set) and serves this layer's tiles
    template = doc["tiles"][0]
    assert template == f"{served.url}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"
    z = 15
    x, y = tile_of(lon, lat, z) if layer != "road_sections" else tile_of(113.0, 25.7701, z)
    tile = get(served, template.removeprefix(served.url).format(z=z, x=x, y=y))
    assert tile.status_code == 200 and tile.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    features = decode(tile.content, layer)
    assert len(features) == envelope_count(owner, table, condition, z, x, y) > 0
    assert {k for f in features for k in f["properties"]} <= set(vector["fields"])


def test_tilejson_links_ignore_the_host_header(served):
    doc = get(served, "/tiles/places/tilejson.json", Host="evil.example").json()
    assert "evil" not in doc["tiles"][0] and doc["tiles"][0].startswith(served.url)


def test_tilejson_links_use_the_public_url(served, tmp_path):
    from api.app import create_app

    settings = Settings(database_url=served.database_url, data_dir=tmp_path, _env_file=None,
                        public_url="https://gis.example.cn/gridmap/")
    with TestClient(create_app(settings)) as client:
        client.headers.update(served.admin)
        doc = client.get("/tiles/grids/tilejson.json", headers={"Host": "evil.example"}).json()
        meta = client.get("/tiles/grids/tileset").json()
    assert doc["tiles"] == ["https://gis.example.cn/gridmap/tiles/grids/{z}/{x}/{y}.mvt"]
    assert all(link["href"].startswith(("https://gis.example.cn/gridmap/", "http://www.opengis.net/"))
               for link in meta["links"])


def test_tilejson_bounds_are_of_the_readers_rows(served, owner):
    """A grid worker's household extent is that of her grid's households, not everyone's."""
    doc = get(served, "/tiles/households/tilejson.json", served.worker).json()
    want = owner.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom)"
                         " AS e FROM household WHERE grid_code = %s) AS x", [GRID_1]).fetchone()
    assert doc["bounds"] == pytest.approx(list(want), abs=1e-6)
    r = get(served, "/tiles/households/tilejson.json", served.worker)
    assert r.headers["cache-control"] == "no-store"


# --- OGC API - Tiles tileset metadata ----------------------------------------------------------------

@pytest.mark.parametrize("layer", LAYERS)
def test_tileset_metadata(served, layer):
    r = get(served, f"/tiles/{layer}/tileset")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["dataType"] == "vector" and doc["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    assert doc["tileMatrixSetURI"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    (described,) = doc["layers"]
    assert described["id"] == layer and described["dataType"] == "vector"
    tilejson = get(served, f"/tiles/{layer}/tilejson.json").json()
    assert set(described["propertiesSchema"]["properties"]) == set(tilejson["vector_layers"][0]["fields"])
    links = {link["rel"]: link for link in doc["links"]}
    assert links["self"]["href"] == f"{served.url}/tiles/{layer}/tileset"
    assert links["alternate"]["href"] == f"{served.url}/tiles/{layer}/tilejson.json"
    assert links["http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"]["href"] == doc["tileMatrixSetURI"]
    item = links["item"]
    assert item["templated"] is True and item["type"] == "application/vnd.mapbox-vector-tile"
    href = item["href"].format(tileMatrix=14, tileCol=0, tileRow=0)  # OGC names: col = x, row = y
    assert href == f"{served.url}/tiles/{layer}/14/0/0.mvt"
    assert get(served, href.removeprefix(served.url)).status_code == 200


def test_metadata_of_unknown_and_forbidden_layers(served):
    for path in ("/tiles/persons/tilejson.json", "/tiles/persons/tileset"):
        assert get(served, path).status_code in (403, 404)
    # places are for the perimeter readers, not a grid worker: the documents as the tiles
    for path in ("/tiles/places/tilejson.json", "/tiles/places/tileset", "/tiles/places/14/0/0.mvt"):
        assert get(served, path, served.worker).status_code == 403
    assert get(served, "/tiles/households/tileset", served.worker).status_code == 200


# --- feature ids ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("layer", "key", "z", "lon", "lat"), [
    ("places", "id", 14, 113.0, 25.76), ("grids", "code", 13, 113.0, 25.76),
    ("road_sections", "id", 14, 113.0, 25.7701), ("households", "id", 15, 112.99, 25.747),
])
def test_features_carry_their_row_id(served, tmp_path, layer, key, z, lon, lat):
    x, y = tile_of(lon, lat, z)
    data = get(served, f"/tiles/{layer}/{z}/{x}/{y}.mvt").content
    features = decode(data, layer)
    ids = [f.get("id") for f in features]
    assert features and None not in ids and len(set(ids)) == len(ids)
    assert ids == [int(f["properties"][key]) for f in features]
    # GDAL reads the same ids (its MVT driver: a lone tile georeferenced from a z/x/y.pbf path)
    path = tmp_path / str(z) / str(x) / f"{y}.pbf"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    df = pyogrio.read_dataframe(path, layer=layer, CLIP="NO", fid_as_index=True)
    assert sorted(df["mvt_id"].astype(int)) == sorted(ids)


# --- gzip -------------------------------------------------------------------------------------------------

def raw(served: Served, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent (httpx would otherwise decode the gzip itself)."""
    with httpx.stream("GET", served.url + path, headers=served.admin | headers, timeout=30) as r:
        return r, b"".join(r.iter_raw())


def test_gzip_tile_decodes_to_the_plain_tile(served):
    x, y = tile_of(113.0, 25.76, 14)
    path = f"/tiles/places/14/{x}/{y}.mvt"
    plain, plain_body = raw(served, path, **{"Accept-Encoding": "identity"})
    zipped, zipped_body = raw(served, path, **{"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped_body) == plain_body and len(zipped_body) < len(plain_body)
    for r in (plain, zipped):
        assert {v.strip() for v in r.headers["vary"].split(",")} >= {"Accept-Encoding", "Authorization"}
    assert zipped.headers["etag"] != plain.headers["etag"]
    # each ETag revalidates its own representation only
    again = get(served, path, **{"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]})
    assert again.status_code == 304
    other = get(served, path, **{"Accept-Encoding": "identity", "If-None-Match": zipped.headers["etag"]})
    assert other.status_code == 200 and other.content == plain_body
    refused, body = raw(served, path, **{"Accept-Encoding": "*, gzip;q=0"})
    assert "content-encoding" not in refused.headers and body == plain_body


@pytest.mark.parametrize(("header", "gzip_ok"), [
    ("gzip", True), ("gzip, deflate, br", True), ("x-gzip", True), ("*", True), ("GZIP;q=0.5", True),
    ("", False), ("identity", False), ("br", False), ("gzip;q=0", False), ("*;q=0", False),
    ("*, gzip;q=0", False), ("gzip;q=0.0, *;q=1", False), ("gzip;q=nonsense", False),
])
def test_accept_encoding(header, gzip_ok):
    assert accepts_gzip(header) is gzip_ok


# --- households counted per cell at low zooms --------------------------------------------------------

@pytest.mark.parametrize("z", [10, 12, 14])
def test_low_zoom_household_counts_sum_to_the_households_of_the_tile(served, owner, tmp_path, z):
    x, y = tile_of(112.99, 25.747, z)
    data = get(served, f"/tiles/households/{z}/{x}/{y}.mvt").content
    cells = decode(data, "households")
    want = envelope_count(owner, "household", "true", z, x, y)
    assert sum(f["properties"]["count"] for f in cells) == want == 90
    assert all(set(f["properties"]) == {"count"} for f in cells)  # no id, no grid code: a count
    ids = [f["id"] for f in cells]
    assert len(set(ids)) == len(ids)  # each cell once
    # a cell is 128 of the tile's 4096 units: at z14 about 70 m, so the fixture's households 100 m apart
    # stay one a cell; at z12 and below they share cells
    assert len(cells) < want if z <= 12 else len(cells) <= want
    # GDAL reads the same counts
    path = tmp_path / str(z) / str(x) / f"{y}.pbf"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    assert pyogrio.read_dataframe(path, layer="households", CLIP="NO")["count"].sum() == want


def test_a_grid_workers_counts_are_of_her_grids_only(served, owner):
    z = 12
    x, y = tile_of(112.99, 25.747, z)
    cells = decode(get(served, f"/tiles/households/{z}/{x}/{y}.mvt", served.worker).content, "households")
    mine = envelope_count(owner, "household", "true", z, x, y, grid=GRID_1)
    everyone = envelope_count(owner, "household", "true", z, x, y)
    assert sum(f["properties"]["count"] for f in cells) == mine == 50 < everyone
    # from z15 up: her households one by one, with their ids
    z = 15
    x, y = tile_of(112.99, 25.747, z)
    features = decode(get(served, f"/tiles/households/{z}/{x}/{y}.mvt", served.worker).content, "households")
    want = {r[0] for r in owner.execute(
        "SELECT id FROM household WHERE grid_code = %s AND ST_Intersects(ST_Transform(geom, 3857), "
        "ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096))", [GRID_1, z, x, y])}
    assert {f["id"] for f in features} == want and want
