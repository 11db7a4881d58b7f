"""The division is written only within an admin's scope, enforced by PostgreSQL whatever carries
the code (a request body, an import): a street admin cannot create a grid in another street."""

from __future__ import annotations

import psycopg
import pytest

from gis.access import accounts
from gis.access.accounts import Principal

SQUARE = ("ST_Multi(ST_GeomFromText("
          "'POLYGON((113 25.7,113.001 25.7,113.001 25.701,113 25.701,113 25.7))', 4326))")


def _as_street_admin(conn: psycopg.Connection, street: str) -> None:
    accounts.create_user(conn, "street-admin-x", "a long enough password")
    accounts.grant(conn, "street-admin-x", "admin", street)
    user_id = accounts.user_id(conn, "street-admin-x")
    accounts.act_as(conn, Principal(user_id, "street-admin-x", ()), None)  # SET LOCAL ROLE gridmap_app


def test_street_admin_writes_only_its_own_streets_division(conn: psycopg.Connection) -> None:
    conn.execute(f"INSERT INTO community (code, name, geom) VALUES ('431003009001', '本街道社区', {SQUARE}),"
                 f" ('431003008001', '别街道社区', {SQUARE})")
    _as_street_admin(conn, "431003009")
    conn.execute(f"INSERT INTO grid (code, community_code, name, geom) "
                 f"VALUES ('431003009001001', '431003009001', '第1网格', {SQUARE})")
    assert conn.execute("SELECT count(*) FROM community").fetchone()[0] >= 2  # reading stays open
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute(f"INSERT INTO grid (code, community_code, name, geom) "
                     f"VALUES ('431003008001001', '431003008001', '越权网格', {SQUARE})")
    with conn.transaction():
        renamed = conn.execute("UPDATE community SET name = 'x' WHERE code = '431003008001'").rowcount
        removed = conn.execute("DELETE FROM community WHERE code = '431003008001'").rowcount
    assert (renamed, removed) == (0, 0)
