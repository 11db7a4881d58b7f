"""Moves of persons over HTTP (迁入, 迁出, 户间迁移): the register's figures follow them (compared with
SQL counted separately as the owner), the record keeps no full ID number and names who recorded it,
another grid's worker can move nobody into or out of a grid not hers (404), stale versions are 409
and a household is never left without its head silently (422 naming new_head_id)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import psycopg
import pytest

from gis.access import accounts

PASSWORD = "moves horse battery staple"


def owner_counts(database_url: str, grid: str) -> dict[str, int]:
    """The figures the statistics must show, counted as the owner straight from the tables."""
    with psycopg.connect(database_url) as db:
        row = db.execute(
            """SELECT count(p.id), count(p.id) FILTER (WHERE p.residence = 'floating'), count(k.person_id)
               FROM household h JOIN person p ON p.household_id = h.id
               LEFT JOIN key_person k ON k.person_id = p.id WHERE h.grid_code = %s""", [grid]).fetchone()
    return {"persons": row[0], "floating": row[1], "key_persons": row[2]}


def api_counts(client, grid: str, headers: dict | None = None) -> dict[str, int]:
    r = client.get("/stats", params={"grid": grid}, headers=headers or {})
    assert r.status_code == 200, r.text
    (figures,) = [g["figures"] for g in r.json()["grids"] if g["code"] == grid]
    return {k: figures[k]["count"] for k in ("persons", "floating", "key_persons")}


@pytest.fixture
def world(client, two_grids, database_url, settings):
    """Households A (west grid, a head and a child) and B (east grid, a head); a worker of each grid."""
    d = two_grids()
    ids = {}
    for name, x in (("A", d["x0"] + 0.005), ("B", d["x0"] + 0.015)):
        r = client.post("/households", json={"address": f"迁移路{name}号", "lon": x, "lat": d["y0"] + 0.01})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    people = {}
    members = (("head_a", "A", "head"), ("child_a", "A", "child"), ("head_b", "B", "head"))
    for key, household, relation in members:
        r = client.post("/persons", json={"household_id": ids[household], "relation": relation,
                                          "name": f"{key} {uuid.uuid4().hex[:4]}"})
        assert r.status_code == 201, r.text
        people[key] = r.json()
    tokens = {}
    with psycopg.connect(database_url) as db:
        for name, grid in (("west", d["west"]), ("east", d["east"])):
            username = f"mv-{uuid.uuid4().hex[:6]}-{name}"
            accounts.create_user(db, username, PASSWORD)
            accounts.grant(db, username, "grid_worker", grid)
            tokens[name], _ = accounts.issue_token(db, username, PASSWORD, settings.secret_key,
                                                   timedelta(hours=1))
            tokens[name + "_name"] = username
        db.commit()
    return {**d, **ids, **people, "bearer": {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()
                                              if not k.endswith("_name")},
            "usernames": {k.removesuffix("_name"): v for k, v in tokens.items() if k.endswith("_name")}}


def test_move_in_transfer_and_move_out_change_the_figures(client, world, database_url, h):
    west, east = world["west"], world["east"]
    worker = world["bearer"]["west"]
    before = {g: owner_counts(database_url, g) for g in (west, east)}
    assert api_counts(client, west) == before[west] and api_counts(client, east) == before[east]
    id_number = h.id_number(born="19700512", male=True)
    # 迁入 by the west grid's worker: a floating key person
    r = client.post(f"/households/{world['A']}/move-in", headers=worker, json={
        "name": "迁入者", "id_number": id_number, "relation": "other", "residence": "floating",
        "key_person": "petitioner", "moved_on": str(date.today() - timedelta(days=3)), "note": "从长沙迁入"})
    assert r.status_code == 201, r.text
    person = r.json()
    assert r.headers["location"] == f"/persons/{person['id']}" and person["id_number"] != id_number
    after_in = owner_counts(database_url, west)
    assert after_in == {"persons": before[west]["persons"] + 1, "floating": before[west]["floating"] + 1,
                        "key_persons": before[west]["key_persons"] + 1}
    assert api_counts(client, west) == after_in
    # 户间迁移 west -> east by an admin of both: the same person (id), a new household
    r = client.post(f"/persons/{person['id']}/transfer",
                    json={"household_id": world["B"], "version": person["version"], "note": "投亲"})
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["id"] == person["id"] and moved["household_id"] == world["B"] and moved["grid_code"] == east
    assert moved["version"] == person["version"] + 1 and r.headers["etag"] == f'"{moved["version"]}"'
    assert owner_counts(database_url, west) == before[west] == api_counts(client, west)
    after_transfer = owner_counts(database_url, east)
    assert after_transfer["persons"] == before[east]["persons"] + 1
    assert after_transfer["key_persons"] == before[east]["key_persons"] + 1
    assert api_counts(client, east) == after_transfer
    # 迁出 from east: the person leaves the register, with their key-person tag
    r = client.post(f"/persons/{person['id']}/move-out",
                    json={"version": moved["version"], "note": "迁往广州"})
    assert r.status_code == 200, r.text
    record = r.json()
    assert record["kind"] == "out" and record["person_id"] == person["id"]
    assert record["id_number"] == id_number[:6] + "********" + id_number[-4:]
    assert owner_counts(database_url, east) == before[east] == api_counts(client, east)
    with psycopg.connect(database_url) as db:
        assert db.execute("SELECT count(*) FROM person WHERE id = %s", [person["id"]]).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM key_person WHERE person_id = %s",
                          [person["id"]]).fetchone()[0] == 0
        rows = db.execute("SELECT kind, from_household_id, to_household_id, actor_username,"
                          " row_to_json(m)::text"
                          " FROM person_move m WHERE person_id = %s ORDER BY id", [person["id"]]).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("in", None, world["A"]), ("transfer", world["A"], world["B"]), ("out", world["B"], None)]
    # who recorded it is stamped by the database from the token; the full ID number is kept nowhere
    assert rows[0][3] == world["usernames"]["west"] and rows[1][3] == rows[2][3] != rows[0][3]
    assert all(id_number not in r[4] and id_number[6:14] not in r[4] for r in rows)
    # each household's record, newest first
    history = client.get(f"/households/{world['B']}/moves").json()
    assert history["total"] == 2 and [m["kind"] for m in history["items"]] == ["out", "transfer"]
    assert history["items"][1]["from_address"] == "迁移路A号"
    assert [m["kind"] for m in client.get(f"/households/{world['A']}/moves").json()["items"]] == [
        "transfer", "in"]


def test_another_grids_worker_moves_nobody_in_or_out_of_a_grid_not_hers(client, world, database_url):
    east = world["bearer"]["east"]
    child = world["child_a"]
    before = {g: owner_counts(database_url, g) for g in (world["west"], world["east"])}
    attempts = [
        ("post", f"/persons/{child['id']}/move-out", {"version": child["version"]}),
        ("post", f"/persons/{child['id']}/transfer",
         {"household_id": world["B"], "version": child["version"]}),
        # her own person into the other grid's household
        ("post", f"/persons/{world['head_b']['id']}/transfer",
         {"household_id": world["A"], "version": world["head_b"]["version"], "relation": "other"}),
        ("post", f"/households/{world['A']}/move-in", {"name": "不该迁入"}),
        ("get", f"/households/{world['A']}/moves", None),
    ]
    for method, path, body in attempts:
        r = getattr(client, method)(path, headers=east, **({"json": body} if body is not None else {}))
        assert r.status_code == 404, (path, r.status_code, r.text)
    assert {g: owner_counts(database_url, g) for g in before} == before
    with psycopg.connect(database_url) as db:
        assert db.execute("SELECT count(*) FROM person_move WHERE from_household_id = ANY(%s)"
                          " OR to_household_id = ANY(%s)", [[world["A"], world["B"]]] * 2).fetchone()[0] == 0
    # the west worker moves her own; the east worker then sees the transfer's record (her household),
    # not the west household's own move-in
    west = world["bearer"]["west"]
    r = client.post(f"/households/{world['A']}/move-in", headers=west,
                    json={"name": "新生儿", "note": "出生"})
    assert r.status_code == 201, r.text
    r = client.post(f"/persons/{r.json()['id']}/transfer", json={"household_id": world["B"], "version": 1})
    assert r.status_code == 200, r.text
    seen = client.get(f"/households/{world['B']}/moves", headers=east).json()["items"]
    assert [m["kind"] for m in seen] == ["transfer"] and seen[0]["from_address"] is None  # not hers to read
    assert client.get(f"/households/{world['A']}/moves", headers=west).json()["total"] == 2


def test_a_stale_version_is_409_and_changes_nothing(client, world, database_url):
    child = world["child_a"]
    r = client.patch(f"/persons/{child['id']}", json={"phone": "13800001111", "version": child["version"]})
    assert r.status_code == 200
    before = owner_counts(database_url, world["west"])
    for path, body in ((f"/persons/{child['id']}/move-out", {"version": child["version"]}),
                       (f"/persons/{child['id']}/transfer",
                        {"household_id": world["B"], "version": child["version"]})):
        r = client.post(path, json=body)
        assert r.status_code == 409 and f"version {child['version'] + 1}" in r.json()["detail"], r.text
    # If-Match names the version as well
    assert client.post(f"/persons/{child['id']}/move-out", json={},
                       headers={"If-Match": f'"{child["version"]}"'}).status_code == 409
    assert client.post(f"/persons/{child['id']}/move-out", json={}).status_code == 422  # no version at all
    assert owner_counts(database_url, world["west"]) == before


def test_the_head_leaves_only_naming_the_new_head(client, world, database_url):
    head, child = world["head_a"], world["child_a"]
    for path, body in ((f"/persons/{head['id']}/move-out", {"version": head["version"]}),
                       (f"/persons/{head['id']}/transfer",
                        {"household_id": world["B"], "version": head["version"], "relation": "other"})):
        r = client.post(path, json=body)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["new_head_id"]
    # the new head must be another member of the household; only a leaving head names one
    assert client.post(f"/persons/{head['id']}/move-out", json={"version": head["version"], "new_head_id":
                       world["head_b"]["id"]}).json()["errors"][0]["field"] == "new_head_id"
    assert client.post(f"/persons/{child['id']}/move-out", json={"version": child["version"], "new_head_id":
                       head["id"]}).json()["errors"][0]["field"] == "new_head_id"
    # a second head is refused in the household moved into
    r = client.post(f"/persons/{head['id']}/transfer",
                    json={"household_id": world["B"], "version": head["version"], "new_head_id": child["id"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "relation", r.text
    r = client.post(f"/households/{world['B']}/move-in", json={"name": "第二户主", "relation": "head"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "relation"
    # named in the same step: the head leaves, the child is head
    r = client.post(f"/persons/{head['id']}/move-out",
                    json={"version": head["version"], "new_head_id": child["id"], "note": "死亡"})
    assert r.status_code == 200, r.text
    with psycopg.connect(database_url) as db:
        relations = db.execute("SELECT id, relation, version FROM person WHERE household_id = %s",
                               [world["A"]]).fetchall()
    assert relations == [(child["id"], "head", child["version"] + 1)]
    # the last member, head or not, may leave: the household stays, empty
    r = client.post(f"/persons/{child['id']}/move-out", json={"version": child["version"] + 1})
    assert r.status_code == 200, r.text
    assert client.get(f"/households/{world['A']}").json()["members"] == 0


@pytest.mark.parametrize("body, field", [
    ({"moved_on": str(date.today() + timedelta(days=1))}, "moved_on"),
    ({"note": "x" * 201}, "note"),
    ({"note": "a\x00b"}, "note"),
    ({"new_head_id": 0}, "new_head_id"),
])
def test_bad_move_input_is_422_naming_the_field(client, world, body, field):
    child = world["child_a"]
    r = client.post(f"/persons/{child['id']}/move-out", json={"version": child["version"], **body})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    r = client.post(f"/persons/{child['id']}/transfer",
                    json={"household_id": world["B"], "version": child["version"], **body})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


def test_transfers_to_the_same_or_a_missing_household(client, world):
    child = world["child_a"]
    same = client.post(f"/persons/{child['id']}/transfer", json={"household_id": world["A"], "version": 1})
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "household_id"
    missing = client.post(f"/persons/{child['id']}/transfer", json={"household_id": 2**62, "version": 1})
    assert missing.status_code == 404
    assert client.post("/persons/999999999/move-out", json={"version": 1}).status_code == 404


def test_the_record_is_append_only_for_the_service(database_url):
    with psycopg.connect(database_url) as db:
        grants = db.execute("SELECT privilege_type FROM information_schema.role_table_grants"
                            " WHERE grantee = 'gridmap_app' AND table_name = 'person_move'").fetchall()
    privileges = {g[0] for g in grants}
    assert {"SELECT", "INSERT"} <= privileges and not privileges & {"UPDATE", "DELETE", "TRUNCATE"}


def test_the_workbench_forms_answer_a_script_with_its_bearer_token(client, world, database_url):
    """The person forms' posts (api/workbench/persons.py) need no CSRF token beside a bearer token, as
    the permission matrix sends them: add, edit, move out with the new head named."""
    head, child = world["head_a"], world["child_a"]
    r = client.post(f"/households/{world['A']}/persons/new", data={"name": "脚本添加", "relation": "other"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/households/{world['A']}", r.text[:300]
    r = client.post(f"/persons/{head['id']}/edit", follow_redirects=False, data={
        "name": "改名", "relation": "head", "residence": "registered", "key_person": "petitioner",
        "version": str(head["version"])})
    assert r.status_code == 303, r.text[:300]
    r = client.post(f"/persons/{head['id']}/move", follow_redirects=False, data={
        "kind": "out", "version": str(head["version"] + 1), "new_head_id": str(child["id"])})
    assert r.status_code == 303, r.text[:300]
    with psycopg.connect(database_url) as db:
        assert db.execute("SELECT name, relation FROM person WHERE household_id = %s ORDER BY id",
                          [world["A"]]).fetchall() == [(child["name"], "head"), ("脚本添加", "other")]
