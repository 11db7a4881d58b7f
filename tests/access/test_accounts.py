"""Accounts: argon2 password hashes, tokens that expire and can be revoked, disabled users, grants."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gis.access import accounts
from gis.errors import Conflict, InvalidInput, NotFound

SECRET = "test-secret-0123456789abcdef"
HOUR = timedelta(hours=1)


@pytest.fixture
def alice(conn, world) -> str:
    accounts.create_user(conn, f"{world.tag}-alice", "alice's long password", full_name="Alice")
    accounts.grant(conn, f"{world.tag}-alice", "grid_worker", world.g1)
    return f"{world.tag}-alice"


def test_password_is_stored_as_argon2id(conn, alice) -> None:
    stored = conn.execute("SELECT password_hash FROM app_user WHERE username = %s", [alice]).fetchone()[0]
    assert stored.startswith("$argon2id$")
    assert "alice's long password" not in stored
    assert accounts.verify_password(stored, "alice's long password")
    assert not accounts.verify_password(stored, "alice's long passworD")
    assert not accounts.verify_password("not a hash", "x")


def test_token_round_trip(conn, world, alice) -> None:
    token, expires = accounts.issue_token(conn, alice, "alice's long password", SECRET, HOUR, "10.0.0.1")
    who = accounts.authenticate(conn, token, SECRET)
    assert who is not None and who.username == alice
    assert who.grants == (accounts.Grant("grid_worker", world.g1),)
    assert who.covers(world.g1, {"grid_worker"}) and who.covers(world.community, {"grid_worker"})
    assert not who.covers(world.g2, {"grid_worker"}) and not who.covers(world.g1, {"admin"})
    # Only a keyed hash is stored: neither the token nor its plain SHA-256 is in the table.
    stored = conn.execute("SELECT token_hash FROM auth_token WHERE user_id = %s", [who.user_id]).fetchone()[0]
    assert stored == accounts.token_hash(token, SECRET) and token.encode() not in stored
    assert accounts.authenticate(conn, token, "another deployment's secret") is None
    assert accounts.authenticate(conn, token + "x", SECRET) is None


@pytest.mark.parametrize("password", ["wrong password!", ""])
def test_wrong_password_and_unknown_user_are_refused_alike(conn, alice, password) -> None:
    with pytest.raises(accounts.AuthenticationFailed) as wrong:
        accounts.issue_token(conn, alice, password, SECRET, HOUR)
    with pytest.raises(accounts.AuthenticationFailed) as unknown:
        accounts.issue_token(conn, "nobody-at-all", password, SECRET, HOUR)
    assert str(wrong.value) == str(unknown.value)


def test_token_expires(conn, alice) -> None:
    token, _ = accounts.issue_token(conn, alice, "alice's long password", SECRET, HOUR)
    assert accounts.authenticate(conn, token, SECRET) is not None
    conn.execute("UPDATE auth_token SET expires_at = now() - interval '1 second'"
                 " WHERE token_hash = %s", [accounts.token_hash(token, SECRET)])
    assert accounts.authenticate(conn, token, SECRET) is None


def test_token_revocation(conn, alice) -> None:
    token, _ = accounts.issue_token(conn, alice, "alice's long password", SECRET, HOUR)
    other, _ = accounts.issue_token(conn, alice, "alice's long password", SECRET, HOUR)
    assert accounts.revoke_token(conn, token, SECRET)
    assert not accounts.revoke_token(conn, token, SECRET)  # once
    assert accounts.authenticate(conn, token, SECRET) is None
    assert accounts.authenticate(conn, other, SECRET) is not None  # the other session lives on


def test_disabled_user_is_refused_and_loses_tokens(conn, alice) -> None:
    token, _ = accounts.issue_token(conn, alice, "alice's long password", SECRET, HOUR)
    accounts.set_active(conn, alice, False)
    assert accounts.authenticate(conn, token, SECRET) is None
    with pytest.raises(accounts.AuthenticationFailed):
        accounts.issue_token(conn, alice, "alice's long password", SECRET, HOUR)
    accounts.set_active(conn, alice, True)
    assert accounts.authenticate(conn, token, SECRET) is None  # revoked, not just suspended


def test_password_change_revokes_tokens(conn, alice) -> None:
    token, _ = accounts.issue_token(conn, alice, "alice's long password", SECRET, HOUR)
    accounts.set_password(conn, alice, "a brand new password")
    assert accounts.authenticate(conn, token, SECRET) is None
    assert accounts.issue_token(conn, alice, "a brand new password", SECRET, HOUR)


def test_grants_are_read_fresh(conn, world, alice) -> None:
    token, _ = accounts.issue_token(conn, alice, "alice's long password", SECRET, HOUR)
    accounts.grant(conn, alice, "viewer", world.street)
    assert accounts.authenticate(conn, token, SECRET).roles == {"grid_worker", "viewer"}
    assert accounts.revoke_grant(conn, alice, "viewer", world.street)
    assert accounts.authenticate(conn, token, SECRET).roles == {"grid_worker"}


def test_bad_accounts_and_grants_are_refused(conn, world, alice) -> None:
    with pytest.raises(InvalidInput) as bad:
        accounts.create_user(conn, "Robert'); DROP TABLE app_user;--", "short")
    assert {p.field for p in bad.value.problems} == {"username", "password"}
    with pytest.raises(Conflict):
        accounts.create_user(conn, alice, "another long password")
    for role, scope, field in [("root", "", "role"), ("admin", "43", "scope"), ("admin", "' OR 1=1", "scope"),
                               ("grid_worker", world.street, "scope"), ("grid_worker", "", "scope")]:
        with pytest.raises(InvalidInput) as bad:
            accounts.grant(conn, alice, role, scope)
        assert bad.value.problems[0].field == field, (role, scope)
    with pytest.raises(NotFound):
        accounts.grant(conn, alice, "grid_worker", "439999999999999")
    with pytest.raises(NotFound):
        accounts.grant(conn, "nobody-at-all", "viewer", "")


def test_list_users(conn, world, alice) -> None:
    listed = {u["username"]: u for u in accounts.list_users(conn)}
    assert listed[alice]["grants"] == [{"role": "grid_worker", "scope": world.g1}]
    assert "password_hash" not in listed[alice]
