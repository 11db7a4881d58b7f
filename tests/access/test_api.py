"""Signing in and out, scopes, key persons and the audit log, through the HTTP API."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from pydantic import ValidationError

from gis.access import accounts
from gis.settings import DEFAULT_SECRET_KEY, Settings


def sign_in(api, username: str, password: str):
    return api.post("/auth/token", data={"username": username, "password": password})


def test_sign_in_use_and_revoke(api, api_world, password) -> None:
    r = sign_in(api, api_world.users["worker"].username, password)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) >= 40
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    api.cookies.clear()  # the login cookie is tested below; here only the header counts
    me = api.get("/auth/me", headers=headers).json()
    assert me["username"] == api_world.users["worker"].username
    assert me["roles"] == ["grid_worker"] and me["grants"] == [{"role": "grid_worker", "scope": api_world.g1}]
    assert api.post("/auth/revoke", headers=headers).status_code == 204
    r = api.get("/auth/me", headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert set(r.json()) == {"detail", "errors"}


def test_bad_credentials_are_401_without_saying_which(api, api_world, password) -> None:
    wrong = sign_in(api, api_world.users["worker"].username, "wrong password!")
    unknown = sign_in(api, "no-such-user", password)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    empty = sign_in(api, api_world.users["worker"].username, "")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "password"


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer ' OR 1=1 --"])
def test_garbage_tokens_are_401(api, header) -> None:
    api.cookies.clear()
    assert api.get("/auth/me", headers={"Authorization": header}).status_code == 401


def test_expired_token_is_refused(api, api_world, database_url, settings) -> None:
    with psycopg.connect(database_url) as c:
        token, _ = accounts.issue_token(c, api_world.users["admin"].username, "correct horse battery",
                                        settings.secret_key, timedelta(seconds=-1))
        c.commit()
    api.cookies.clear()
    assert api.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_disabled_user_is_refused_at_once(api, api_world, database_url, settings, password) -> None:
    with psycopg.connect(database_url) as c:
        accounts.create_user(c, f"{api_world.tag}-leaver", password)
        accounts.grant(c, f"{api_world.tag}-leaver", "admin", "")
        token, _ = accounts.issue_token(c, f"{api_world.tag}-leaver", password, settings.secret_key,
                                        timedelta(hours=1))
        c.commit()
    headers = {"Authorization": f"Bearer {token}"}
    api.cookies.clear()
    assert api.get("/households", headers=headers).status_code == 200
    with psycopg.connect(database_url) as c:
        accounts.set_active(c, f"{api_world.tag}-leaver", False)
        c.commit()
    assert api.get("/households", headers=headers).status_code == 401
    assert sign_in(api, f"{api_world.tag}-leaver", password).status_code == 401


def test_browser_login_form_and_cookie(api, api_world, password) -> None:
    api.cookies.clear()
    r = api.get("/maps/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fmaps%2F"
    assert "<form" in api.get("/login?next=/maps/").text
    r = api.post("/login", data={"username": api_world.users["viewer"].username, "password": "wrong one!",
                                 "next": "/maps/"}, follow_redirects=False)
    assert r.status_code == 401 and "wrong" in r.text
    r = api.post("/login", data={"username": api_world.users["viewer"].username, "password": password,
                                 "next": "https://evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/maps/"  # no open redirect
    cookie = r.cookies.get("gridmap_token")
    assert cookie and "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    assert api.get("/maps/", headers={"Accept": "text/html"}).status_code == 200  # the cookie alone
    # The cookie is no credential for writes (cross-site request forgery).
    r = api.post("/communities", json={})
    assert r.status_code == 401
    api.post("/auth/revoke")
    assert api.get("/maps/").status_code == 401
    api.cookies.clear()


def test_grid_worker_lists_only_their_grid(api, api_world, bearer) -> None:
    api.cookies.clear()
    page = api.get("/households", params={"limit": 1000}, headers=bearer("worker")).json()
    assert {h["grid_code"] for h in page["items"]} == {api_world.g1}
    assert page["total"] == len(api_world.households[api_world.g1])
    persons = api.get("/persons", params={"limit": 1000}, headers=bearer("worker")).json()
    assert {p["id"] for p in persons["items"]} == set(api_world.persons[api_world.g1])
    stats = api.get("/stats", headers=bearer("worker"))
    assert stats.status_code == 200


@pytest.mark.parametrize("path, params", [("/households", {"grid": "g3"}), ("/persons", {"grid": "g3"}),
                                          ("/stats", {"grid": "g3"}), ("/stats", {"community": "other"}),
                                          ("/maps/grids/g3", {}), ("/grids/g3/register.csv", {})])
def test_codes_outside_the_scope_are_403(api, api_world, bearer, path, params) -> None:
    names = {"g3": api_world.g3, "other": api_world.other_community}
    path = path.replace("g3", api_world.g3)
    params = {k: names.get(v, v) for k, v in params.items()}
    r = api.get(path, params=params, headers=bearer("worker"))
    assert r.status_code == 403, r.text
    assert "outside your scope" in r.json()["detail"]


@pytest.mark.parametrize("bad", ["' OR 1=1 --", "4399'; DROP TABLE person; --", "%", "1e5"])
def test_injection_in_code_filters_is_refused(api, bearer, bad) -> None:
    for who in ("worker", "admin"):
        r = api.get("/households", params={"grid": bad}, headers=bearer(who))
        assert r.status_code == 422, (who, r.text)
        assert r.json()["errors"][0]["field"] == "grid"


def test_key_persons_only_for_workers_of_their_grid_and_admins(api, api_world, bearer) -> None:
    own, other = api_world.key_persons[api_world.g1][0], api_world.key_persons[api_world.g3][0]
    r = api.get(f"/persons/{own}", headers=bearer("worker"))
    assert r.status_code == 200 and r.json()["key_person"]
    assert "*" in r.json()["id_number"]  # masked
    assert api.get(f"/persons/{other}", headers=bearer("worker")).status_code == 404
    assert api.get(f"/persons/{other}", headers=bearer("street_admin")).status_code == 404
    assert api.get(f"/persons/{other}", headers=bearer("admin")).json()["key_person"]
    assert api.get(f"/persons/{own}", headers=bearer("viewer")).status_code == 403


def test_reads_exports_and_changes_are_audited(api, api_world, bearer) -> None:
    own = api_world.key_persons[api_world.g1][0]
    worker = api_world.users["worker"].username
    assert api.get(f"/persons/{own}", headers=bearer("worker")).status_code == 200
    assert api.get(f"/grids/{api_world.g1}/register.csv", headers=bearer("worker")).status_code == 200
    person = api.get(f"/persons/{own}", headers=bearer("worker")).json()
    r = api.patch(f"/persons/{own}", json={"phone": "13911112222", "version": person["version"]},
                  headers=bearer("worker"))
    assert r.status_code == 200, r.text
    log = api.get("/audit", params={"username": worker, "limit": 50}, headers=bearer("admin")).json()
    seen = {(e["action"], e["object"]) for e in log["entries"]}
    assert ("read", "/persons/{person_id}") in seen
    assert ("export", "/grids/{code}/register.csv") in seen
    assert ("update", "person") in seen
    update = next(e for e in log["entries"] if e["action"] == "update" and e["object"] == "person")
    assert update["object_ids"] == [own] and update["client"] == "testclient"
    assert api.get("/audit", headers=bearer("worker")).status_code == 403
    assert api.get("/audit", params={"username": "' OR '1'='1"}, headers=bearer("admin")).json()["total"] == 0


def test_write_outside_the_grid_is_403(api, api_world, bearer) -> None:
    other = api_world.households[api_world.g3][0]
    r = api.post("/persons", json={"household_id": other, "name": "smuggled"}, headers=bearer("worker"))
    assert r.status_code in (403, 404, 422), r.text
    assert r.status_code != 201


def test_default_secret_is_refused_outside_local_runs() -> None:
    assert Settings(_env_file=None).secret_key == DEFAULT_SECRET_KEY  # local: fine
    with pytest.raises(ValidationError, match="GRIDMAP_SECRET_KEY"):
        Settings(_env_file=None, host="0.0.0.0")
    assert Settings(_env_file=None, host="0.0.0.0", secret_key="a-long-random-secret-of-ours").local is False
    with pytest.raises(ValidationError):
        Settings(_env_file=None, secret_key="short")
