"""Roles do not add up (issue 10, class 5): a grid worker who also holds a viewer grant over the street
reads, unmasks and exports her own grid's rows and nothing more, through every route that returns rows
(lists, register files, layer exports, OGC items, vector tiles, maps, the street map) and as raw SQL;
the viewer grant still gives her the street's counts. Also (class 11) a scoped user can create a person
who is a key person (重点人员), and only in scope.

Each test fails on the code before migration 011: the row policies household_read and person_read
included the viewer's scopes, so the database returned street A's rows (grid g2 included) to anyone
holding a viewer grant there, while the route policy let her in as a grid worker; and the key_person
policy refused a key person inserted in the same statement as its person (403), because the policy's
lookup of the person could not see the row the statement had just written."""

from __future__ import annotations

import csv
import io
import json

import httpx
import openpyxl
import psycopg
import pyogrio
import pytest
from fastapi.testclient import TestClient

from tests.access.conftest import World, api_world, as_user, secured_app  # noqa: F401 - fixtures
from tests.conftest import own_database
from tests.security.test_register_world import (  # noqa: F401 - fixtures
    Extras,
    auth,
    column,
    extras,
    names_in,
    owner,
    tile_of,
)

database_url, settings, admin_token = own_database("gridmap_sec_register_roles")


@pytest.fixture(scope="module")
def api(settings):
    with TestClient(secured_app(settings)) as c:
        yield c


@pytest.fixture
def hers(owner: psycopg.Connection, api_world: World) -> dict[str, set]:  # noqa: F811
    """The rows of worker_viewer's grid (g1), computed as the owner: what she may read, all of it."""
    households = column(owner, "SELECT id FROM household WHERE grid_code = %s", [api_world.g1])
    return {
        "households": households,
        "household_refs": column(owner, "SELECT ref FROM household WHERE grid_code = %s", [api_world.g1]),
        "persons": column(owner, "SELECT id FROM person WHERE household_id = ANY(%s)", [sorted(households)]),
        "names": column(owner, "SELECT name FROM person WHERE household_id = ANY(%s)", [sorted(households)]),
        "others": column(owner, "SELECT p.name FROM person p JOIN household h ON h.id = p.household_id"
                                " WHERE h.grid_code IS DISTINCT FROM %s", [api_world.g1]),
    }


def ok(r: httpx.Response) -> httpx.Response:
    assert r.status_code == 200, r.text[:500]
    return r


def test_lists_hold_only_her_grid(api, auth, api_world, hers) -> None:  # noqa: F811
    me = auth("worker_viewer")
    assert {h["id"] for h in ok(api.get("/households?limit=1000", headers=me)).json()["items"]} \
        == hers["households"]
    assert {h["id"] for h in ok(api.get(f"/households?community={api_world.community}&limit=1000",
                                        headers=me)).json()["items"]} == hers["households"]
    persons = ok(api.get("/persons?limit=1000", headers=me)).json()["items"]
    assert {p["id"] for p in persons} == hers["persons"]
    assert {p["id"] for p in ok(api.get("/persons?key_person=any&limit=1000", headers=me)).json()["items"]} \
        <= hers["persons"]
    other = api_world.persons[api_world.g2][0]
    assert api.get(f"/persons/{other}?unmasked=true", headers=me).status_code == 404
    assert api.get(f"/households/{api_world.households[api_world.g2][0]}", headers=me).status_code == 404


def test_register_files_hold_only_her_grid(api, auth, api_world, hers) -> None:  # noqa: F811
    me = auth("worker_viewer")
    body = ok(api.get(f"/communities/{api_world.community}/register.csv", headers=me)).content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    at = rows[0].index("户编号 Household")
    assert {int(r[at]) for r in rows[1:]} == hers["households"]
    book = openpyxl.load_workbook(io.BytesIO(ok(api.get(f"/communities/{api_world.community}/register.xlsx",
                                                        headers=me)).content))
    seen = set()
    for sheet in book.worksheets:
        header = [c.value for c in sheet[1]]
        at = header.index("户编号 Household")
        seen |= {int(r[at]) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert seen == hers["households"]
    # Another grid of the street by name: refused, whatever her viewer grant says.
    assert api.get(f"/grids/{api_world.g2}/register.csv", headers=me).status_code == 403


@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_layer_exports_hold_only_her_grid(api, auth, api_world, hers, fmt) -> None:  # noqa: F811
    me = auth("worker_viewer")
    body = ok(api.get(f"/exports/households?format={fmt}&community={api_world.community}",
                      headers=me)).content
    if fmt == "geojson":
        refs = {f["properties"]["ref"] for f in json.loads(body)["features"]}
    else:
        refs = {r["ref"] for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}
    assert refs == hers["household_refs"]
    persons = ok(api.get(f"/exports/persons?format=csv&community={api_world.community}", headers=me)).content
    rows = list(csv.DictReader(io.StringIO(persons.decode("utf-8-sig"))))
    assert {r["name"] for r in rows} == hers["names"]


def test_ogc_items_hold_only_her_grid(api, auth, hers) -> None:  # noqa: F811
    items = ok(api.get("/ogc/collections/households/items?limit=1000", headers=auth("worker_viewer"))).json()
    assert {f["id"] for f in items["features"]} == hers["households"]


def test_tiles_hold_only_her_grid(api, auth, owner, extras: Extras, hers, tmp_path) -> None:  # noqa: F811
    """Every tile (z16: one point per household from z15 up) holding a household of the world, read back
    with GDAL's MVT driver."""
    z = 16
    points = owner.execute("SELECT DISTINCT ST_X(geom), ST_Y(geom) FROM household").fetchall()
    seen: set[int] = set()
    for x, y in {tile_of(lon, lat, z) for lon, lat in points}:
        r = ok(api.get(f"/tiles/households/{z}/{x}/{y}.mvt", headers=auth("worker_viewer")))
        if not r.content:
            continue
        path = tmp_path / str(z) / str(x) / f"{y}.pbf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(r.content)
        seen |= {int(i) for i in pyogrio.read_dataframe(path, layer="households", CLIP="NO")["id"]}
    assert seen == hers["households"]


def test_maps_show_only_her_grid(api, auth, api_world, extras: Extras, hers) -> None:  # noqa: F811
    me = auth("worker_viewer")
    page = ok(api.get(f"/maps/communities/{api_world.community}", headers=me)).text
    assert names_in(page, hers["names"]) == hers["names"]
    assert names_in(page, hers["others"]) == set()
    assert api.get(f"/maps/grids/{api_world.g2}", headers=me).status_code == 403
    x0, y0 = extras.origin
    box = f"{x0 - 0.01},{y0 - 0.01},{x0 + 0.08},{y0 + 0.06}"
    rows = ok(api.get(f"/maps/street/{api_world.street}/households?bbox={box}", headers=me)).json()["rows"]
    assert {r[0] for r in rows} == hers["households"]


def test_her_viewer_grant_still_counts_the_street(api, auth, api_world) -> None:  # noqa: F811
    """Counts over the street (the viewer's), key persons only in her own grid (the worker's)."""
    stats = ok(api.get("/stats", headers=auth("worker_viewer"))).json()
    grids = {g["code"]: g["figures"] for g in stats["grids"]}
    assert grids[api_world.g1]["households"]["count"] == grids[api_world.g2]["households"]["count"] == 3
    assert grids[api_world.g2]["persons"]["count"] == 6
    assert grids[api_world.g1]["key_persons"]["count"] == 3
    assert grids[api_world.g2]["key_persons"]["count"] == 0
    assert grids.get(api_world.g3, {"households": {"count": 0}})["households"]["count"] == 0
    viewer = ok(api.get("/stats", headers=auth("viewer"))).json()
    assert {g["code"]: g["figures"]["persons"]["count"] for g in viewer["grids"]
            if g["code"] in (api_world.g1, api_world.g2)} == {api_world.g1: 6, api_world.g2: 6}
    assert api.get("/persons", headers=auth("viewer")).status_code == 403


def test_raw_sql_as_the_service_role(conn, api_world, extras: Extras, hers) -> None:  # noqa: F811
    """The database itself: every register table, no WHERE clause, acting for worker_viewer."""
    as_user(conn, extras.users["worker_viewer"])
    assert column(conn, "SELECT id FROM household") == hers["households"]
    assert column(conn, "SELECT id FROM person") == hers["persons"]
    assert column(conn, "SELECT person_id FROM key_person") == set(api_world.key_persons[api_world.g1])
    # The counting function returns numbers for the street, and nothing that names a row.
    counts = {r[0]: r[1] for r in conn.execute("SELECT grid_code, persons FROM register_grid_counts('')")}
    assert counts == {api_world.g1: 6, api_world.g2: 6}
    as_user(conn, api_world.users["worker"])  # the same grid without the viewer grant: the same rows
    assert column(conn, "SELECT id FROM household") == hers["households"]
    conn.execute("RESET ROLE")


# --- class 11: a key person created by a scoped user -------------------------------------------------

def test_scoped_users_create_key_persons_in_scope(api, auth, api_world) -> None:  # noqa: F811
    for user, grid in (("worker", api_world.g1), ("street_admin", api_world.g2)):
        r = api.post("/persons", headers=auth(user), json={
            "household_id": api_world.households[grid][0], "name": f"new key person of {user}",
            "key_person": "community_correction"})
        assert r.status_code == 201, r.text
        assert r.json()["key_person"] == "community_correction"
        assert api.delete(f"/persons/{r.json()['id']}", headers=auth(user)).status_code == 204
    # Out of scope it stays refused.
    r = api.post("/persons", headers=auth("worker"), json={
        "household_id": api_world.households[api_world.g2][0], "name": "x", "key_person": "petitioner"})
    assert r.status_code in (403, 404)


def test_key_person_insert_is_checked_after_the_statement(conn, api_world) -> None:  # noqa: F811
    as_user(conn, api_world.users["worker"])
    own = api_world.households[api_world.g1][0]
    new = conn.execute(
        "WITH p AS (INSERT INTO person (household_id, name) VALUES (%s, 'kp') RETURNING id),"
        " k AS (INSERT INTO key_person (person_id, category) SELECT id, 'petitioner' FROM p)"
        " SELECT id FROM p", [own]).fetchone()[0]
    assert conn.execute("SELECT category FROM key_person WHERE person_id = %s",
                        [new]).fetchone() == ("petitioner",)
    for person in (api_world.persons[api_world.g2][1], api_world.persons[api_world.g3][1]):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("INSERT INTO key_person (person_id, category) VALUES (%s, 'petitioner')", [person])
    as_user(conn, api_world.users["viewer"])
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("INSERT INTO key_person (person_id, category) VALUES (%s, 'petitioner')",
                     [api_world.persons[api_world.g1][1]])
    conn.execute("RESET ROLE")


def test_worker_imports_key_persons_of_her_grid(api, auth, api_world, owner) -> None:  # noqa: F811
    ref = owner.execute("SELECT ref FROM household WHERE id = %s",
                        [api_world.households[api_world.g1][1]]).fetchone()[0]
    data = f"household_ref,name,key_person\n{ref},imported key person,petitioner\n".encode()
    r = api.post("/imports/persons", headers=auth("worker"),
                 files={"file": ("persons.csv", data, "text/csv")})
    assert r.status_code == 200, r.text
    made = owner.execute("SELECT p.id, k.category FROM person p LEFT JOIN key_person k ON k.person_id = p.id"
                         " WHERE p.name = 'imported key person'").fetchall()
    assert [m[1] for m in made] == ["petitioner"]
    for pid, _ in made:
        assert api.delete(f"/persons/{pid}", headers=auth("worker")).status_code == 204
