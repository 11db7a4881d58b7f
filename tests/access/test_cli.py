"""The `gridmap user` commands: add, grant, list, disable, demo."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def run(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    return lambda *args, **kw: CliRunner().invoke(app, list(args), **kw)


def test_user_lifecycle(run, database_url) -> None:
    name = f"cli-{uuid.uuid4().hex[:6]}"
    r = run("user", "add", name, "--password", "long enough secret", "--role", "viewer", "--role", "planner")
    assert r.exit_code == 0, r.output
    assert run("user", "grant", name, "admin", "--scope", "430102001").exit_code == 0
    bad = run("user", "grant", name, "grid_worker", "--scope", "43")
    assert bad.exit_code != 0 and "scope" in str(bad.exception) + bad.output
    listed = run("user", "list")
    assert name in listed.output and "admin@430102001" in listed.output and "viewer@*" in listed.output
    assert run("user", "grant", name, "viewer", "--revoke").exit_code == 0
    assert run("user", "disable", name).exit_code == 0
    with psycopg.connect(database_url) as c:
        active, grants = c.execute(
            "SELECT u.active, array_agg(g.role || '@' || g.scope ORDER BY g.role) FROM app_user u"
            " JOIN user_grant g ON g.user_id = u.id WHERE u.username = %s GROUP BY u.active",
            [name]).fetchone()
    assert active is False and grants == ["admin@430102001", "planner@"]
    # The password is asked (twice) when not given, never echoed.
    prompted = run("user", "add", name + "-p", input="another long one\nanother long one\n")
    assert prompted.exit_code == 0 and "another long one" not in prompted.output


def test_demo_users_get_fresh_random_passwords(run, database_url) -> None:
    first = run("user", "demo")
    assert first.exit_code == 0, first.output
    assert "demo-admin" in first.output and "/login" in first.output
    again = run("user", "demo")
    with psycopg.connect(database_url) as c:
        roles = dict(c.execute("SELECT u.username, g.role FROM app_user u JOIN user_grant g"
                               " ON g.user_id = u.id WHERE u.username LIKE 'demo-%'").fetchall())
    assert {"admin", "inspector", "planner", "viewer"} <= set(roles.values())
    assert first.output != again.output  # new passwords each time: the demo ships no known password


def test_serving_beyond_this_machine_needs_a_secret(run, monkeypatch) -> None:
    monkeypatch.delenv("GRIDMAP_SECRET_KEY", raising=False)
    r = run("serve", "--host", "0.0.0.0", "--port", "1")
    assert r.exit_code == 2 and "GRIDMAP_SECRET_KEY" in r.output
