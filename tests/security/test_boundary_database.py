"""The database is a boundary: raw SQL logged in as the service's login role (what an SQL injection
anywhere in a request would run as) cannot become the owner, run programs, read or write accounts and
tokens, act for another user, or rewrite the audit log.

Each test fails on the code before migration 012: the pool logged in as the owner, a superuser (so
RESET ROLE ended SET LOCAL ROLE gridmap_app and COPY ... TO PROGRAM ran), gridmap_app was NOLOGIN, had
SELECT/INSERT/UPDATE on app_user, user_grant and auth_token, and access_user_id() believed
``gridmap.user_id`` from anyone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from psycopg import sql

from gis import db as gisdb
from gis.access import accounts
from tests.access import conftest as access
from tests.conftest import own_database

database_url, settings, admin_token = own_database("gridmap_boundary_db")
api_world, tokens = access.api_world, access.tokens  # the access tests' world, committed, and its tokens
PASSWORD = access.PASSWORD
ISP = psycopg.errors.InsufficientPrivilege


@pytest.fixture
def login(settings) -> Iterator[psycopg.Connection]:
    """A connection exactly as the service's pool opens it: the login role's own credentials."""
    with psycopg.connect(gisdb.app_conninfo(settings)) as c:
        yield c
        c.rollback()


def refused(conn: psycopg.Connection, statement: str, params: list | None = None,
            error: type[Exception] = ISP) -> None:
    with pytest.raises(error), conn.transaction():
        conn.execute(statement, params)  # type: ignore[arg-type]


def count(conn: psycopg.Connection, query: str) -> int:
    return conn.execute(query).fetchone()[0]


def test_the_service_logs_in_as_a_plain_role(settings) -> None:
    """The pool's connections are the login role's, which is no superuser, can create nothing and is
    a member of no role (before: the pool logged in as the superuser owner)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as client, client.app.state.pool.connection() as c:
        who = c.execute("SELECT session_user, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls"
                        " FROM pg_roles r WHERE r.rolname = session_user").fetchone()
        assert who == ("gridmap_app", False, False, False, False)
        assert count(c, "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member"
                        " WHERE r.rolname = session_user") == 0


def test_cannot_become_the_owner_or_a_superuser(login, database_url) -> None:
    with psycopg.connect(database_url) as owner:
        owner_name = owner.execute("SELECT session_user").fetchone()[0]
    login.execute("RESET ROLE")
    assert login.execute("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user"
                         ).fetchone() == ("gridmap_app", False)
    refused(login, sql.SQL("SET ROLE {}").format(sql.Identifier(owner_name)))  # type: ignore[arg-type]
    refused(login, sql.SQL("SET SESSION AUTHORIZATION {}").format(sql.Identifier(owner_name)))  # type: ignore[arg-type]
    refused(login, "SET ROLE postgres", error=psycopg.Error)
    refused(login, "ALTER ROLE gridmap_app SUPERUSER")
    refused(login, "CREATE ROLE intruder SUPERUSER")


def test_cannot_run_programs_or_read_server_files(login) -> None:
    refused(login, "COPY (SELECT 1) TO PROGRAM 'id'")
    refused(login, "COPY audit_log FROM PROGRAM 'id'")
    refused(login, "COPY (SELECT 1) TO '/tmp/gridmap-boundary-probe'")
    refused(login, "SELECT pg_read_file('/etc/passwd')")
    refused(login, "SELECT lo_import('/etc/passwd')")
    refused(login, "CREATE FUNCTION public.sneak() RETURNS int LANGUAGE sql AS 'SELECT 1'")


def test_cannot_read_password_hashes_or_token_hashes(login, api_world, tokens) -> None:
    for query in ("SELECT password_hash FROM app_user", "SELECT username FROM app_user",
                  "SELECT token_hash FROM auth_token", "SELECT count(*) FROM auth_token",
                  "SELECT role, scope FROM user_grant"):
        refused(login, query)
    # The sign-in function hands out a hash's salt and parameters, never its digest.
    name = api_world.users["admin"].username
    salt, length = login.execute("SELECT salt, digest_length FROM access_password_salt(%s)",
                                 [name]).fetchone()
    assert salt.startswith("$argon2id$") and salt.count("$") == 4 and length == 43
    assert login.execute("SELECT access_password_salt('nobody-at-all')").fetchone()[0] is None


def test_cannot_write_accounts_grants_or_tokens(login, api_world) -> None:
    viewer = api_world.users["viewer"].user_id
    refused(login, "INSERT INTO user_grant (user_id, role, scope) VALUES (%s, 'admin', '')", [viewer])
    refused(login, "UPDATE user_grant SET scope = '' WHERE user_id = %s", [viewer])
    refused(login, "DELETE FROM user_grant")
    refused(login, "UPDATE app_user SET password_hash = '$argon2id$x', active = true")
    refused(login, "INSERT INTO app_user (username, password_hash) VALUES ('intruder', '$argon2id$x')")
    refused(login, "INSERT INTO auth_token (token_hash, user_id, expires_at)"
                   " VALUES (decode(repeat('ab', 32), 'hex'), %s, now() + interval '1 day')", [viewer])
    refused(login, "UPDATE auth_token SET expires_at = 'infinity'")


def test_cannot_act_as_another_user_by_setting_a_guc(login, api_world, tokens, settings) -> None:
    admin = api_world.users["admin"].user_id
    login.execute("SELECT set_config('gridmap.user_id', %s, false)", [str(admin)])
    assert login.execute("SELECT access_user_id()").fetchone()[0] is None
    for table in ("household", "person", "key_person", "grid_worker_grid"):
        assert count(login, f"SELECT count(*) FROM {table}") == 0, table
    # A made-up token hash names nobody either.
    login.execute("SELECT set_config('gridmap.token_hash', repeat('ab', 32), false)")
    assert login.execute("SELECT access_user_id()").fetchone()[0] is None
    # The hash of a live token (which only the service, holding the secret and the token, can make)
    # does: the grid worker's rows and no others.
    worker = accounts.token_hash(tokens["worker"], settings.secret_key).hex()
    login.execute("SELECT set_config('gridmap.token_hash', %s, false)", [worker])
    assert login.execute("SELECT access_user_id()").fetchone()[0] == api_world.users["worker"].user_id
    grids = {r[0] for r in login.execute("SELECT DISTINCT grid_code FROM household")}
    assert grids == {api_world.g1}


def test_a_revoked_or_expired_token_acts_for_nobody(login, api_world, database_url, settings) -> None:
    name = api_world.users["street_admin"].username
    with psycopg.connect(database_url) as c:
        revoked, _ = accounts.issue_token(c, name, PASSWORD, settings.secret_key, timedelta(hours=1))
        accounts.revoke_token(c, revoked, settings.secret_key)
        expired, _ = accounts.issue_token(c, name, PASSWORD, settings.secret_key, timedelta(seconds=-1))
        c.commit()
    for token in (revoked, expired):
        login.execute("SELECT set_config('gridmap.token_hash', %s, false)",
                      [accounts.token_hash(token, settings.secret_key).hex()])
        assert login.execute("SELECT access_user_id()").fetchone()[0] is None
        assert count(login, "SELECT count(*) FROM household") == 0


def test_signs_in_only_with_the_password(login, api_world, settings) -> None:
    """Through the narrow functions the login role signs a user in with the right password only."""
    name = api_world.users["worker"].username
    token, _ = accounts.issue_token(login, name, PASSWORD, settings.secret_key, timedelta(minutes=5))
    assert accounts.authenticate(login, token, settings.secret_key).username == name
    with pytest.raises(accounts.AuthenticationFailed):
        accounts.issue_token(login, name, PASSWORD + "!", settings.secret_key, timedelta(minutes=5))
    # A candidate hash that is not the stored one issues nothing.
    assert login.execute("SELECT access_sign_in(%s, '$argon2id$v=19$m=65536,t=3,p=4$AAAA$BBBB',"
                         " decode(repeat('cd', 32), 'hex'), interval '1 hour', NULL)", [name]
                         ).fetchone()[0] is None
    assert accounts.revoke_token(login, token, settings.secret_key)
    assert accounts.authenticate(login, token, settings.secret_key) is None


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET action = 'read'", "DELETE FROM audit_log", "TRUNCATE audit_log",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
    "ALTER TABLE audit_log DISABLE ROW LEVEL SECURITY", "DROP TABLE audit_log",
    "DROP TRIGGER audit_log_stamp ON audit_log", "SET session_replication_role = replica",
    "CREATE OR REPLACE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql"
    " AS 'BEGIN RETURN NULL; END'",
])
def test_cannot_alter_or_truncate_the_audit_log(login, statement) -> None:
    refused(login, statement)


def test_audit_stamps_cannot_be_forged(login, api_world, tokens, settings, database_url) -> None:
    """The login role appends entries, but who and from where are the database's to say."""
    admin = api_world.users["admin"]
    login.execute("SELECT set_config('gridmap.user_id', %s, false)", [str(admin.user_id)])
    login.execute("INSERT INTO audit_log (action, object, user_id, username, db_role, actor_scopes)"
                  " VALUES ('read', 'boundary-forgery', %s, %s, 'postgres', '{\"\"}')",
                  [admin.user_id, admin.username])
    login.commit()
    with psycopg.connect(database_url) as owner:
        row = owner.execute("SELECT user_id, username, db_role, actor_scopes FROM audit_log"
                            " WHERE object = 'boundary-forgery' ORDER BY id DESC LIMIT 1").fetchone()
    assert row == (None, None, "gridmap_app", None)
