"""Issue 10, class 1: an import must not become a way to read the server's files or make it fetch
URLs. Real hostile files are uploaded over HTTP, by a grid worker and by an admin: GDAL VRTs under
the names of the accepted formats, archives with ../ and symlink members, a huge CSV cell.

On the code before the fix: the VRT named .geojson was opened by GDAL's VRT driver (GDAL picks the
driver by content), read the secret file and the validation errors quoted its lines (the secret
appears in the 422 body); the /vsicurl/ VRT made the server send a GET to the local HTTP server
started here; a VRT inside the ZIP (opened through /vsizip/) did the same; the 10 kB cell came back
whole in its error.
"""

from __future__ import annotations

import io
import stat
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.access.conftest import PASSWORD, World, api_world, tokens  # noqa: F401 - fixtures
from tests.conftest import own_database

database_url, settings, admin_token = own_database("gridmap_sec_files")

SECRET = "gridmap-secret-7c1e9a"


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("server") / "secret.txt"
    path.write_text(f"{SECRET}-line-one\n{SECRET}-line-two\n")
    return path


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        type(self).seen.append(self.path)
        body = b"ref,name,category,wkt\nx1,ssrf,internet_cafe,POINT (113.5 25.5)\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server the hostile files point GDAL at; its list of requests must stay empty."""
    seen: list[str] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def vrt(source: str, layer: str = "secret") -> bytes:
    """An OGR VRT whose rows are the lines of ``source`` as places (their names and categories)."""
    return f"""<OGRVRTDataSource>
  <OGRVRTLayer name="places">
    <SrcDataSource>{source}</SrcDataSource>
    <OpenOptions><OOI key="HEADERS">NO</OOI></OpenOptions>
    <SrcSQL>SELECT field_1 AS ref, field_1 AS name, field_1 AS category, 'POINT (113.5 25.5)' AS wkt
            FROM "{layer}"</SrcSQL>
    <GeometryField encoding="WKT" field="wkt"/>
  </OGRVRTLayer>
</OGRVRTDataSource>""".encode()


def zipped(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # Unix: the mode below is read
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return out.getvalue()


@pytest.fixture(scope="module")
def http(settings, admin_token: str) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {admin_token}"}) as c:
        yield c


def stored_places(database_url: str) -> int:
    with psycopg.connect(database_url) as c:
        return c.execute("SELECT count(*) FROM place").fetchone()[0]


def refused_without_echo(response, *secrets: str) -> None:
    assert response.status_code == 422, response.text
    for secret in secrets:
        assert secret not in response.text, "the server's file came back in the answer"


@pytest.mark.parametrize("name", ["places.geojson", "places.json", "places.gpkg", "places.shp"])
def test_a_vrt_under_an_accepted_name_reads_no_server_file(http, database_url, secret_file, name):
    before = stored_places(database_url)
    r = http.post("/imports/places", files={"file": (name, vrt(f"CSV:{secret_file}"))})
    refused_without_echo(r, SECRET)
    assert stored_places(database_url) == before


def test_a_vrt_reading_etc_passwd_is_refused_as_not_geojson(http):
    r = http.post("/imports/places", files={"file": ("p.geojson", vrt("CSV:/etc/passwd", "passwd"))})
    refused_without_echo(r, "root:x:0:0", "/bin/bash", "nologin")
    assert "not GeoJSON" in r.text


def test_a_grid_worker_cannot_read_server_files_through_households(
        settings, api_world, tokens, secret_file):  # noqa: F811 - the imported fixtures
    """The issue's attacker: a grid worker importing households."""
    from api.app import create_app

    body = vrt(f"CSV:{secret_file}").replace(b'AS name, field_1 AS category', b'AS address')
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {tokens['worker']}"}) as c:
        r = c.post("/imports/households", files={"file": ("h.geojson", body)})
    refused_without_echo(r, SECRET)


@pytest.mark.parametrize("name", ["places.geojson", "places.gpkg"])
def test_a_vrt_pointing_at_a_url_makes_no_request(http, listener, name):
    url, seen = listener
    r = http.post("/imports/places", files={"file": (name, vrt(f"CSV:/vsicurl/{url}/rows.csv", "rows"))})
    assert r.status_code == 422, r.text
    assert seen == [], f"the server fetched {seen}"


def test_a_zip_with_a_vrt_as_its_shp_makes_no_request_and_reads_no_file(http, listener, secret_file):
    url, seen = listener
    for source in (f"CSV:/vsicurl/{url}/rows.csv", f"CSV:{secret_file}"):
        upload = zipped({"places.shp": vrt(source, "rows")})
        r = http.post("/imports/places", files={"file": ("p.zip", upload)})
        refused_without_echo(r, SECRET)
    assert seen == []


@pytest.mark.parametrize("members, links", [
    ({"../../evil.shp": b"\x00\x00\x27\x0a" + b"\x00" * 96, "evil.dbf": b""}, None),
    ({"/tmp/abs.shp": b"\x00\x00\x27\x0a" + b"\x00" * 96}, None),
    ({"dir/p.shp": b"\x00\x00\x27\x0a" + b"\x00" * 96}, None),
    ({"p.shp": b"\x00\x00\x27\x0a" + b"\x00" * 96, "p.vrt": b"<OGRVRTDataSource/>"}, None),
    ({"p.shp": b"\x00\x00\x27\x0a" + b"\x00" * 96}, {"p.dbf": "/etc/passwd"}),
    ({}, {"p.shp": "/etc/passwd"}),
], ids=["dotdot", "absolute", "folder", "foreign-member", "symlink-dbf", "symlink-shp"])
def test_a_zip_with_paths_links_or_foreign_members_is_refused(http, members, links):
    r = http.post("/imports/places", files={"file": ("p.zip", zipped(members, links))})
    assert r.status_code == 422, r.text
    assert "root:x:0:0" not in r.text
    assert "Shapefile" in r.text or "shp" in r.text


def test_a_file_naming_a_virtual_file_system_is_refused(http, listener):
    url, seen = listener
    for name in (f"/vsicurl/{url}/x.geojson", "/vsizip//etc/x.zip/a.shp", "GeoJSON:x.geojson"):
        content = b'{"type": "FeatureCollection", "features": []}'
        r = http.post("/imports/places", files={"file": (name, content)})
        assert r.status_code == 422, r.text
    assert seen == []


def test_gdal_itself_has_no_network_during_a_read(listener):
    """Defence in depth: even a path GDAL would fetch is not fetched while an import reads."""
    import pyogrio

    from gis.interop.readers import _gdal_confined

    url, seen = listener
    with _gdal_confined(), pytest.raises(Exception):  # noqa: B017 - GDAL's error types vary
        pyogrio.read_dataframe(f"/vsicurl/{url}/rows.csv")
    assert seen == []


def test_a_10kb_cell_is_not_echoed_back(http):
    cell = "x" * 10_000
    body = f"ref,name,category,lon,lat\nx1,{cell},{cell},113.5,25.5\n".encode()
    r = http.post("/imports/places", files={"file": ("p.csv", body)})
    assert r.status_code == 422, r.text
    assert "x" * 100 not in r.text, "a long value is quoted whole"
    assert "x" * 30 in r.text, "the start of the value still says which one"
    assert len(r.content) < 2_000
