"""Who acted (issue 14, migration 023): inspections, violation moves and road section assignments are
stamped by the database with the signed-in account, whatever the statement or the request says — proved
as the service's own login role (gridmap_app, with a live token's hash, as the pool opens it), and
through the API. A write of the service with no signed-in user is refused; the owner's CLI with no user
named writes the name it gives, with no account. A grid worker's account link cannot be set by the
service's own statements, only through the admin's functions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
import pytest

from gis import db as gisdb
from gis.access import accounts

ISP = psycopg.errors.InsufficientPrivilege


@pytest.fixture
def login(settings) -> Iterator[psycopg.Connection]:
    """A connection exactly as the service's pool opens it: the login role's own credentials."""
    with psycopg.connect(gisdb.app_conninfo(settings)) as c:
        yield c
        c.rollback()


def signed_in(conn: psycopg.Connection, token: str, settings) -> None:
    conn.execute("SELECT set_config('gridmap.token_hash', %s, false)",
                 [accounts.token_hash(token, settings.secret_key).hex()])


def test_the_login_role_stamps_the_token_user_over_forged_names(login, api_world, extras, tokens,
                                                                 settings) -> None:
    me = api_world.users["inspector"]
    signed_in(login, tokens["inspector"], settings)
    assert login.execute("SELECT session_user, current_user").fetchone() == ("gridmap_app", "gridmap_app")
    row = login.execute(
        "INSERT INTO inspection (place_id, inspector, result, actor_user_id, actor_username)"
        " VALUES (%s, 'forged', 'compliant', 1, 'forged') RETURNING inspector, actor_user_id, actor_username",
        [extras.place_id]).fetchone()
    assert row == (me.username, me.user_id, me.username)
    events = login.execute(
        "INSERT INTO violation_event (violation_id, to_status, actor, actor_user_id, actor_username)"
        " VALUES (%(v)s, 'notified', 'forged', 1, 'forged'), (%(v)s, 'open', 'check', NULL, NULL)"
        " RETURNING actor, actor_user_id, actor_username", {"v": extras.violation}).fetchall()
    assert events == [(me.username, me.user_id, me.username),
                      (f"check ({me.username})", me.user_id, me.username)]


def test_an_assignment_records_the_planner_who_made_it(login, api_world, extras, tokens, settings) -> None:
    me = api_world.users["planner"]
    signed_in(login, tokens["planner"], settings)
    start = date(2000, 1, 1)  # long before the section's own assignment
    row = login.execute(
        "INSERT INTO road_section_assignment (section_id, unit_id, valid, actor_user_id, actor_username)"
        " VALUES (%s, %s, daterange(%s, %s), 1, 'forged') RETURNING actor_user_id, actor_username",
        [extras.section, extras.spare_unit, start, start + timedelta(days=30)]).fetchone()
    assert row == (me.user_id, me.username)
    # the stamp cannot be rewritten afterwards (closing the period still can be)
    with pytest.raises(ISP), login.transaction():
        login.execute("UPDATE road_section_assignment SET actor_username = 'forged' WHERE section_id = %s",
                      [extras.section])
    with pytest.raises(ISP), login.transaction():
        login.execute("UPDATE inspection SET inspector = 'forged' WHERE place_id = %s", [extras.place_id])
    login.execute("UPDATE road_section_assignment SET valid = daterange(lower(valid), lower(valid) + 2)"
                  " WHERE section_id = %s AND lower(valid) = %s", [extras.section, start])


def test_the_service_without_a_signed_in_user_writes_nothing(login, extras) -> None:
    for statement, params in (
            ("INSERT INTO inspection (place_id, inspector, result) VALUES (%s, 'x', 'compliant')",
             [extras.place_id]),
            ("INSERT INTO violation_event (violation_id, to_status, actor) VALUES (%s, 'open', 'check')",
             [extras.violation]),
            ("INSERT INTO road_section_assignment (section_id, unit_id, valid)"
             " VALUES (%s, %s, daterange('2000-01-01', '2000-02-01'))", [extras.section, extras.spare_unit])):
        with pytest.raises(ISP, match="needs a signed-in user"), login.transaction():
            login.execute(statement, params)


def test_the_owner_cli_without_a_user_keeps_its_name_and_no_account(database_url, extras) -> None:
    with psycopg.connect(database_url) as owner:
        row = owner.execute(
            "INSERT INTO violation_event (violation_id, to_status, actor, actor_user_id)"
            " VALUES (%s, 'open', 'check', 7) RETURNING actor, actor_user_id, actor_username",
            [extras.violation]).fetchone()
        owner.rollback()
    assert row == ("check", None, None)


def test_the_service_cannot_link_a_worker_to_an_account_by_itself(login, api_world, extras, tokens,
                                                                    settings) -> None:
    signed_in(login, tokens["admin"], settings)  # an admin of everything may write grid_worker rows
    login.execute("UPDATE grid_worker SET phone = '13900000000' WHERE id = %s", [extras.worker_in])
    with pytest.raises(ISP, match="linked by an admin"), login.transaction():
        login.execute("UPDATE grid_worker SET user_id = %s WHERE id = %s",
                      [api_world.users["worker"].user_id, extras.worker_in])
    with pytest.raises(ISP, match="linked by an admin"), login.transaction():
        login.execute("INSERT INTO grid_worker (name, user_id) VALUES ('x', %s)",
                      [api_world.users["worker"].user_id])
    with pytest.raises(ISP), login.transaction():
        login.execute("SELECT * FROM unit_account")


def test_the_api_stamps_the_signed_in_user(api, api_world, extras, tokens, database_url) -> None:
    me = api_world.users["inspector"].username
    headers = {"Authorization": f"Bearer {tokens['inspector']}"}
    for forged in ({"result": "compliant", "inspector": "forged"}, {"result": "compliant", "actor": "x"},
                   {"result": "compliant", "actor_username": "forged"}):
        r = api.post(f"/perimeter/places/{extras.place}/inspections", json=forged, headers=headers)
        assert r.status_code == 422, r.text  # a named actor is refused, not silently taken
    r = api.post(f"/perimeter/places/{extras.place}/inspections", json={"result": "compliant"},
                 headers=headers)
    assert r.status_code == 201, r.text
    inspection = r.json()["inspection_id"]
    r = api.post("/perimeter/violations/record", headers=headers)
    assert r.status_code == 200, r.text
    with psycopg.connect(database_url) as owner:
        assert owner.execute("SELECT inspector, actor_username, actor_user_id FROM inspection WHERE id = %s",
                             [inspection]).fetchone() == (me, me, api_world.users["inspector"].user_id)
        names = {r[0] for r in owner.execute(
            "SELECT DISTINCT actor_username FROM violation_event WHERE violation_id IN"
            " (SELECT id FROM violation WHERE place_id = %s) AND at > now() - interval '1 minute'",
            [extras.place_id])}
    assert names <= {me}
