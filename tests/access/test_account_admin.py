"""Users and grants managed by admins over the HTTP API, as the service's role (migration 013): a
street admin sees and manages only the users whose grants all lie in their street, grants only within
it and only existing grids, cannot touch an admin of everything, cannot disable or demote themselves;
a disabled user's token and a reset password's old tokens stop working at once; every change is in the
audit log; bad input is a 422 naming the field. Expected sets are computed as the owner, in SQL."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from gis.access import accounts

NEW_PASSWORD = "a brand new password"


@pytest.fixture(scope="module")
def others(database_url, api_world) -> dict[str, str]:
    """Users beside the world's: one in street B, one with grants in both streets, one without grants."""
    w = api_world
    made = {"street_b": [("viewer", w.other_community)], "both": [("viewer", w.g1), ("viewer", w.g3)],
            "none": [], "community_insp": [("inspector", w.community)],
            "peer_admin": [("admin", w.street)], "community_admin": [("admin", w.community)]}
    names = {}
    with psycopg.connect(database_url) as c:
        for name, grants in made.items():
            username = f"{w.tag}-{name}"
            accounts.create_user(c, username, "another long password")
            for role, scope in grants:
                accounts.grant(c, username, role, scope)
            names[name] = username
        c.commit()
    return names


def _sql_manageable(database_url: str, scopes: list[str], tag: str, me: str = "") -> set[str]:
    """The world's users an admin of ``scopes`` manages, by the rule read from the grants alone: all
    their grants within the scopes, and no admin grant of a scope as wide as the acting admin's (a peer),
    except the acting admin ``me``."""
    with psycopg.connect(database_url) as c:
        rows = c.execute(
            """SELECT u.username FROM app_user u LEFT JOIN user_grant g ON g.user_id = u.id
               WHERE u.username LIKE %s GROUP BY u.username
               HAVING '' = ANY(%s::text[])
                   OR (count(g.role) > 0 AND bool_and(EXISTS (
                       SELECT 1 FROM unnest(%s::text[]) s WHERE left(g.scope, length(s)) = s))
                       AND (u.username = %s OR bool_and(g.role <> 'admin' OR EXISTS (
                           SELECT 1 FROM unnest(%s::text[]) s
                           WHERE left(g.scope, length(s)) = s AND length(g.scope) > length(s)))))""",
            [f"{tag}-%", scopes, scopes, me, scopes]).fetchall()
    return {r[0] for r in rows}


def _listed(api, headers, tag: str) -> set[str]:
    r = api.get("/users", params={"q": tag, "limit": 1000}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return {u["username"] for u in body["items"] if u["username"].startswith(f"{tag}-")}


def _grants(database_url: str, username: str) -> set[tuple[str, str]]:
    with psycopg.connect(database_url) as c:
        return set(c.execute("SELECT g.role, g.scope FROM user_grant g JOIN app_user u ON u.id = g.user_id"
                             " WHERE u.username = %s", [username]).fetchall())


def _sign_in(api, username: str, password: str) -> int:
    api.cookies.clear()
    return api.post("/auth/token", data={"username": username, "password": password}).status_code


def _token(api, username: str, password: str) -> dict[str, str]:
    api.cookies.clear()
    r = api.post("/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    api.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _create(api, headers, w, suffix: str, role: str = "grid_worker", scope: str | None = None) -> str:
    username = f"{w.tag}-{suffix}-{uuid.uuid4().hex[:6]}"
    r = api.post("/users", headers=headers, json={"username": username, "password": NEW_PASSWORD,
                                                  "full_name": "新 用户", "role": role,
                                                  "scope": w.g2 if scope is None else scope})
    assert r.status_code == 201, r.text
    return username


def test_each_admin_lists_exactly_the_users_within_their_scope(api, api_world, bearer, others, database_url):
    w = api_world
    street = _listed(api, bearer("street_admin"), w.tag)
    assert street == _sql_manageable(database_url, [w.street], w.tag, w.users["street_admin"].username)
    # an admin of a community inside the street is hers to manage; another admin of the street is not
    assert others["community_admin"] in street and others["peer_admin"] not in street
    # independently of the SQL: by name
    assert {others["community_insp"], w.users["worker"].username, w.users["street_admin"].username} <= street
    assert not {others["street_b"], others["both"], others["none"], w.users["admin"].username,
                w.users["inspector"].username} & street
    everything = _listed(api, bearer("admin"), w.tag)
    assert everything == _sql_manageable(database_url, [""], w.tag)
    assert others["none"] in everything and others["both"] in everything
    one = api.get(f"/users/{w.users['worker'].username}", headers=bearer("street_admin")).json()
    assert one["grants"] == [{"role": "grid_worker", "scope": w.g1}] and one["active"] is True
    # search: part of a name
    found = api.get("/users", params={"q": "community_insp"}, headers=bearer("street_admin")).json()
    assert [u["username"] for u in found["items"]] == [others["community_insp"]]


@pytest.mark.parametrize("who", ["worker", "viewer", "inspector", "planner"])
def test_other_roles_are_refused(api, api_world, bearer, who):
    assert api.get("/users", headers=bearer(who)).status_code == 403
    body = {"username": f"{api_world.tag}-x", "password": NEW_PASSWORD, "role": "viewer",
            "scope": api_world.g1}
    r = api.post("/users", headers=bearer(who), json=body)
    assert r.status_code == 403


def test_street_admin_creates_and_grants_only_within_their_street(api, api_world, bearer, database_url):
    w, h = api_world, bearer("street_admin")
    username = _create(api, h, w, "new")
    assert _grants(database_url, username) == {("grid_worker", w.g2)}
    with psycopg.connect(database_url) as c:
        stored = c.execute("SELECT password_hash FROM app_user WHERE username = %s", [username]).fetchone()[0]
    assert stored.startswith("$argon2id$") and accounts.verify_password(stored, NEW_PASSWORD)
    assert _sign_in(api, username, NEW_PASSWORD) == 200
    # a second role within the street: 201, again: 200 (held already)
    r = api.post(f"/users/{username}/grants", headers=h, json={"role": "viewer", "scope": w.community})
    assert r.status_code == 201 and {"role": "viewer", "scope": w.community} in r.json()["grants"]
    assert api.post(f"/users/{username}/grants", headers=h,
                    json={"role": "viewer", "scope": w.community}).status_code == 200
    # outside the street, or everything: 403, nothing written
    for scope in (w.g3, w.other_community, w.street[:6], ""):
        role = "grid_worker" if len(scope) == 15 else "viewer"
        r = api.post(f"/users/{username}/grants", headers=h, json={"role": role, "scope": scope})
        assert r.status_code == 403, (scope, r.text)
    r = api.post("/users", headers=h, json={"username": f"{w.tag}-out", "password": NEW_PASSWORD,
                                            "role": "grid_worker", "scope": w.g3})
    assert r.status_code == 403
    # an admin grant: inside her street yes, her street itself no (a peer she could not manage)
    r = api.post(f"/users/{username}/grants", headers=h, json={"role": "admin", "scope": w.street})
    assert r.status_code == 403, r.text
    r = api.post(f"/users/{username}/grants", headers=h, json={"role": "admin", "scope": w.community})
    assert r.status_code == 201, r.text
    r = api.delete(f"/users/{username}/grants", headers=h, params={"role": "admin", "scope": w.community})
    assert r.status_code == 204, r.text
    # a grid of the street that does not exist: 404 naming it
    missing = w.community + "999"
    r = api.post(f"/users/{username}/grants", headers=h, json={"role": "grid_worker", "scope": missing})
    assert r.status_code == 404 and missing in r.json()["detail"]
    assert _grants(database_url, username) == {("grid_worker", w.g2), ("viewer", w.community)}
    with psycopg.connect(database_url) as c:
        out = c.execute("SELECT count(*) FROM app_user WHERE username = %s", [f"{w.tag}-out"]).fetchone()
    assert out == (0,)
    # revoke: one of two; then the last is refused (disable instead); an absent grant is 404
    r = api.delete(f"/users/{username}/grants", headers=h, params={"role": "viewer", "scope": w.community})
    assert r.status_code == 204
    r = api.delete(f"/users/{username}/grants", headers=h, params={"role": "grid_worker", "scope": w.g2})
    assert r.status_code == 409 and "last grant" in r.json()["detail"]
    r = api.delete(f"/users/{username}/grants", headers=h, params={"role": "viewer", "scope": w.community})
    assert r.status_code == 404
    assert _grants(database_url, username) == {("grid_worker", w.g2)}
    # the name is taken: 409
    r = api.post("/users", headers=h, json={"username": username, "password": NEW_PASSWORD,
                                            "role": "viewer", "scope": w.street})
    assert r.status_code == 409


def test_users_outside_the_scope_are_not_found_and_unchanged(api, api_world, bearer, others, database_url):
    w, h = api_world, bearer("street_admin")
    for name in (w.users["admin"].username, others["street_b"], others["both"], others["none"],
                 others["peer_admin"]):
        assert api.get(f"/users/{name}", headers=h).status_code == 404
        assert api.patch(f"/users/{name}", headers=h, json={"active": False}).status_code == 404
        r = api.post(f"/users/{name}/password", headers=h, json={"password": NEW_PASSWORD})
        assert r.status_code == 404
        assert api.post(f"/users/{name}/grants", headers=h,
                        json={"role": "viewer", "scope": w.street}).status_code == 404
    with psycopg.connect(database_url) as c:
        active = c.execute("SELECT bool_and(active) FROM app_user WHERE username = ANY(%s)",
                           [[w.users["admin"].username, others["street_b"], others["both"]]]).fetchone()[0]
    assert active
    assert _grants(database_url, w.users["admin"].username) == {("admin", "")}
    assert _sign_in(api, w.users["admin"].username, "correct horse battery") == 200  # password unchanged


def test_disabled_users_token_stops_working_at_once(api, api_world, bearer):
    w, h = api_world, bearer("street_admin")
    username = _create(api, h, w, "off")
    theirs = _token(api, username, NEW_PASSWORD)
    assert api.get("/auth/me", headers=theirs).status_code == 200
    r = api.patch(f"/users/{username}", headers=h, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert api.get("/auth/me", headers=theirs).status_code == 401
    assert _sign_in(api, username, NEW_PASSWORD) == 401
    r = api.patch(f"/users/{username}", headers=h, json={"active": True, "full_name": "改名"})
    assert r.json()["active"] is True and r.json()["full_name"] == "改名"
    assert api.get("/auth/me", headers=theirs).status_code == 401  # revoked, not suspended
    assert _sign_in(api, username, NEW_PASSWORD) == 200


def test_reset_password_revokes_tokens(api, api_world, bearer):
    w, h = api_world, bearer("street_admin")
    username = _create(api, h, w, "pw")
    theirs = _token(api, username, NEW_PASSWORD)
    r = api.post(f"/users/{username}/password", headers=h, json={"password": "yet another password"})
    assert r.status_code == 204
    assert api.get("/auth/me", headers=theirs).status_code == 401
    assert _sign_in(api, username, NEW_PASSWORD) == 401
    assert _sign_in(api, username, "yet another password") == 200


def test_an_admin_cannot_disable_or_demote_themselves(api, api_world, bearer, database_url):
    w, h = api_world, bearer("street_admin")
    me = w.users["street_admin"].username
    r = api.patch(f"/users/{me}", headers=h, json={"active": False})
    assert r.status_code == 409 and "your own account" in r.json()["detail"]
    viewer = {"role": "viewer", "scope": w.street}
    assert api.post(f"/users/{me}/grants", headers=h, json=viewer).status_code == 201
    r = api.delete(f"/users/{me}/grants", headers=h, params={"role": "admin", "scope": w.street})
    assert r.status_code == 409 and "own last admin grant" in r.json()["detail"]
    assert ("admin", w.street) in _grants(database_url, me)
    assert api.delete(f"/users/{me}/grants", headers=h, params=viewer).status_code == 204
    assert api.get("/users", headers=h).status_code == 200  # still an admin


def test_changes_are_audited_for_the_admin_of_the_scope(api, api_world, bearer, database_url):
    w, h = api_world, bearer("street_admin")
    username = _create(api, h, w, "audit")
    api.post(f"/users/{username}/grants", headers=h, json={"role": "viewer", "scope": w.community})
    api.delete(f"/users/{username}/grants", headers=h, params={"role": "viewer", "scope": w.community})
    api.patch(f"/users/{username}", headers=h, json={"active": False})
    api.post(f"/users/{username}/password", headers=h, json={"password": "the audited password"})
    with psycopg.connect(database_url) as c:
        rows = c.execute(
            "SELECT action, object, username, detail, area, db_role FROM audit_log"
            " WHERE detail ->> 'username' = %s ORDER BY id", [username]).fetchall()
        uid = accounts.user_id(c, username)
        ids = c.execute("SELECT DISTINCT object_ids FROM audit_log WHERE detail ->> 'username' = %s",
                        [username]).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("insert", "app_user"), ("insert", "user_grant"),
                                            ("delete", "user_grant"), ("update", "app_user"),
                                            ("update", "app_user")]
    assert {r[2] for r in rows} == {w.users["street_admin"].username}  # the acting admin, stamped
    assert all(r[5].startswith("gridmap_app") for r in rows)  # through the service's role
    assert rows[1][3]["scope"] == w.community and rows[3][3]["active"] is False
    assert rows[4][3]["password"] == "reset" and not any("argon2" in str(r[3]) for r in rows)
    assert ids == [([uid],)]
    assert all(r[4] and all(code.startswith(w.street) for code in r[4]) for r in rows)
    # the street admin reads them through /audit (the database's policy on the area)
    me = w.users["street_admin"].username
    seen = api.get("/audit", headers=h, params={"object": "user_grant", "username": me, "limit": 1000}).json()
    assert {e["detail"]["username"] for e in seen["entries"]} >= {username}


def test_refusals_are_audited(api, api_world, bearer, database_url):
    w, h = api_world, bearer("street_admin")
    worker = w.users["worker"].username
    r = api.post(f"/users/{worker}/grants", headers=h, json={"role": "viewer", "scope": w.g3})
    assert r.status_code == 403
    with psycopg.connect(database_url) as c:
        row = c.execute("SELECT object, detail ->> 'reason' FROM audit_log WHERE action = 'refused'"
                        " AND username = %s ORDER BY id DESC LIMIT 1",
                        [w.users["street_admin"].username]).fetchone()
    assert row[0] == "/users/{username}/grants" and w.g3 in row[1]


@pytest.mark.parametrize(("body", "field"), [
    ({"username": "Bad Name!", "password": NEW_PASSWORD, "role": "viewer"}, "username"),
    ({"username": "ok-name", "password": "short", "role": "viewer"}, "password"),
    ({"username": "ok-name", "password": NEW_PASSWORD, "role": "king"}, "role"),
    ({"username": "ok-name", "password": NEW_PASSWORD, "role": "viewer", "scope": "12"}, "scope"),
    ({"username": "ok-name", "password": NEW_PASSWORD, "role": "grid_worker", "scope": "STREET"}, "scope"),
    ({"username": "ok-name", "password": NEW_PASSWORD, "role": "viewer", "full_name": "x" * 201},
     "full_name"),
    ({"username": "ok\x00name", "password": NEW_PASSWORD, "role": "viewer"}, "username"),
    ({"password": NEW_PASSWORD, "role": "viewer"}, "username"),
])
def test_bad_input_is_422_naming_the_field(api, api_world, bearer, body, field):
    body = {**body, "scope": body.get("scope", api_world.street).replace("STREET", api_world.street)}
    r = api.post("/users", headers=bearer("street_admin"), json=body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def test_bad_input_to_the_other_routes_is_422(api, api_world, bearer):
    w, h = api_world, bearer("street_admin")
    worker = w.users["worker"].username
    cases = [
        (api.post(f"/users/{worker}/password", headers=h, json={"password": "short"}), "password"),
        (api.patch(f"/users/{worker}", headers=h, json={"full_name": "y" * 300}), "full_name"),
        (api.patch(f"/users/{worker}", headers=h, json={"active": "perhaps"}), "active"),
        (api.post(f"/users/{worker}/grants", headers=h, json={"role": "grid_worker", "scope": w.community}),
         "scope"),
        (api.post(f"/users/{worker}/grants", headers=h, json={"role": "", "scope": w.g1}), "role"),
        (api.get("/users", headers=h, params={"limit": 0}), "limit"),
    ]
    for r, field in cases:
        assert r.status_code == 422, (field, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.text)
    assert api.get("/users/" + "x" * 300, headers=h).status_code == 422


def test_the_service_role_reaches_accounts_only_through_the_entry_points(database_url):
    with psycopg.connect(database_url) as c:
        rights = dict(c.execute(
            "SELECT p.oid::regprocedure::text, has_function_privilege('gridmap_app', p.oid, 'EXECUTE')"
            " FROM pg_proc p WHERE p.proname LIKE 'admin\\_%'").fetchall())
        public = c.execute(
            "SELECT count(*) FROM pg_proc p, aclexplode(p.proacl) a"
            " WHERE p.proname LIKE 'admin\\_%' AND a.grantee = 0").fetchone()[0]
        definers = c.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'admin\\_%' AND prosecdef"
                             " AND NOT ('search_path=pg_catalog, public' = ANY(proconfig))").fetchone()[0]
    entry = {name for name, ok in rights.items() if ok}
    assert {n.split("(")[0] for n in entry} == {
        "admin_users", "admin_user_create", "admin_user_update", "admin_user_password", "admin_user_grant",
        "admin_user_revoke",
        # what an account acts as (migration 023): a grid worker record, a responsible unit
        "admin_worker_link", "admin_worker_unlink", "admin_unit_link",
        "admin_unit_unlink", "admin_user_links",
        # a worker's public service phone, checked against the admin's scope (migration 035)
        "admin_worker_service_phone", "admin_worker_editable"}
    assert public == 0 and definers == 0
