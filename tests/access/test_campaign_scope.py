"""The campaign's records kept to the reader's area (issue 16, migration 030), as the service's role: in the
access world's two streets each get a duty with a record, a 门前三包 agreement with a check, a compound with
its helper and a task, a facility, a volunteer team and an honour list. Street A's admin, viewer and planner
neither read (0 rows through SQL, 404 through the API) nor write street B's; an admin of everything reads
both; a unit's account still sees its own unit's duty and compound in the other street. Facilities stay
readable by every role (public places, counted by the facility check) and writable only in one's area."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg
import pytest

from api.policy import POLICY
from gis.access import accounts
from tests.access.conftest import PASSWORD, World, as_user


@dataclass
class Street:
    """The campaign records made in one street's community, by table."""

    community: str
    ids: dict[str, int] = field(default_factory=dict)


@dataclass
class Scene:
    a: Street
    b: Street
    unit: int  # the unit of both streets' duties and helpers; the account "unit" acts for it
    users: dict[str, accounts.Principal]
    tokens: dict[str, str]
    origin: dict[str, tuple[float, float]]  # community code -> south-west corner


# (user name, role, street: "a", "b" or "" for everything)
USERS = [("a_admin", "admin", "a"), ("a_viewer", "viewer", "a"), ("a_planner", "planner", "a"),
         ("b_admin", "admin", "b"), ("city", "admin", ""), ("unit", "unit", "a")]
A_USERS = ("a_admin", "a_viewer", "a_planner")
TABLES = {  # table -> the kind of record it holds (Street.ids key)
    "duty": "duty", "duty_record": "record", "frontage_agreement": "agreement", "frontage_check": "check",
    "compound": "compound", "compound_helper": "helper", "compound_task": "task", "facility": "facility",
    "volunteer_team": "team", "honour_list": "list",
}


def _records(conn: psycopg.Connection, w: World, community: str, x: float, y: float, unit: int) -> Street:
    one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
    s = Street(community)
    s.ids["duty"] = one("INSERT INTO duty (name, unit_id, recurrence, weekday, post, post_name, valid)"
                        " VALUES ('值守', %s, 'weekly', 5, ST_Point(%s, %s, 4326), '路口',"
                        " daterange(current_date - 60, NULL)) RETURNING id", [unit, x + 0.005, y + 0.005])
    s.ids["record"] = one("INSERT INTO duty_record (duty_id, duty_day, status, recorder)"
                          " VALUES (%s, current_date - 7, 'done', '') RETURNING id", [s.ids["duty"]])
    s.ids["agreement"] = one("INSERT INTO frontage_agreement (shop_name, geom, owner, valid) VALUES"
                             " ('shop', ST_Point(%s, %s, 4326), 'Wang', daterange(current_date - 30, NULL))"
                             " RETURNING id", [x + 0.003, y + 0.003])
    s.ids["check"] = one("INSERT INTO frontage_check (agreement_id, checked_on, result, checker)"
                         " VALUES (%s, current_date - 1, 'pass', '') RETURNING id", [s.ids["agreement"]])
    s.ids["compound"] = one("INSERT INTO compound (ref, name, geom) VALUES (%s, '小区',"
                            " ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))) RETURNING id",
                            [f"{w.tag}-cs-{community}", x + 0.006, y + 0.006, x + 0.007, y + 0.007])
    s.ids["helper"] = one("INSERT INTO compound_helper (compound_id, unit_id, valid)"
                          " VALUES (%s, %s, daterange(current_date - 30, NULL)) RETURNING id",
                          [s.ids["compound"], unit])
    s.ids["task"] = one("INSERT INTO compound_task (compound_id, unit_id, kind, title, done_on, recorder)"
                        " VALUES (%s, %s, 'greening', 'hedge', current_date - 1, '') RETURNING id",
                        [s.ids["compound"], unit])
    s.ids["facility"] = one("INSERT INTO facility (kind, name, owner_community, geom) VALUES"
                            " ('notice_board', '宣传栏', %s, ST_Point(%s, %s, 4326)) RETURNING id",
                            [community, x + 0.008, y + 0.008])
    s.ids["team"] = one("INSERT INTO volunteer_team (name, scope) VALUES (%s, %s) RETURNING id",
                        [f"{w.tag} cs team", community])
    s.ids["list"] = one("INSERT INTO honour_list (kind, scope, series, title, drafted_by) VALUES"
                        " ('civilised_household', %s, %s, 'cs', '') RETURNING id", [community, f"{w.tag}-cs"])
    return s


@pytest.fixture(scope="module")
def scene(database_url: str, settings, api_world: World) -> Iterator[Scene]:
    w = api_world
    streets = {"a": w.street, "b": w.other_community[:9], "": ""}
    with psycopg.connect(database_url) as c:
        origin = {code: (x, y) for code, x, y in c.execute(
            "SELECT code, ST_XMin(geom), ST_YMin(geom) FROM community WHERE code = ANY(%s)",
            [[w.community, w.other_community]]).fetchall()}
        unit = c.execute("INSERT INTO responsible_unit (name) VALUES (%s) RETURNING id",
                         [f"{w.tag} cs unit"]).fetchone()[0]
        users, tokens = {}, {}
        for name, role, street in USERS:
            username = f"{w.tag}-cs-{name.replace('_', '-')}"
            accounts.create_user(c, username, PASSWORD)
            accounts.grant(c, username, role, streets[street])
            uid = accounts.user_id(c, username)
            if role == "unit":
                c.execute("INSERT INTO unit_account (user_id, unit_id) VALUES (%s, %s)", [uid, unit])
            users[name] = accounts.Principal(uid, username, (accounts.Grant(role, streets[street]),))
            tokens[name], _ = accounts.issue_token(c, username, PASSWORD, settings.secret_key,
                                                   timedelta(hours=1))
        a = _records(c, w, w.community, *origin[w.community], unit)
        b = _records(c, w, w.other_community, *origin[w.other_community], unit)
        c.commit()
    yield Scene(a, b, unit, users, tokens, origin)
    with psycopg.connect(database_url) as c:  # as the owner; the world's teardown removes the accounts
        for s in (a, b):
            c.execute("DELETE FROM honour_list WHERE id = %s", [s.ids["list"]])
            c.execute("DELETE FROM volunteer_team WHERE id = %s", [s.ids["team"]])
            c.execute("DELETE FROM facility WHERE id = %s", [s.ids["facility"]])
            c.execute("DELETE FROM compound WHERE id = %s", [s.ids["compound"]])
            c.execute("DELETE FROM frontage_agreement WHERE id = %s", [s.ids["agreement"]])
            c.execute("DELETE FROM duty WHERE id = %s", [s.ids["duty"]])
        c.execute("DELETE FROM compound WHERE ref LIKE %s", [f"{api_world.tag}-cs-%"])
        c.execute("DELETE FROM responsible_unit WHERE id = %s", [unit])
        c.commit()


def seen(conn: psycopg.Connection, table: str, ids: list[int]) -> set[int]:
    return {r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE id = ANY(%s)", [ids]).fetchall()}


def test_each_record_lies_in_its_streets_community(conn, scene) -> None:
    for s in (scene.a, scene.b):
        for table in ("duty", "frontage_agreement", "compound"):
            kind = TABLES[table]
            area = conn.execute(f"SELECT area_code FROM {table} WHERE id = %s", [s.ids[kind]]).fetchone()[0]
            assert area == s.community, (table, area)


@pytest.mark.parametrize("name", A_USERS)
def test_street_a_reads_none_of_street_b_through_sql(conn, scene, name) -> None:
    as_user(conn, scene.users[name])
    role = scene.users[name].grants[0].role
    for table, kind in TABLES.items():
        b = seen(conn, table, [scene.b.ids[kind]])
        if table == "facility":
            assert b == {scene.b.ids[kind]}, "facilities are public places: every role reads them"
            continue
        assert b == set(), f"{name} reads street B's {table}"
        a = seen(conn, table, [scene.a.ids[kind]])
        # volunteer teams and honour lists are the register roles' (admin, grid worker)
        register_only = table in ("volunteer_team", "honour_list")
        assert a == (set() if register_only and role != "admin" else {scene.a.ids[kind]}), (name, table)


def test_an_admin_of_everything_reads_both_streets(conn, scene) -> None:
    as_user(conn, scene.users["city"])
    for table, kind in TABLES.items():
        ids = [scene.a.ids[kind], scene.b.ids[kind]]
        assert seen(conn, table, ids) == set(ids), table


def test_a_units_account_sees_its_own_across_streets(conn, scene) -> None:
    """The unit account's grant is street A's; its unit stands duty and helps a compound in both."""
    as_user(conn, scene.users["unit"])
    for table in ("duty", "duty_record", "compound", "compound_helper", "compound_task"):
        kind = TABLES[table]
        ids = [scene.a.ids[kind], scene.b.ids[kind]]
        assert seen(conn, table, ids) == set(ids), table
    # agreements are not its unit's: none (a unit reads only the agreements it is party to)
    assert seen(conn, "frontage_agreement", [scene.a.ids["agreement"], scene.b.ids["agreement"]]) == set()


@pytest.mark.parametrize("name", ["a_admin", "a_planner"])
def test_street_a_writes_none_of_street_b_through_sql(conn, scene, name) -> None:
    as_user(conn, scene.users[name])
    b = scene.b.ids
    for table, kind in (("duty", "duty"), ("frontage_agreement", "agreement"), ("compound", "compound")):
        with conn.transaction():
            assert conn.execute(f"UPDATE {table} SET note = 'x' WHERE id = %s", [b[kind]]).rowcount == 0
    assert conn.execute("UPDATE compound_helper SET note = 'x' WHERE id = %s", [b["helper"]]).rowcount == 0
    refused = {
        "a record of B's duty": ("INSERT INTO duty_record (duty_id, duty_day, status, recorder)"
                                 " VALUES (%s, current_date - 14, 'done', '')", [b["duty"]]),
        "a check of B's agreement": ("INSERT INTO frontage_check (agreement_id, checked_on, result, checker)"
                                     " VALUES (%s, current_date, 'pass', '')", [b["agreement"]]),
        "a helper of B's compound": ("INSERT INTO compound_helper (compound_id, unit_id, valid)"
                                     " VALUES (%s, %s, daterange(current_date - 400, current_date - 300))",
                                     [b["compound"], scene.unit]),
        "a task in B's compound": ("INSERT INTO compound_task (compound_id, unit_id, kind, title, done_on,"
                                   " recorder) VALUES (%s, %s, 'greening', 't', current_date, '')",
                                   [b["compound"], scene.unit]),
    }
    x, y = scene.origin[scene.b.community]
    refused["a compound in B"] = ("INSERT INTO compound (name, geom) VALUES"
                                  " ('x', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
                                  [x + 0.01, y + 0.01, x + 0.011, y + 0.011])
    refused["a duty at a crossing in B"] = (
        "INSERT INTO duty (name, unit_id, recurrence, month_day, post, valid) VALUES ('x', %s, 'monthly', 15,"
        " ST_Point(%s, %s, 4326), daterange(current_date, NULL))", [scene.unit, x + 0.01, y + 0.01])
    refused["A's compound moved into B"] = (
        "UPDATE compound SET geom = ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)) WHERE id = %s",
        [x + 0.01, y + 0.01, x + 0.011, y + 0.011, scene.a.ids["compound"]])
    for what, (query, params) in refused.items():
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(query, params)
            pytest.fail(f"{name} wrote {what}")
    # in her own street she writes (the same statements, street A's ids)
    with conn.transaction():
        changed = conn.execute("UPDATE compound SET note = 'x' WHERE id = %s", [scene.a.ids["compound"]])
        assert changed.rowcount == 1
        conn.execute("INSERT INTO duty_record (duty_id, duty_day, status, recorder)"
                     " VALUES (%s, current_date - 14, 'done', '')", [scene.a.ids["duty"]])


def _route(method: str, url: str) -> tuple[str, str]:
    template = re.sub(r"/\d+", "/{}", url)
    for (m, t), _ in POLICY.items():
        if m == method and re.sub(r"\{\w+\}", "{}", t) == template:
            return m, t
    raise AssertionError(f"no policy row for {method} {url}")


def _reads(s: Street) -> list[str]:
    i = s.ids
    return [f"/duties/{i['duty']}", f"/duties/{i['duty']}/records", f"/frontage/agreements/{i['agreement']}",
            f"/frontage/agreements/{i['agreement']}/checks", f"/compounds/{i['compound']}",
            f"/compounds/{i['compound']}/helpers", f"/compounds/{i['compound']}/tasks",
            f"/volunteers/teams/{i['team']}", f"/honours/lists/{i['list']}"]


def _writes(s: Street, unit: int) -> list[tuple[str, str, dict]]:
    i = s.ids
    return [
        ("POST", f"/duties/{i['duty']}/records", {"duty_day": "2020-01-03", "status": "done"}),
        ("POST", f"/frontage/agreements/{i['agreement']}/checks",
         {"checked_on": "2020-01-03", "result": "pass"}),
        ("POST", f"/compounds/{i['compound']}/helpers",
         {"unit_id": unit, "valid_from": "2001-01-01", "valid_to": "2001-12-31"}),
        ("POST", f"/compound-helpers/{i['helper']}/end", {"valid_to": "2099-01-01"}),
        ("PATCH", f"/facilities/{i['facility']}", {"name": "renamed"}),
        ("POST", f"/facilities/{i['facility']}/sessions",
         {"held_on": "2020-01-03", "topic": "t", "attendance": 1}),
        ("POST", f"/volunteers/teams/{i['team']}/members", {"name": "outsider", "phone": "13800000000"}),
    ]


def _allowed(scene: Scene, name: str, method: str, url: str) -> bool:
    return bool(POLICY[_route(method, url)].roles & {g.role for g in scene.users[name].grants})


@pytest.mark.parametrize("name", A_USERS)
def test_street_a_gets_404_for_street_b_through_the_api(api, scene, name) -> None:
    headers = {"Authorization": f"Bearer {scene.tokens[name]}"}
    for url in _reads(scene.b):
        r = api.get(url, headers=headers)
        want = 404 if _allowed(scene, name, "GET", url) else 403
        assert r.status_code == want, (url, r.status_code, r.text)
    for url in _reads(scene.a):  # her own street's: read wherever the route admits her
        if _allowed(scene, name, "GET", url) and not (name != "a_admin" and url.startswith(("/vol", "/hon"))):
            assert api.get(url, headers=headers).status_code == 200, url
    for method, url, body in _writes(scene.b, scene.unit):
        r = api.request(method, url, json=body, headers=headers)
        # a facility is seen by all: writing another street's is refused (403), not hidden (404)
        want = {404} if _allowed(scene, name, method, url) and not url.startswith("/facilities") else {403}
        assert r.status_code in want, (method, url, r.status_code, r.text)
    assert api.get(f"/facilities/{scene.b.ids['facility']}", headers=headers).status_code == 200


def test_an_admin_of_everything_reads_both_through_the_api(api, scene) -> None:
    headers = {"Authorization": f"Bearer {scene.tokens['city']}"}
    for url in _reads(scene.a) + _reads(scene.b):
        assert api.get(url, headers=headers).status_code == 200, url


def test_lists_and_figures_hold_only_the_readers_area(api, scene) -> None:
    a_admin = {"Authorization": f"Bearer {scene.tokens['a_admin']}"}
    duties = {d["id"] for d in api.get("/duties", headers=a_admin).json()}
    assert scene.a.ids["duty"] in duties and scene.b.ids["duty"] not in duties
    compounds = {c["id"] for c in api.get("/compounds", headers=a_admin).json()}
    assert scene.a.ids["compound"] in compounds and scene.b.ids["compound"] not in compounds
    coverage = api.get("/compounds/coverage", headers=a_admin, params={"level": "community"}).json()
    assert scene.b.community not in {r["code"] for r in coverage["rows"]}
    unit = {"Authorization": f"Bearer {scene.tokens['unit']}"}
    theirs = {d["id"] for d in api.get("/duties", headers=unit).json()}
    assert {scene.a.ids["duty"], scene.b.ids["duty"]} <= theirs


def test_a_compound_outside_every_community_is_its_nearest_communitys(conn, scene) -> None:
    """Drawn just past street B's edge: street B's, not only the admins' of everything; and a community
    drawn over it later takes it (the division's change re-places the records)."""
    x, y = scene.origin[scene.b.community]
    made = conn.execute("INSERT INTO compound (name, geom) VALUES ('edge', ST_Multi(ST_MakeEnvelope("
                        "%s, %s, %s, %s, 4326))) RETURNING id, area_code",
                        [x + 0.0205, y + 0.001, x + 0.0215, y + 0.002]).fetchone()
    assert made[1] == scene.b.community
    new = scene.b.community[:9] + "999"
    conn.execute("INSERT INTO community (code, name, geom) VALUES (%s, 'edge', ST_Multi(ST_MakeEnvelope("
                 "%s, %s, %s, %s, 4326)))", [new, x + 0.0201, y, x + 0.03, y + 0.02])
    assert conn.execute("SELECT area_code FROM compound WHERE id = %s", [made[0]]).fetchone()[0] == new
    # a street A admin neither sees nor moves it; street B's admin does
    as_user(conn, scene.users["a_admin"])
    assert seen(conn, "compound", [made[0]]) == set()
    as_user(conn, scene.users["b_admin"])
    assert seen(conn, "compound", [made[0]]) == {made[0]}


def test_a_duty_on_a_section_follows_the_sections_community(conn, scene) -> None:
    x, y = scene.origin[scene.a.community]
    line = f"SRID=4326;LINESTRING({x + 0.001} {y + 0.01},{x + 0.019} {y + 0.01})"
    road = conn.execute("INSERT INTO road (ref, name, geom) VALUES ('cs-road', 'road', %s) RETURNING id",
                        [line]).fetchone()[0]
    section = conn.execute("INSERT INTO road_section (road_id, code, road_name, length_m, community_code,"
                           " geom) VALUES (%s, 'cs-road-001', 'road', 1, %s, %s) RETURNING id",
                           [road, scene.a.community, line]).fetchone()[0]
    duty, area = conn.execute("INSERT INTO duty (name, unit_id, recurrence, weekday, section_id, valid)"
                              " VALUES ('路段', %s, 'weekly', 5, %s, daterange(current_date, NULL))"
                              " RETURNING id, area_code", [scene.unit, section]).fetchone()
    assert area == scene.a.community
    # the roads' placement moves the section to street B's community: its duty goes with it
    conn.execute("UPDATE road_section SET community_code = %s WHERE id = %s", [scene.b.community, section])
    assert conn.execute("SELECT area_code FROM duty WHERE id = %s", [duty]).fetchone()[0] == scene.b.community
    # a section without a community: the community at its midpoint
    conn.execute("UPDATE road_section SET community_code = NULL WHERE id = %s", [section])
    assert conn.execute("SELECT area_code FROM duty WHERE id = %s", [duty]).fetchone()[0] == scene.a.community
