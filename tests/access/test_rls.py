"""Row-level security proved with raw SQL as the service role: a user's query returns only the rows
of their scope, whatever the query forgets to filter."""

from __future__ import annotations

import psycopg
import pytest


def ids(conn: psycopg.Connection, query: str) -> set[int]:
    return {r[0] for r in conn.execute(query)}


def test_grid_worker_sees_only_their_grid(conn, world, acting) -> None:
    acting(world.users["worker"])
    # No WHERE clause at all: the policies alone narrow the rows to grid g1.
    assert ids(conn, "SELECT id FROM household") == set(world.households[world.g1])
    assert {r[0] for r in conn.execute("SELECT DISTINCT grid_code FROM household")} == {world.g1}
    assert ids(conn, "SELECT id FROM person") == set(world.persons[world.g1])
    assert ids(conn, "SELECT person_id FROM key_person") == set(world.key_persons[world.g1])
    # A join through tables that are not filtered (grid) still ends at the filtered ones.
    rows = conn.execute("SELECT count(*) FROM grid g JOIN household h ON h.grid_code = g.code"
                        " WHERE g.community_code = %s", [world.community]).fetchone()
    assert rows[0] == len(world.households[world.g1])
    # Asking for another grid's household by id finds nothing.
    other = world.households[world.g2][0]
    assert conn.execute("SELECT * FROM household WHERE id = %s", [other]).fetchone() is None


def test_admins_by_scope(conn, world, acting) -> None:
    everything = ids(conn, "SELECT id FROM household")  # as the owner: RLS does not apply
    acting(world.users["admin"])
    assert ids(conn, "SELECT id FROM household") == everything
    assert world.all("key_persons") <= ids(conn, "SELECT person_id FROM key_person")
    acting(world.users["street_admin"])
    # The household outside every grid lies outside both communities too: only the admin of
    # everything holds it (tests/security/test_register_scope.py has one inside the community).
    street = set(world.households[world.g1] + world.households[world.g2])
    assert ids(conn, "SELECT id FROM household") & world.all("households") == street
    assert not ids(conn, "SELECT id FROM household") & set(world.households[world.g3])
    assert (ids(conn, "SELECT person_id FROM key_person") & world.all("key_persons")
            == set(world.key_persons[world.g1] + world.key_persons[world.g2]))


def test_viewer_sees_no_rows_only_counts(conn, world, acting) -> None:
    acting(world.users["viewer"])
    for table in ("household", "person", "key_person"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    counts = {r[0]: r[1:] for r in conn.execute(
        "SELECT grid_code, households, persons, key_persons FROM register_grid_counts(%s)", [world.street])}
    # Households and persons of the street's grids; key persons are not counted for a viewer.
    assert counts == {world.g1: (3, 6, 0), world.g2: (3, 6, 0)}
    assert dict(conn.execute("SELECT * FROM register_household_counts('')").fetchall()) \
        == {world.g1: 3, world.g2: 3}


@pytest.mark.parametrize("who", ["inspector", "planner", None])
def test_roles_without_register_and_nobody_see_nothing(conn, world, acting, who) -> None:
    acting(world.users[who] if who else None)
    for table in ("household", "person", "key_person", "grid_worker_grid"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_disabled_user_sees_nothing(conn, world, acting) -> None:
    conn.execute("UPDATE app_user SET active = false WHERE id = %s", [world.users["worker"].user_id])
    acting(world.users["worker"])
    assert conn.execute("SELECT count(*) FROM household").fetchone()[0] == 0


def test_forged_user_setting_is_ignored(conn, world, acting) -> None:
    acting(None)
    conn.execute("SELECT set_config('gridmap.user_id', '1 OR true', true)")
    assert conn.execute("SELECT count(*) FROM person").fetchone()[0] == 0


def test_grid_worker_cannot_write_outside_their_grid(conn, world, acting) -> None:
    acting(world.users["worker"])
    other = world.households[world.g2][0]
    assert conn.execute("UPDATE household SET address = 'x' WHERE id = %s", [other]).rowcount == 0
    assert conn.execute("DELETE FROM person WHERE household_id = %s", [other]).rowcount == 0
    own = world.households[world.g1][0]
    assert conn.execute("UPDATE household SET room = '101' WHERE id = %s", [own]).rowcount == 1
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("INSERT INTO household (address, grid_code, geom)"
                     " VALUES ('x', %s, 'SRID=4326;POINT(100 38)')", [world.g2])
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("UPDATE household SET grid_code = %s WHERE id = %s", [world.g2, own])  # moving it away
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("INSERT INTO person (household_id, name) VALUES (%s, 'x')", [other])


def test_viewer_cannot_write(conn, world, acting) -> None:
    acting(world.users["viewer"])
    assert conn.execute("UPDATE person SET name = 'x'").rowcount == 0
    assert conn.execute("DELETE FROM household").rowcount == 0


def test_service_role_is_not_privileged(conn, world, acting) -> None:
    acting(world.users["admin"])
    row = conn.execute("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles"
                       " WHERE rolname = current_user").fetchone()
    assert row == (False, False, False)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("ALTER TABLE household DISABLE ROW LEVEL SECURITY")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("DROP TABLE audit_log")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("INSERT INTO schema_migration (name) VALUES ('999_evil')")


def test_scope_is_computed_once_per_statement_and_grid_filters_keep_their_index(conn, world, acting) -> None:
    acting(world.users["worker"])
    conn.execute("SET LOCAL enable_seqscan = off")  # tiny tables: ask whether the index *can* serve it
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN SELECT * FROM household WHERE grid_code = %s",
                                                 [world.g1]))
    assert "household_grid_idx" in plan, plan
    # The grants are looked up in InitPlans (once per statement), not once per row.
    assert "InitPlan" in plan and "SubPlan" not in plan, plan
