"""Vector tiles: ST_AsMVT content read back with GDAL's MVT driver, cache headers, validation."""

from __future__ import annotations

import math

import httpx
import pyogrio
import pytest


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def fetch(live, layer: str, z: int, x: int, y: int, **headers) -> httpx.Response:
    return httpx.get(f"{live.url}/tiles/{layer}/{z}/{x}/{y}.mvt", headers=live.headers | headers, timeout=30)


def read_tile(tmp_path, data: bytes, z: int, x: int, y: int, layer: str):
    # GDAL's MVT driver georeferences a lone tile from a z/x/y.pbf path.
    path = tmp_path / str(z) / str(x) / f"{y}.pbf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    # CLIP=NO: keep the features in the tile's buffer, which ST_AsMVTGeom keeps on purpose.
    return pyogrio.read_dataframe(path, layer=layer, CLIP="NO")


@pytest.mark.parametrize(("layer", "table", "z", "lon", "lat"), [
    ("households", "household", 15, 112.99, 25.747), ("places", "place", 14, 113.0, 25.76),
    ("places", "place", 12, 113.0, 25.76), ("grids", "grid", 13, 113.0, 25.76),
    ("road_sections", "road_section", 14, 113.0, 25.7701),  # the fixture road runs along latitude 25.77
])
def test_tile_holds_the_rows_of_its_envelope(live, db, tmp_path, layer, table, z, lon, lat):
    x, y = tile_of(lon, lat, z)
    r = fetch(live, layer, z, x, y)
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    live_only = "AND retired_on IS NULL" if table == "road_section" else ""
    expected = db.execute(
        f"SELECT count(*) FROM {table} WHERE ST_Intersects(ST_Transform(geom, 3857), "
        f"ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096)) {live_only}", [z, x, y]).fetchone()[0]
    df = read_tile(tmp_path, r.content, z, x, y, layer)
    assert len(df) == expected > 0


def test_household_tiles_carry_no_personal_data(live, tmp_path):
    z = 15  # from z15 up one point per household (below: counts per cell, tests/ogc/test_tiles_clients.py)
    x, y = tile_of(112.99, 25.75, z)
    r = fetch(live, "households", z, x, y)
    df = read_tile(tmp_path, r.content, z, x, y, "households")
    assert set(df.columns) - {"mvt_id"} == {"id", "grid_code", "geometry"}  # mvt_id: GDAL's own
    assert r.headers["cache-control"] == "no-store"  # where households are is still personal


def test_cache_headers_and_etag(live):
    x, y = tile_of(113.0, 25.76, 14)
    first = fetch(live, "places", 14, x, y)
    assert first.headers["cache-control"] == "private, max-age=60" and first.headers["etag"]
    again = fetch(live, "places", 14, x, y, **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert again.headers["etag"] == first.headers["etag"]
    other = fetch(live, "places", 14, x + 1, y, **{"If-None-Match": first.headers["etag"]})
    assert other.status_code == 200 and other.headers["etag"] != first.headers["etag"]


def test_empty_tile_is_200_and_empty(live):
    r = fetch(live, "places", 14, 0, 0)
    assert r.status_code == 200 and r.content == b""


@pytest.mark.parametrize(("z", "x", "y"), [(23, 0, 0), (-1, 0, 0), (3, 8, 0), (3, 0, 8), (3, -1, 0)])
def test_tile_coordinates_outside_the_pyramid_are_422(live, z, x, y):
    r = fetch(live, "places", z, x, y)
    assert r.status_code == 422, r.text
    assert r.json()["errors"]


def test_unknown_layer_is_404(live):
    assert fetch(live, "persons", 14, 0, 0).status_code == 404
    assert fetch(live, "buildings", 14, 0, 0).status_code == 404
