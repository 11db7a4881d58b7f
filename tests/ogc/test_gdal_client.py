"""Real OGC clients read the API: Debian's ogrinfo/ogr2ogr (GDAL 3.6) and the GDAL inside pyogrio."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from urllib.parse import parse_qs

import httpx
import pytest

TABLE_COUNTS = {
    "communities": "SELECT count(*) FROM community",
    "grids": "SELECT count(*) FROM grid",
    "buildings": "SELECT count(*) FROM building",
    "schools": "SELECT count(*) FROM school",
    "places": "SELECT count(*) FROM place",
    "road_sections": "SELECT count(*) FROM road_section WHERE retired_on IS NULL",
    "perimeter_violations": "SELECT count(*) FROM violation WHERE status <> 'closed'",
    "households": "SELECT count(*) FROM household",  # the client signs in as an admin of everything
    "compounds": "SELECT count(*) FROM compound",
    "facilities": "SELECT count(*) FROM facility",
}
needs_gdal = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="Debian gdal-bin not installed")


def gdal_env(live, token: str | None = None) -> dict[str, str]:
    """GDAL's HTTP settings: the bearer token travels in GDAL_HTTP_HEADERS on every request."""
    token = token or live.token
    return os.environ | ({"GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"} if token else {})


def gdal(live, *args: str) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=120, env=gdal_env(live))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def pyogrio_read(live, url: str, layer: str, **kwargs) -> list[dict]:
    """pyogrio.read_dataframe in a child process: it holds the GIL while GDAL waits on HTTP, which
    would starve the uvicorn thread serving this very request. Returns the rows as dicts."""
    code = ("import json, sys, pyogrio; a = json.loads(sys.argv[1]); "
            "df = pyogrio.read_dataframe(a['url'], layer=a['layer'], **a['kw']); "
            "print(df.drop(columns='geometry').to_json(orient='records'))")
    arg = json.dumps({"url": url, "layer": layer, "kw": kwargs})
    # pyogrio's own GDAL (3.12) does not send GDAL_HTTP_HEADERS on OAPIF requests; its bearer auth does.
    bearer = {"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": live.token} if live.token else {}
    proc = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True, timeout=120,
                          env=gdal_env(live) | bearer)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def db_count(db, query: str) -> int:
    return db.execute(query).fetchone()[0]


@needs_gdal
def test_ogrinfo_lists_every_collection_with_db_counts(live, db):
    out = gdal(live, "ogrinfo", "-ro", "-al", "-so", f"OAPIF:{live.url}/ogc")
    layers = dict(re.findall(r"Layer name: (\w+).*?Feature Count: (\d+)", out, re.S))
    assert set(layers) == set(TABLE_COUNTS)
    for name, query in TABLE_COUNTS.items():
        assert int(layers[name]) == db_count(db, query), name


@needs_gdal
@pytest.mark.parametrize("collection", sorted(TABLE_COUNTS))
def test_ogr2ogr_pages_through_every_collection(live, db, tmp_path, collection):
    """A small page size forces GDAL through the next links; it must arrive at the database's count."""
    out = tmp_path / f"{collection}.geojson"
    gdal(live, "ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live.url}/ogc", collection,
         "-oo", "PAGE_SIZE=7")
    features = json.loads(out.read_text())["features"]
    assert len(features) == db_count(db, TABLE_COUNTS[collection])
    offsets = {parse_qs(q).get("offset", ["0"])[0]
               for p, q, _ in live.seen if p.endswith(f"/{collection}/items")}
    assert len(offsets) > 1 or len(features) <= 7


def test_pyogrio_reads_all_places_through_paging(live, db):
    """The GDAL inside pyogrio (3.12, default 1,000-feature pages): all 2,500 places arrive."""
    rows = pyogrio_read(live, f"OAPIF:{live.url}/ogc", "places")
    assert len(rows) == db_count(db, TABLE_COUNTS["places"])
    assert len({r["ref"] for r in rows}) == len(rows)
    assert {"name", "category", "address"} <= set(rows[0])


@needs_gdal
def test_ogr2ogr_bbox_subset(live, db, tmp_path):
    out = tmp_path / "bbox.geojson"
    gdal(live, "ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live.url}/ogc", "places",
         "-spat", "113.0", "25.75", "113.02", "25.77")
    got = len(json.loads(out.read_text())["features"])
    expected = db_count(
        db, "SELECT count(*) FROM place WHERE geom && ST_MakeEnvelope(113.0, 25.75, 113.02, 25.77, 4326)")
    assert 0 < got == expected < db_count(db, "SELECT count(*) FROM place")
    assert any("bbox=" in q for p, q, _ in live.seen if p.endswith("/places/items"))  # filtered by the server


@needs_gdal
def test_ogr2ogr_attribute_filter_is_forwarded(live, db, tmp_path):
    """GDAL forwards -where to the server because the OpenAPI document declares category."""
    out = tmp_path / "bars.geojson"
    before = len(live.seen)
    gdal(live, "ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live.url}/ogc", "places",
         "-where", "category = 'bar'")
    features = json.loads(out.read_text())["features"]
    assert len(features) == db_count(db, "SELECT count(*) FROM place WHERE category = 'bar'") > 0
    assert {f["properties"]["category"] for f in features} == {"bar"}
    queries = [q for p, q, _ in live.seen[before:] if p.endswith("/places/items")]
    assert any(parse_qs(q).get("category") == ["bar"] for q in queries), queries


def test_pyogrio_cql2_and_where(live, db):
    rows = pyogrio_read(live, f"OAPIF:{live.url}/ogc", "places", where="category = 'internet_cafe'")
    assert len(rows) == db_count(db, "SELECT count(*) FROM place WHERE category = 'internet_cafe'") > 0


@needs_gdal
def test_authentication_header_passes_through(live, tmp_path):
    """GDAL sends the configured Authorization header on every request, paging included; the same
    read without it is refused (sign-in is enforced on /ogc: a regression fails here, never skips)."""
    assert live.token, "the live server signs its GIS client in as an admin"
    before = len(live.seen)
    out = tmp_path / "places.geojson"
    proc = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live.url}/ogc", "places",
                           "-oo", "PAGE_SIZE=500"], capture_output=True, text=True, timeout=120,
                          env=gdal_env(live))
    assert proc.returncode == 0, proc.stderr
    seen = live.seen[before:]
    assert len([p for p, _, _ in seen if p.endswith("/places/items")]) >= 5
    assert all(h.get("authorization") == f"Bearer {live.token}" for _, _, h in seen)

    anonymous = httpx.get(f"{live.url}/ogc/collections/places/items", timeout=30)
    assert anonymous.status_code == 401, anonymous.text
    wrong = httpx.get(f"{live.url}/ogc/collections/places/items", timeout=30,
                      headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401, wrong.text
    without = {k: v for k, v in os.environ.items() if k != "GDAL_HTTP_HEADERS"}
    refused = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(tmp_path / "anonymous.geojson"),
                              f"OAPIF:{live.url}/ogc", "places"], capture_output=True, text=True,
                             timeout=120, env=without)
    assert refused.returncode != 0
    assert not (tmp_path / "anonymous.geojson").exists() or not json.loads(
        (tmp_path / "anonymous.geojson").read_text()).get("features")
