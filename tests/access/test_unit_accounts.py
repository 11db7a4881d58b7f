"""Accounts linked to what they act as (issue 14, migration 023), over the HTTP API as the service's role:
an admin links a unit-role account to its responsible unit (责任单位) and a grid worker record to a grid
worker's account, only within her scope; linking an account without the role is refused (409); every
link is stamped with the admin and audited; access_units() names the unit only while the account is
active and holds the unit role; the directory tells others whether a worker has an account, not which."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from gis.access import accounts

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def people(database_url, api_world) -> Iterator[dict[str, str]]:
    """Accounts beside the world's: a unit account in street A (the street admin's), one in the other
    community (not hers), a grid worker of g3, and a reporter of street A."""
    w = api_world
    made = {"unit_a": [("unit", w.street)], "unit_b": [("unit", w.other_community)],
            "worker_b": [("grid_worker", w.g3)], "reporter": [("reporter", w.street)]}
    names = {}
    with psycopg.connect(database_url) as c:
        for name, grants in made.items():
            username = f"{w.tag}-{name.replace('_', '-')}"
            accounts.create_user(c, username, PASSWORD)
            for role, scope in grants:
                accounts.grant(c, username, role, scope)
            names[name] = username
        c.commit()
    yield names
    with psycopg.connect(database_url) as c:  # the world's teardown removes the accounts
        c.execute("UPDATE grid_worker SET user_id = NULL WHERE user_id IN"
                  " (SELECT id FROM app_user WHERE username LIKE %s)", [f"{w.tag}-%"])
        c.commit()


def auth(tokens, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[name]}"}


def units_of(database_url: str, username: str) -> list[int]:
    """access_units() for that user, in a session of the owner's naming them."""
    with psycopg.connect(database_url) as c:
        uid = accounts.user_id(c, username)
        c.execute("SELECT set_config('gridmap.user_id', %s, false)", [str(uid)])
        return c.execute("SELECT access_units()").fetchone()[0]


def test_a_street_admin_links_a_unit_account_within_her_scope(api, api_world, extras, tokens, people,
                                                              database_url) -> None:
    street_admin = auth(tokens, "street_admin")
    r = api.put(f"/users/{people['unit_a']}/unit", json={"unit_id": extras.unit}, headers=street_admin)
    assert r.status_code == 200, r.text
    unit = r.json()["unit"]
    assert unit["id"] == extras.unit and unit["linked_by"] == api_world.users["street_admin"].username
    assert r.json()["worker"] is None
    linked = api.get(f"/users/{people['unit_a']}/links", headers=street_admin).json()
    assert linked["unit"]["id"] == extras.unit
    assert units_of(database_url, people["unit_a"]) == [extras.unit]
    # another unit replaces it; the same again is no change
    r = api.put(f"/users/{people['unit_a']}/unit", json={"unit_id": extras.spare_unit}, headers=street_admin)
    assert r.status_code == 200 and r.json()["unit"]["id"] == extras.spare_unit
    with psycopg.connect(database_url) as c:
        audited = c.execute("SELECT username, detail ->> 'unit_id', area FROM audit_log"
                            " WHERE object = 'unit_account' AND detail ->> 'username' = %s ORDER BY id",
                            [people["unit_a"]]).fetchall()
    admin = api_world.users["street_admin"].username
    assert audited == [(admin, str(extras.unit), [api_world.street]),
                       (admin, str(extras.spare_unit), [api_world.street])]
    # outside her scope the account does not exist for her; an admin of everything links it
    r = api.put(f"/users/{people['unit_b']}/unit", json={"unit_id": extras.unit}, headers=street_admin)
    assert r.status_code == 404, r.text
    r = api.put(f"/users/{people['unit_b']}/unit", json={"unit_id": extras.unit},
                headers=auth(tokens, "admin"))
    assert r.status_code == 200, r.text
    # unlinking
    assert api.delete(f"/users/{people['unit_b']}/unit", headers=auth(tokens, "admin")).status_code == 204
    assert units_of(database_url, people["unit_b"]) == []


def test_only_a_unit_role_holder_is_linked_to_a_unit(api, extras, tokens, people) -> None:
    admin = auth(tokens, "admin")
    for name in ("reporter", "worker_b"):
        r = api.put(f"/users/{people[name]}/unit", json={"unit_id": extras.unit}, headers=admin)
        assert r.status_code == 409 and "unit" in r.json()["detail"], r.text
    r = api.put(f"/users/{people['unit_a']}/unit", json={"unit_id": 2**62}, headers=admin)
    assert r.status_code == 404, r.text
    for body in ({"unit_id": 0}, {"unit_id": "x"}, {}, {"unit_id": extras.unit, "linked_by": "forged"}):
        r = api.put(f"/users/{people['unit_a']}/unit", json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
    # nobody but an admin links anything
    for role in ("worker", "planner", "viewer", "inspector"):
        r = api.put(f"/users/{people['unit_a']}/unit", json={"unit_id": extras.unit},
                    headers=auth(tokens, role))
        assert r.status_code == 403, (role, r.text)


def test_access_units_only_while_active_and_holding_the_role(api, api_world, extras, tokens, people,
                                                             database_url) -> None:
    admin = auth(tokens, "admin")
    name = people["unit_a"]
    assert api.put(f"/users/{name}/unit", json={"unit_id": extras.unit}, headers=admin).status_code == 200
    assert units_of(database_url, name) == [extras.unit]
    assert api.patch(f"/users/{name}", json={"active": False}, headers=admin).status_code == 200
    assert units_of(database_url, name) == []
    assert api.patch(f"/users/{name}", json={"active": True}, headers=admin).status_code == 200
    assert units_of(database_url, name) == [extras.unit]
    # without the unit role (a reporter grant keeps the account reachable) the link names nothing
    assert api.post(f"/users/{name}/grants", json={"role": "reporter", "scope": ""},
                    headers=admin).status_code == 201
    r = api.delete(f"/users/{name}/grants", params={"role": "unit", "scope": api_world.street}, headers=admin)
    assert r.status_code == 204, r.text
    assert units_of(database_url, name) == []


def test_a_grid_worker_record_is_linked_to_her_account(api, api_world, extras, tokens, people,
                                                       database_url) -> None:
    street_admin, admin = auth(tokens, "street_admin"), auth(tokens, "admin")
    worker = api_world.users["worker"].username
    url = f"/grid-workers/{extras.worker_in}/account"
    assert api.get(url, headers=street_admin).json() == {"worker_id": extras.worker_in, "has_account": False,
                                                         "username": None}
    r = api.put(url, json={"username": worker}, headers=street_admin)
    assert r.status_code == 200 and r.json()["username"] == worker, r.text
    assert api.put(url, json={"username": worker}, headers=street_admin).status_code == 200  # no change
    # her colleagues and viewers learn that she has an account, not its name; no one else of anything
    for role in ("worker", "viewer"):
        assert api.get(url, headers=auth(tokens, role)).json() == {
            "worker_id": extras.worker_in, "has_account": True, "username": None}, role
    out = f"/grid-workers/{extras.worker_out}/account"
    assert api.get(out, headers=auth(tokens, "worker")).status_code == 404
    assert api.get(out, headers=street_admin).status_code == 404
    # a worker of another street, or an account outside her scope: not hers to link
    assert api.put(out, json={"username": people["worker_b"]}, headers=street_admin).status_code == 403
    r = api.put(url, json={"username": people["worker_b"]}, headers=street_admin)
    assert r.status_code == 404, r.text
    # an account without a grid worker grant, or already another worker's: 409
    assert api.put(out, json={"username": people["unit_b"]}, headers=admin).status_code == 409
    r = api.put(out, json={"username": worker}, headers=admin)
    assert r.status_code == 409 and "already" in r.json()["detail"], r.text
    # a name for who linked it is not taken
    assert api.put(url, json={"username": worker, "linked_by": "x"}, headers=admin).status_code == 422
    with psycopg.connect(database_url) as c:
        stamped = c.execute("SELECT u.username, w.linked_by, w.linked_by_id FROM grid_worker w"
                            " JOIN app_user u ON u.id = w.user_id WHERE w.id = %s",
                            [extras.worker_in]).fetchone()
        audited = c.execute("SELECT username, object_ids, area @> %s FROM audit_log"
                            " WHERE object = 'grid_worker' AND detail ->> 'username' = %s ORDER BY id",
                            [[api_world.g1], worker]).fetchall()
    me = api_world.users["street_admin"]
    assert stamped == (worker, me.username, me.user_id)
    assert audited == [(me.username, [extras.worker_in], True)]
    assert api.delete(url, headers=street_admin).status_code == 204
    assert api.get(url, headers=street_admin).json()["has_account"] is False
