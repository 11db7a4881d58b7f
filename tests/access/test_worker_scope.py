"""Writes to grid workers (网格员) are checked against the admin's scope and audited (migration 038): as
the service's role (gridmap_app), street A's admin cannot rename, re-phone or remove street B's worker,
in SQL or through the API; the admin of everything can; each change leaves one audit entry naming the
field, the old and new value (a personal phone masked) and the admin who acted."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from gis.access import accounts
from tests.access.conftest import World

ISP = psycopg.errors.InsufficientPrivilege


def _street_b_admin(conn: psycopg.Connection, w: World) -> accounts.Principal:
    username = f"{w.tag}-b-admin"
    conn.execute("INSERT INTO app_user (username, password_hash) VALUES (%s, %s)",
                 [username, "$argon2id$v=19$m=65536,t=3,p=4$unused"])
    accounts.grant(conn, username, "admin", w.other_community[:9])
    uid = accounts.user_id(conn, username)
    return accounts.Principal(uid, username, (accounts.Grant("admin", w.other_community[:9]),))


def _worker(conn: psycopg.Connection, name: str, grid: str) -> int:
    row = conn.execute(
        "WITH w AS (INSERT INTO grid_worker (name, phone) VALUES (%s, '13812345678') RETURNING id),"
        " g AS (INSERT INTO grid_worker_grid (worker_id, grid_code) SELECT id, %s FROM w)"
        " SELECT id FROM w", [name, grid]).fetchone()
    assert row is not None
    return row[0]


def _entries(conn: psycopg.Connection, worker: int, since: int) -> list[tuple]:
    return conn.execute(
        "SELECT action, detail, user_id, area FROM audit_log"
        " WHERE object = 'grid_worker' AND %s = ANY (object_ids) AND id > %s ORDER BY id",
        [worker, since]).fetchall()


def _last(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]


@pytest.fixture
def two(conn, world) -> Iterator[tuple[int, int]]:
    """A worker of street A (grid g1) and one of street B (grid g3), made by the owner."""
    yield _worker(conn, "worker A", world.g1), _worker(conn, "worker B", world.g3)


def test_street_admin_cannot_change_another_streets_worker_in_sql(conn, world, acting, two) -> None:
    a, b = two
    acting(world.users["street_admin"])
    since = _last(conn)
    assert conn.execute("UPDATE grid_worker SET name = 'taken' WHERE id = %s", [b]).rowcount == 0
    assert conn.execute("UPDATE grid_worker SET phone = '13900000000' WHERE id = %s", [b]).rowcount == 0
    assert conn.execute("DELETE FROM grid_worker WHERE id = %s", [b]).rowcount == 0
    # the admin still reads the whole directory (005): the row is there, unchanged
    assert conn.execute("SELECT name, phone FROM grid_worker WHERE id = %s", [b]).fetchone() == (
        "worker B", "13812345678")
    assert _entries(conn, b, since) == []
    # the service phone and the account link have their own checked paths: never a direct write
    conn.execute("SAVEPOINT s")
    with pytest.raises(ISP):
        conn.execute("UPDATE grid_worker SET service_phone = '0731-84567890' WHERE id = %s", [a])
    conn.execute("ROLLBACK TO SAVEPOINT s")


def test_a_worker_serving_both_streets_is_the_city_admins(conn, world, acting, two) -> None:
    a, _ = two
    conn.execute("INSERT INTO grid_worker_grid (worker_id, grid_code) VALUES (%s, %s)", [a, world.g3])
    acting(world.users["street_admin"])
    assert conn.execute("UPDATE grid_worker SET name = 'taken' WHERE id = %s", [a]).rowcount == 0


def test_street_admin_changes_her_own_worker_and_each_change_is_audited(conn, world, acting, two) -> None:
    a, _ = two
    me = world.users["street_admin"]
    acting(me)
    since = _last(conn)
    assert conn.execute("UPDATE grid_worker SET name = 'renamed A' WHERE id = %s", [a]).rowcount == 1
    assert _entries(conn, a, since) == [
        ("update", {"field": "name", "old": "worker A", "new": "renamed A"}, me.user_id, [world.g1])]
    since = _last(conn)
    conn.execute("UPDATE grid_worker SET phone = '13900001111', name = name WHERE id = %s", [a])
    assert _entries(conn, a, since) == [
        ("update", {"field": "phone", "old": "138****5678", "new": "139****1111"}, me.user_id, [world.g1])]
    since = _last(conn)
    assert conn.execute("DELETE FROM grid_worker WHERE id = %s", [a]).rowcount == 1
    assert _entries(conn, a, since) == [
        ("delete", {"field": "name", "old": "renamed A", "new": None}, me.user_id, [world.g1])]


def test_street_b_admin_is_kept_to_street_b(conn, world, acting, two) -> None:
    a, b = two
    b_admin = _street_b_admin(conn, world)
    acting(b_admin)
    assert conn.execute("UPDATE grid_worker SET name = 'taken' WHERE id = %s", [a]).rowcount == 0
    assert conn.execute("UPDATE grid_worker SET name = 'B renamed' WHERE id = %s", [b]).rowcount == 1


def test_the_city_admin_changes_any_worker(conn, world, acting, two) -> None:
    _, b = two
    me = world.users["admin"]
    acting(me)
    since = _last(conn)
    conn.execute("UPDATE grid_worker SET name = 'B by the city', phone = NULL WHERE id = %s", [b])
    assert [(e[1]["field"], e[2]) for e in _entries(conn, b, since)] == [("name", me.user_id),
                                                                         ("phone", me.user_id)]
    since = _last(conn)
    assert conn.execute("DELETE FROM grid_worker WHERE id = %s", [b]).rowcount == 1
    assert len(_entries(conn, b, since)) == 1


def test_a_scoped_admin_creates_a_worker_with_her_grids_only(conn, world, acting) -> None:
    me = world.users["street_admin"]
    acting(me)
    since = _last(conn)
    made = conn.execute(
        "WITH w AS (INSERT INTO grid_worker (name) VALUES ('new A') RETURNING id),"
        " g AS (INSERT INTO grid_worker_grid (worker_id, grid_code) SELECT id, %s FROM w)"
        " SELECT id FROM w", [world.g2]).fetchone()[0]
    assert _entries(conn, made, since) == [("insert", {"names": ["new A"]}, me.user_id, [world.g2])]
    conn.execute("SAVEPOINT s")
    with pytest.raises(ISP):  # no grid: an admin of everything's to create
        conn.execute("INSERT INTO grid_worker (name) VALUES ('nobody''s')")
    conn.execute("ROLLBACK TO SAVEPOINT s")
    with pytest.raises(ISP):  # a grid of street B: grid_worker_grid's policy
        conn.execute(
            "WITH w AS (INSERT INTO grid_worker (name) VALUES ('new B') RETURNING id)"
            " INSERT INTO grid_worker_grid (worker_id, grid_code) SELECT id, %s FROM w", [world.g3])
    conn.execute("ROLLBACK TO SAVEPOINT s")


# The API ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api_two(database_url, api_world) -> Iterator[tuple[int, int]]:
    with psycopg.connect(database_url) as c:
        made = _worker(c, "api worker A", api_world.g1), _worker(c, "api worker B", api_world.g3)
        c.commit()
    yield made
    with psycopg.connect(database_url) as c:
        c.execute("DELETE FROM grid_worker WHERE id = ANY (%s)", [list(made)])
        c.commit()


def test_api_street_admin_is_refused_on_another_streets_worker(api, api_two, bearer, database_url) -> None:
    _, b = api_two
    with psycopg.connect(database_url) as c:
        since = _last(c)
    street = bearer("street_admin")
    r = api.patch(f"/grid-workers/{b}", json={"name": "taken"}, headers=street)
    assert r.status_code == 403, r.text
    r = api.patch(f"/grid-workers/{b}", json={"phone": "13900000000"}, headers=street)
    assert r.status_code == 403, r.text
    assert api.put(f"/grid-workers/{b}/service-phone", json={"service_phone": "0731-84567890"},
                   headers=street).status_code == 403
    assert api.delete(f"/grid-workers/{b}", headers=street).status_code == 403
    assert api.patch("/grid-workers/999999999", json={"name": "x"}, headers=street).status_code == 404
    assert api.delete("/grid-workers/999999999", headers=street).status_code == 404
    r = api.post("/grid-workers", json={"name": "nobody's"}, headers=street)
    assert r.status_code == 403, r.text
    with psycopg.connect(database_url) as c:
        assert c.execute("SELECT name, phone FROM grid_worker WHERE id = %s", [b]).fetchone() == (
            "api worker B", "13812345678")
        assert _entries(c, b, since) == []


def test_api_changes_are_audited_once_each(api, api_world, api_two, bearer, database_url) -> None:
    a, b = api_two
    with psycopg.connect(database_url) as c:
        since = _last(c)
    r = api.patch(f"/grid-workers/{a}", json={"name": "A by the street"}, headers=bearer("street_admin"))
    assert r.status_code == 200 and r.json()["name"] == "A by the street", r.text
    r = api.patch(f"/grid-workers/{b}", json={"phone": "13900002222"}, headers=bearer("admin"))
    assert r.status_code == 200 and r.json()["phone"] == "139****2222", r.text
    assert api.patch(f"/grid-workers/{b}", json={"name": " "}, headers=bearer("admin")).status_code == 422
    assert api.patch(f"/grid-workers/{b}", json={"colour": "x"}, headers=bearer("admin")).status_code == 422
    with psycopg.connect(database_url) as c:
        assert [(e[0], e[1]["field"], e[2]) for e in _entries(c, a, since)] == [
            ("update", "name", api_world.users["street_admin"].user_id)]
        assert [(e[0], e[1]["field"], e[2]) for e in _entries(c, b, since)] == [
            ("update", "phone", api_world.users["admin"].user_id)]
    assert api.delete(f"/grid-workers/{b}", headers=bearer("admin")).status_code == 204
    with psycopg.connect(database_url) as c:
        assert [e[0] for e in _entries(c, b, since)] == ["update", "delete"]
