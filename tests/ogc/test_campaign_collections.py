"""The campaign's records offered to GIS clients (issue 16): unmanaged compounds (无人管理小区) and
facilities (阵地) as OGC API - Features collections, read by GDAL, filtered with CQL2, and kept to
what the reader's row-level security lets through (tests/ogc/conftest.py: nine compounds, K1 and K2
helped today, K3's helper ended; six facilities, one closed)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import uuid
from datetime import timedelta

import httpx
import psycopg
import pytest

from gis.access import accounts
from gis.settings import Settings

needs_gdal = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="Debian gdal-bin not installed")
STREET, OTHER_STREET = "431002001", "431002002"  # the fixture's community lies in the first
GRID = "431002001001001"


def get(live, path: str, token: str | None = None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else live.headers
    return httpx.get(f"{live.url}/ogc{path}", params=params, headers=headers, timeout=30)


def gdal(live, *args: str) -> str:
    env = os.environ | {"GDAL_HTTP_HEADERS": f"Authorization: Bearer {live.token}"}
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def rows(db, query: str) -> set:
    return {r[0] for r in db.execute(query)}


def ids(body: dict) -> set[int]:
    return {f["id"] for f in body["features"]}


@needs_gdal
def test_ogrinfo_reads_both_collections_with_their_geometry_and_counts(live, db):
    out = gdal(live, "ogrinfo", "-ro", "-so", f"OAPIF:{live.url}/ogc", "compounds", "facilities")
    found = {name: (geometry, int(n)) for name, geometry, n in
             re.findall(r"Layer name: (\w+)\s.*?Geometry: ([\w ]+?)\n.*?Feature Count: (\d+)", out, re.S)}
    assert found == {
        "compounds": ("Multi Polygon", rows(db, "SELECT count(*) FROM compound").pop()),
        "facilities": ("Point", rows(db, "SELECT count(*) FROM facility").pop()),
    }
    for name in ("helper_unit", "helped", "management", "households"):  # the compounds' fields
        assert re.search(rf"^{name}: ", out, re.M), name


@needs_gdal
@pytest.mark.parametrize(("collection", "table", "geometry"), [
    ("compounds", "compound", "MultiPolygon"), ("facilities", "facility", "Point")])
def test_ogr2ogr_copies_every_feature_with_its_geometry_type(live, db, tmp_path, collection, table, geometry):
    out = tmp_path / f"{collection}.geojson"
    gdal(live, "ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live.url}/ogc", collection,
         "-oo", "PAGE_SIZE=4")
    features = json.loads(out.read_text())["features"]
    assert len(features) == rows(db, f"SELECT count(*) FROM {table}").pop() > 4  # paged through
    assert {f["geometry"]["type"] for f in features} == {geometry}
    assert {f["properties"]["id"] for f in features} == rows(db, f"SELECT id FROM {table}")


@needs_gdal
def test_ogr2ogr_where_on_management_answers_the_sql_rows(live, db, tmp_path):
    """GDAL turns -where into the items' property parameters (a boolean as 1) the server answers; with no
    date property in the collection it never becomes datetime=."""
    out = tmp_path / "none.geojson"
    gdal(live, "ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live.url}/ogc", "compounds",
         "-where", "management = 'none' AND helped = 1")
    got = {f["properties"]["id"] for f in json.loads(out.read_text())["features"]}
    assert got == rows(db, """SELECT k.id FROM compound k JOIN compound_helper h ON h.compound_id = k.id
                              AND h.valid @> current_date WHERE k.management = 'none'""") != set()
    asked = [q for p, q, _ in live.seen if p.endswith("/compounds/items") and "management=none" in q]
    assert asked and all("helped=1" in q and "datetime" not in q for q in asked)


@pytest.mark.parametrize(("collection", "cql", "query"), [
    ("compounds", "management = 'none'", "SELECT id FROM compound WHERE management = 'none'"),
    ("compounds", "helped = true",
     "SELECT compound_id FROM compound_helper WHERE valid @> current_date"),
    ("compounds", "helped = false AND households >= 30",
     "SELECT id FROM compound k WHERE households >= 30 AND NOT EXISTS (SELECT 1 FROM compound_helper h "
     "WHERE h.compound_id = k.id AND h.valid @> current_date)"),
    ("compounds", "helper_unit = 'District Bureau'",
     "SELECT h.compound_id FROM compound_helper h JOIN responsible_unit u ON u.id = h.unit_id "
     "WHERE h.valid @> current_date AND u.name = 'District Bureau'"),
    ("facilities", "kind = 'moral_lecture_hall'",
     "SELECT id FROM facility WHERE kind = 'moral_lecture_hall'"),
    ("facilities", "active = false", "SELECT id FROM facility WHERE NOT active"),
    ("facilities", "owner = 'District Bureau'",
     "SELECT f.id FROM facility f JOIN responsible_unit u ON u.id = f.owner_unit "
     "WHERE u.name = 'District Bureau'"),
    ("facilities", "community_code = '431002001001' AND kind_name = '道德讲堂'",
     "SELECT id FROM facility WHERE community_code = '431002001001' AND kind = 'moral_lecture_hall'"),
])
def test_cql2_filter_answers_the_sql_rows(live, db, collection, cql, query):
    r = get(live, f"/collections/{collection}/items", filter=cql)
    assert r.status_code == 200, r.text
    assert ids(r.json()) == rows(db, query) != set()


def test_item_properties_name_todays_helper_and_the_owner(live, db):
    k1 = rows(db, "SELECT id FROM compound WHERE ref = 'K1'").pop()
    k3 = rows(db, "SELECT id FROM compound WHERE ref = 'K3'").pop()
    one = get(live, f"/collections/compounds/items/{k1}").json()
    assert one["geometry"]["type"] == "MultiPolygon"
    assert one["properties"] | {"id": 0} == {
        "id": 0, "ref": "K1", "name": "Compound 1", "management": "none", "households": 10,
        "community_code": "431002001001", "helper_unit": "District Bureau", "helped": True}
    ended = get(live, f"/collections/compounds/items/{k3}").json()["properties"]
    assert (ended["helper_unit"], ended["helped"]) == (None, False)  # its helper's days are over
    owners = {f["properties"]["name"]: f["properties"]["owner"]
              for f in get(live, "/collections/facilities/items").json()["features"]}
    assert owners["Facility 5"] == "District Bureau" and owners["Facility 1"] == "Beihu community"
    queryables = get(live, "/collections/compounds/queryables").json()["properties"]
    assert queryables["helped"]["type"] == "boolean"


# --- row-level security: what each reader is let through ---------------------------------------------

@pytest.fixture(scope="module")
def readers(ogc_database_url: str) -> dict[str, str]:
    """Bearer tokens: viewers of this street and of another, a unit account of another street linked to
    the helping bureau, a grid worker."""
    settings = Settings(database_url=ogc_database_url, _env_file=None)
    made = {}
    with psycopg.connect(ogc_database_url) as conn:
        unit = conn.execute("SELECT id FROM responsible_unit WHERE name = 'District Bureau'").fetchone()[0]
        for name, role, scope in [("viewer_here", "viewer", STREET), ("viewer_there", "viewer", OTHER_STREET),
                                  ("unit_there", "unit", OTHER_STREET), ("worker", "grid_worker", GRID)]:
            username, password = f"{name}-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
            user_id = accounts.create_user(conn, username, password)
            accounts.grant(conn, username, role, scope)
            if role == "unit":
                conn.execute("INSERT INTO unit_account (user_id, unit_id) VALUES (%s, %s)", [user_id, unit])
            made[name], _ = accounts.issue_token(conn, username, password, settings.secret_key,
                                                 timedelta(hours=1))
        conn.commit()
    return made


def test_compounds_are_kept_to_the_readers_area_and_units_to_theirs(live, db, readers):
    everything = rows(db, "SELECT id FROM compound")
    helped_by_bureau = rows(db, "SELECT compound_id FROM compound_helper")  # K1, K2 and K3 (ended)
    assert len(everything) == 9 and len(helped_by_bureau) == 3
    for reader, expected in [("viewer_here", everything), ("viewer_there", set()),
                             ("unit_there", helped_by_bureau)]:
        r = get(live, "/collections/compounds/items", readers[reader])
        assert r.status_code == 200, r.text
        assert ids(r.json()) == expected, reader
        assert r.json()["numberMatched"] == len(expected)
    outside = min(everything - helped_by_bureau)
    assert get(live, f"/collections/compounds/items/{outside}", readers["unit_there"]).status_code == 404


def test_facilities_are_public_places_and_compounds_not_offered_to_grid_workers(live, db, readers):
    every = rows(db, "SELECT id FROM facility")
    for reader in ("viewer_there", "unit_there", "worker"):
        assert ids(get(live, "/collections/facilities/items", readers[reader]).json()) == every, reader
    offered = {c["id"] for c in get(live, "/collections", readers["worker"]).json()["collections"]}
    assert "facilities" in offered and "compounds" not in offered
    assert get(live, "/collections/compounds/items", readers["worker"]).status_code == 403


def test_vector_tiles_of_both_layers_hold_what_the_reader_may_read(live, db, readers):
    """The tiles carry the same rows as the collections: facilities for everyone, compounds narrowed by
    row-level security (mapbox_vector_tile decodes what ST_AsMVT wrote)."""
    import mapbox_vector_tile

    z = 12  # one tile over the fixture's community
    n = 2 ** z
    x = int((113.0 + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(25.77))) / math.pi) / 2 * n)

    def tile(layer: str, token: str | None = None) -> set[int]:
        headers = {"Authorization": f"Bearer {token}"} if token else live.headers
        r = httpx.get(f"{live.url}/tiles/{layer}/{z}/{x}/{y}.mvt", headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        decoded = mapbox_vector_tile.decode(r.content) if r.content else {}
        return {f["properties"]["id"] for f in decoded.get(layer, {}).get("features", [])}

    envelope = f"ST_Transform(ST_TileEnvelope({z}, {x}, {y}, margin => 64.0 / 4096), 4326)"
    in_tile = {t: rows(db, f"SELECT id FROM {t} WHERE ST_Intersects(geom, {envelope})")
               for t in ("compound", "facility")}
    assert in_tile["compound"] and in_tile["facility"]
    assert tile("compounds") == in_tile["compound"] and tile("facilities") == in_tile["facility"]
    assert tile("compounds", readers["viewer_there"]) == set()
    assert tile("facilities", readers["viewer_there"]) == in_tile["facility"]
