"""The audit trail, attacked over HTTP: an admin reads only the entries of their own scope, refused
and failed attempts leave entries although their requests roll back, and the client address is taken
from X-Forwarded-For only when a configured proxy sent it.

Before the fix each test fails: GET /audit returned every scope's entries to every admin; an entry
was written in the request's transaction, so a 403 or a failed sign-in (which roll back) left none;
and uvicorn, run as `gridmap serve` ran it, believed X-Forwarded-For from 127.0.0.1 (its default)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from gis import db as gisdb
from gis.access import accounts
from tests.access import conftest as access
from tests.access.conftest import PASSWORD, World
from tests.conftest import own_database

database_url, settings, admin_token = own_database("gridmap_boundary_audit")
# The access tests' world (committed), its users' tokens and a client of the secured app.
api_world, tokens, bearer, app, api = access.api_world, access.tokens, access.bearer, access.app, access.api


def owner_entries(database_url: str, where: str, params: list) -> list[dict]:
    """Entries as the owner sees them (every one)."""
    from psycopg.rows import dict_row

    with psycopg.connect(database_url) as c, c.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT * FROM audit_log WHERE {where} ORDER BY id", params).fetchall()


def audit_seen_by(api, headers: dict) -> list[dict]:
    r = api.get("/audit", params={"limit": 1000}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def test_an_admin_reads_only_the_audit_of_their_scope(api, api_world: World, bearer, tokens, settings,
                                                      database_url) -> None:
    api.cookies.clear()
    worker, admin = api_world.users["worker"].username, api_world.users["admin"].username
    assert api.get("/persons", params={"grid": api_world.g1}, headers=bearer("worker")).status_code == 200
    assert api.get("/persons", params={"grid": api_world.g3}, headers=bearer("admin")).status_code == 200
    seen = audit_seen_by(api, bearer("street_admin"))
    assert any(e["username"] == worker and e["detail"]["query"].get("grid") == api_world.g1 for e in seen)
    # Nothing about the other street by anyone outside street A (an attempt by street A's own worker
    # on g3, made by another test, is her admin's business), and nothing the admin of everything did.
    in_street_a = {api_world.users[k].username for k in ("street_admin", "worker", "viewer")}
    assert not [e for e in seen if (api_world.g3 in str(e["detail"]) or (e["area"] or []) == [api_world.g3])
                and e["username"] not in in_street_a]
    assert not [e for e in seen if e["username"] == admin]
    # The admin of everything reads both.
    everything = audit_seen_by(api, bearer("admin"))
    assert any(e["username"] == admin and e["detail"]["query"].get("grid") == api_world.g3
               for e in everything)
    assert any(e["username"] == worker for e in everything)
    # Not an admin: refused, and the refusal is itself recorded.
    assert api.get("/audit", headers=bearer("viewer")).status_code == 403
    assert owner_entries(database_url, "action = 'refused' AND username = %s AND object = '/audit'",
                         [api_world.users["viewer"].username])
    # The same holds for raw SQL as the service's login role acting for the street admin.
    with psycopg.connect(gisdb.app_conninfo(settings)) as login:
        login.execute("SELECT set_config('gridmap.token_hash', %s, false)",
                      [accounts.token_hash(tokens["street_admin"], settings.secret_key).hex()])
        names = {r[0] for r in login.execute("SELECT DISTINCT username FROM audit_log")}
        assert worker in names and admin not in names


def test_refused_attempts_leave_an_entry(api, api_world: World, bearer, database_url) -> None:
    api.cookies.clear()
    marker = uuid.uuid4().hex[:8]
    out_of_scope = api.get("/persons", params={"grid": api_world.g3, "q": marker}, headers=bearer("worker"))
    assert out_of_scope.status_code == 403
    export = api.get(f"/grids/{api_world.g1}/register.csv", params={"m": marker}, headers=bearer("viewer"))
    assert export.status_code == 403
    refusals = owner_entries(database_url, "action = 'refused' AND detail::text LIKE %s", [f"%{marker}%"])
    assert [(e["username"], e["object"]) for e in refusals] == [
        (api_world.users["worker"].username, "/persons"),
        (api_world.users["viewer"].username, "/grids/{code}/register.csv")]
    assert refusals[0]["area"] == [api_world.g3] and refusals[0]["detail"]["status"] == 403
    assert all(e["client"] == "testclient" for e in refusals)


def test_failed_sign_ins_leave_an_entry_the_users_admins_read(api, api_world: World, bearer,
                                                               database_url) -> None:
    api.cookies.clear()
    worker = api_world.users["worker"].username
    wrong = api.post("/auth/token", data={"username": worker, "password": "not the password"})
    assert wrong.status_code == 401
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    form = api.post("/login", data={"username": ghost, "password": "whatever it is", "next": "/maps/"},
                    follow_redirects=False)
    assert form.status_code == 401
    failed = owner_entries(database_url, "action = 'sign_in_failed' AND detail->>'username' = ANY(%s)",
                           [[worker, ghost]])
    assert [(e["detail"]["username"], e["object"]) for e in failed][-2:] == [(worker, "/auth/token"),
                                                                             (ghost, "/login")]
    assert failed[-2]["actor_scopes"] == [api_world.g1] and failed[-2]["user_id"] is None
    # The worker's street admin reads the attempt on the worker's account; an unknown name is for
    # the admins of everything.
    seen = audit_seen_by(api, bearer("street_admin"))
    assert any(e["action"] == "sign_in_failed" and e["detail"]["username"] == worker for e in seen)
    assert not any(e["action"] == "sign_in_failed" and e["detail"]["username"] == ghost for e in seen)


@pytest.fixture
def served(settings, serve_app) -> Iterator[str]:
    """The app under uvicorn exactly as `gridmap serve` configures it (serve_app uses its options)."""
    from api.app import create_app

    with serve_app(create_app(settings)) as url:
        yield url


def test_forwarded_for_from_an_untrusted_peer_is_ignored(served, database_url) -> None:
    import httpx

    probe = f"xff-{uuid.uuid4().hex[:8]}"
    r = httpx.post(f"{served}/auth/token", data={"username": probe, "password": "wrong password!"},
                   headers={"X-Forwarded-For": "203.0.113.77", "Forwarded": "for=203.0.113.78"})
    assert r.status_code == 401
    (entry,) = owner_entries(database_url, "detail->>'username' = %s", [probe])
    assert entry["client"] == "127.0.0.1"


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    ("10.9.8.7", "198.51.100.1", "198.51.100.1"),  # from the proxy: its word
    ("10.9.8.7", "203.0.113.5, 198.51.100.1, 10.9.8.6", "198.51.100.1"),  # nearest beyond the proxies
    ("10.9.8.7", "not-an-address", "10.9.8.7"),
    ("192.0.2.44", "198.51.100.1", "192.0.2.44"),  # from anyone else: ignored
])
def test_forwarded_for_is_believed_from_configured_proxies_only(settings, database_url, peer, forwarded,
                                                                expected) -> None:
    from api.app import create_app

    proxied = settings.model_copy(update={"trusted_proxies": ("10.9.8.0/24",)})
    probe = f"proxy-{uuid.uuid4().hex[:8]}"
    with TestClient(create_app(proxied), client=(peer, 40000)) as c:
        r = c.post("/auth/token", data={"username": probe, "password": "wrong password!"},
                   headers={"X-Forwarded-For": forwarded})
        assert r.status_code == 401
    (entry,) = owner_entries(database_url, "detail->>'username' = %s", [probe])
    assert entry["client"] == expected


def _cookie(settings, api_world: World, client=("testclient", 50000), **headers: str) -> str:
    from api.app import create_app

    with TestClient(create_app(settings), client=client, base_url="http://testserver") as c:
        r = c.post("/auth/token", data={"username": api_world.users["viewer"].username, "password": PASSWORD},
                   headers=headers)
        assert r.status_code == 200, r.text
        cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    return cookie


def test_the_cookie_is_secure_behind_tls_or_beyond_loopback(settings, api_world: World) -> None:
    assert "Secure" not in _cookie(settings, api_world)  # http://127.0.0.1 for a developer: must work
    public = settings.model_copy(update={"public_url": "https://grid.example.cn"})
    assert "Secure" in _cookie(public, api_world)
    proxied = settings.model_copy(update={"trusted_proxies": ("10.9.8.7",)})
    assert "Secure" in _cookie(proxied, api_world, ("10.9.8.7", 1), **{"X-Forwarded-Proto": "https"})
    assert "Secure" not in _cookie(proxied, api_world, ("192.0.2.1", 1), **{"X-Forwarded-Proto": "https"})
    lan = settings.model_copy(update={"host": "0.0.0.0", "secret_key": "a secret of the deployment's own"})
    assert "Secure" in _cookie(lan, api_world)


def test_serve_on_another_interface_gives_the_app_that_bind(monkeypatch, database_url, tmp_path) -> None:
    """`gridmap serve --host 0.0.0.0` builds the app for that bind (before: for the settings' host,
    127.0.0.1, so its cookies were not Secure) and tells uvicorn not to believe forwarded headers."""
    import uvicorn
    from typer.testing import CliRunner

    from api.cli import app as cli

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", database_url)
    monkeypatch.setenv("GRIDMAP_SECRET_KEY", "a secret of the deployment's own")
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert r.exit_code == 0, r.output
    assert not seen["app"].state.settings.local and seen["proxy_headers"] is False


def test_the_login_form_escapes_what_it_reflects(api) -> None:
    """The one page the service writes from request input: ``next`` lands in an attribute, escaped
    (this already held before; kept so that it keeps holding)."""
    payload = '/"><script>alert(1)</script><img src=x onerror=alert(2)>'
    page = api.get("/login", params={"next": payload}).text
    assert "<script>alert" not in page and "<img" not in page and 'value="/&quot;&gt;&lt;script' in page
    refused = api.post("/login", data={"username": "<b>x</b>", "password": "<script>alert(3)</script>",
                                       "next": payload}, follow_redirects=False)
    assert refused.status_code == 401 and "<script>alert" not in refused.text and "<b>x" not in refused.text
