"""The audit log: changes to personal data are logged by the database, reads and exports by the
service; nobody (the service role least of all) can change or remove an entry."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from gis.access import audit


def last(conn: psycopg.Connection, n: int = 1) -> list[dict]:
    """The newest entries, read as the owner (the service role reads only what its admin may: see
    tests/security/test_boundary_audit.py), then back to the role the test was acting as."""
    role, session = conn.execute("SELECT current_user, session_user").fetchone()
    conn.execute("RESET ROLE")
    try:
        return audit.entries(conn, limit=n)["entries"]
    finally:
        if role != session:
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))


def test_changes_to_personal_data_are_logged_per_statement(conn, world, acting) -> None:
    acting(world.users["worker"])
    own = world.households[world.g1]
    conn.execute("UPDATE person SET phone = '13900000000' WHERE household_id = ANY(%s)", [own])
    entry = last(conn)[0]
    assert (entry["action"], entry["object"]) == ("update", "person")
    assert entry["object_ids"] == sorted(world.persons[world.g1]) and entry["row_count"] == 6
    assert entry["username"] == world.users["worker"].username
    assert entry["user_id"] == world.users["worker"].user_id
    assert entry["client"] == "pytest" and entry["db_role"].endswith("gridmap_app")
    conn.execute("DELETE FROM key_person WHERE person_id = %s", [world.key_persons[world.g1][0]])
    entry = last(conn)[0]
    assert (entry["action"], entry["object"], entry["object_ids"]) == (
        "delete", "key_person", [world.key_persons[world.g1][0]])
    # A statement that changes nothing leaves nothing.
    before = last(conn)[0]["id"]
    conn.execute("UPDATE person SET name = 'x' WHERE false")
    assert last(conn)[0]["id"] == before


def test_bulk_copy_is_one_entry(conn, world) -> None:
    hid = world.households[world.g1][0]
    with conn.cursor().copy("COPY person (household_id, name) FROM STDIN") as copy:
        for i in range(500):
            copy.write_row((hid, f"copied {i}"))
    entry = last(conn)[0]
    assert (entry["action"], entry["object"], entry["row_count"]) == ("insert", "person", 500)
    assert entry["user_id"] is None and entry["db_role"]  # the owner (CLI) acting: logged all the same


def test_stamps_cannot_be_forged(conn, world, acting) -> None:
    acting(world.users["worker"])
    conn.execute("INSERT INTO audit_log (action, object, user_id, username, at, client)"
                 " VALUES ('read', 'x', 1, 'someone-else', '2000-01-01', 'elsewhere')")
    entry = last(conn)[0]
    assert entry["username"] == world.users["worker"].username and entry["at"].year > 2000
    assert entry["client"] == "pytest"


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'read'", "DELETE FROM audit_log",
                                       "TRUNCATE audit_log"])
def test_service_role_cannot_change_the_log(conn, world, acting, statement) -> None:
    audit.record(conn, "export", "/grids/{code}/register.xlsx", {"code": world.g1})
    acting(world.users["admin"])
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute(statement)


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'read'", "DELETE FROM audit_log",
                                       "TRUNCATE audit_log"])
def test_even_the_owner_cannot_change_the_log(conn, world, statement) -> None:
    audit.record(conn, "export", "/grids/{code}/register.xlsx", {"code": world.g1})
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"), conn.transaction():
        conn.execute(statement)


def test_entries_filter_and_validate(conn, world, acting) -> None:
    acting(world.users["admin"])
    audit.record(conn, "read", "/persons/{person_id}", {"person_id": 7}, ids=[7])
    found = audit.entries(conn, username=world.users["admin"].username, action="read")
    assert found["total"] >= 1 and found["entries"][0]["detail"] == {"person_id": 7}
    assert audit.entries(conn, username="'; DROP TABLE audit_log; --")["total"] == 0
    for bad in ({"action": "drop"}, {"limit": 0}, {"offset": -1}):
        with pytest.raises(Exception, match="must"):
            audit.entries(conn, **bad)


def test_truncate_of_the_register_is_logged(conn, world) -> None:
    conn.execute("TRUNCATE key_person")
    entry = last(conn)[0]
    assert (entry["action"], entry["object"], entry["detail"]) == ("delete", "key_person", {"truncate": True})
