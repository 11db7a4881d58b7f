"""Scope leaks (issue 10, class 6, the register's and roads' part) and a duplicate ID number (class 11).

- A household outside every grid belongs to the admins whose scope covers the community it lies in:
  an admin of street B neither reads nor changes street A's (before migration 011 the policies gave
  every ungridded household of the city to any admin: ``grid_code IS NULL AND access_any('{admin}')``).
- Viewers get no contact person and no phone of the responsible units through the sections, the
  assignments or the roads map (before, every road reader got ``u.contact, u.phone``).
- A duplicate ID number gets the same 409 whichever grid holds the person, naming neither the grid nor
  the person, and the attempt is audited (before, nothing recorded it: a worker could probe the
  register of the whole city unseen)."""

from __future__ import annotations

import json

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.access.conftest import World, api_world, as_user, secured_app  # noqa: F401 - fixtures
from tests.conftest import own_database
from tests.security.test_register_world import (  # noqa: F401 - fixtures
    UNIT_CONTACT,
    UNIT_PHONE,
    Extras,
    auth,
    column,
    extras,
    owner,
)

database_url, settings, admin_token = own_database("gridmap_sec_register_scope")


@pytest.fixture(scope="module")
def api(settings):
    with TestClient(secured_app(settings)) as c:
        yield c


def outside(api, headers: dict) -> set[int]:
    r = api.get("/households?placement=outside&limit=1000", headers=headers)
    assert r.status_code == 200, r.text
    return {h["id"] for h in r.json()["items"]}


# --- households outside every grid -------------------------------------------------------------------

def test_ungridded_households_belong_to_the_admins_of_their_community(api, auth, api_world, extras) -> None:  # noqa: F811
    c, d, far = extras.ungridded["c"], extras.ungridded["d"], api_world.households[""][0]
    assert outside(api, auth("street_admin")) == {c}
    assert outside(api, auth("street_b_admin")) == {d}
    assert {c, d, far} <= outside(api, auth("admin"))
    assert api.get(f"/households/{c}", headers=auth("street_b_admin")).status_code == 404
    persons = api.get(f"/persons?household={c}", headers=auth("street_b_admin"))
    assert persons.status_code == 200 and persons.json()["items"] == []
    assert len(api.get(f"/persons?household={c}", headers=auth("street_admin")).json()["items"]) == 2
    unplaced = api.get(f"/communities/{extras.community_d}/unplaced", headers=auth("street_b_admin"))
    assert unplaced.status_code == 200 and {h["id"] for h in unplaced.json()} == {d}


def test_ungridded_rows_as_raw_sql(conn, api_world, extras: Extras, owner) -> None:  # noqa: F811
    c, d = extras.ungridded["c"], extras.ungridded["d"]
    as_user(conn, extras.users["street_b_admin"])
    assert column(conn, "SELECT id FROM household WHERE grid_code IS NULL") == {d}
    assert column(conn, "SELECT household_id FROM person WHERE household_id = ANY(%s)", [[c, d]]) == {d}
    assert conn.execute("UPDATE household SET room = 'x' WHERE id = %s", [c]).rowcount == 0
    assert conn.execute("DELETE FROM person WHERE household_id = %s", [c]).rowcount == 0
    assert conn.execute("DELETE FROM household WHERE id = %s", [c]).rowcount == 0
    x, y = owner.execute("SELECT ST_X(geom), ST_Y(geom) FROM household WHERE id = %s", [c]).fetchone()
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():  # into street A's community
        conn.execute("INSERT INTO household (address, grid_code, placement, geom)"
                     " VALUES ('x', NULL, 'outside', ST_SetSRID(ST_MakePoint(%s, %s), 4326))", [x, y])
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():  # moving its own away
        conn.execute("UPDATE household SET geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326) WHERE id = %s",
                     [x, y, d])
    assert conn.execute("UPDATE household SET room = 'x' WHERE id = %s", [d]).rowcount == 1
    as_user(conn, api_world.users["street_admin"])
    assert column(conn, "SELECT id FROM household WHERE grid_code IS NULL") == {c}
    assert conn.execute("INSERT INTO household (address, grid_code, placement, geom)"
                        " VALUES ('x', NULL, 'outside', ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
                        " RETURNING id", [x, y]).fetchone() is not None
    as_user(conn, api_world.users["admin"])
    everything = column(conn, "SELECT id FROM household WHERE grid_code IS NULL")
    assert {c, d, api_world.households[""][0]} <= everything
    conn.execute("RESET ROLE")


# --- the responsible units' contacts ------------------------------------------------------------------

def _contact_free(text: str) -> bool:
    return UNIT_PHONE not in text and UNIT_CONTACT not in text and UNIT_PHONE[-4:] + '"' not in text


def test_viewers_get_no_contacts(api, auth, api_world, extras: Extras) -> None:  # noqa: F811
    paths = ["/sections", f"/sections?community={api_world.community}", f"/sections/{extras.section}",
             f"/sections/{extras.section}/assignments", f"/assignments/{extras.assignment}",
             "/maps/roads", f"/maps/roads?community={api_world.community}", "/roads/coverage"]
    for path in paths:
        r = api.get(path, headers=auth("viewer"))
        assert r.status_code == 200, (path, r.text[:300])
        assert _contact_free(r.text), path
    feature = next(f for f in api.get("/sections", headers=auth("viewer")).json()["features"]
                   if f["properties"]["id"] == extras.section)
    assert feature["properties"]["unit_name"]  # who holds the section stays public
    assert feature["properties"]["contact"] is None and feature["properties"]["phone"] is None
    history = api.get(f"/sections/{extras.section}/assignments", headers=auth("viewer")).json()
    assert [(a["contact"], a["phone"]) for a in history] == [(None, None)]


@pytest.mark.parametrize("reader", ["planner", "admin"])
def test_planners_and_admins_still_get_contacts(api, auth, extras: Extras, reader) -> None:  # noqa: F811
    for path in ("/sections", f"/sections/{extras.section}/assignments", f"/assignments/{extras.assignment}",
                 "/maps/roads"):
        r = api.get(path, headers=auth(reader))
        assert r.status_code == 200 and UNIT_PHONE in r.text, path
    assert api.get("/units", headers=auth("viewer")).status_code == 403


# --- a duplicate ID number ----------------------------------------------------------------------------

def test_duplicate_id_number_answers_the_same_and_is_audited(api, auth, api_world, owner) -> None:  # noqa: F811
    own_hh = api_world.households[api_world.g1][0]
    taken = {grid: owner.execute("SELECT id_number FROM person WHERE id = %s",
                                 [api_world.persons[grid][1]]).fetchone()[0]
             for grid in (api_world.g1, api_world.g3)}  # in her grid, and in another street's grid
    before = owner.execute("SELECT count(*) FROM audit_log WHERE object = 'persons.duplicate_id_number'"
                           " AND username = %s", [api_world.users["worker"].username]).fetchone()[0]
    answers = []
    for grid, id_number in taken.items():
        r = api.post("/persons", headers=auth("worker"),
                     json={"household_id": own_hh, "name": "probe", "id_number": id_number})
        assert r.status_code == 409, r.text
        body = json.dumps(r.json(), sort_keys=True)
        assert grid not in body and id_number not in body and "person" not in r.json()["detail"].lower()
        answers.append(body)
    assert answers[0] == answers[1]
    # A PATCH of her own person to the other street's number: the same answer.
    mine = api_world.persons[api_world.g1][0]
    version = owner.execute("SELECT version FROM person WHERE id = %s", [mine]).fetchone()[0]
    r = api.patch(f"/persons/{mine}", headers=auth("worker"),
                  json={"id_number": taken[api_world.g3], "version": version})
    assert r.status_code == 409 and json.dumps(r.json(), sort_keys=True) == answers[0]
    owner.rollback()
    after = owner.execute("SELECT count(*) FROM audit_log WHERE object = 'persons.duplicate_id_number'"
                          " AND username = %s", [api_world.users["worker"].username]).fetchone()[0]
    assert after - before == 3
    details = [r[0] for r in owner.execute(
        "SELECT detail FROM audit_log WHERE object = 'persons.duplicate_id_number' AND username = %s"
        " ORDER BY id DESC LIMIT 3", [api_world.users["worker"].username])]
    assert all(taken[api_world.g3] not in json.dumps(d) for d in details)  # the log keeps it masked
