"""Unknown query parameters answer 400 in the app's error shape, as the OGC API answers them.

`/persons?tag=key_person` used to answer every person as if the filter had been applied. The app is
built by create_app; when create_app does not call api.strict_params.install yet, the test calls it
where create_app is to: right after FastAPI(...), before the routers are included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import strict_params


class _Installed(FastAPI):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        strict_params.install(self)  # idempotent: a no-op once create_app calls it itself


@pytest.fixture(scope="module")
def strict(make_app, settings, api_world) -> Iterator[TestClient]:
    import api.app

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(api.app, "FastAPI", _Installed)
        app = make_app(settings)
    assert sum(d.dependency is strict_params.refuse_unknown_query for d in app.router.dependencies) == 1
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def admin(world_admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world_admin_token}"}


def _refused(r, *names: str) -> None:
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"detail", "errors"}
    assert [e["field"] for e in body["errors"]] == sorted(names)
    for name in names:
        assert name in body["detail"]
    assert all("unknown query parameter" in e["reason"] for e in body["errors"])


def test_the_issues_example_is_refused_and_the_real_filter_filters(strict, admin, api_world, database_url
                                                                   ) -> None:
    _refused(strict.get("/persons?tag=key_person", headers=admin), "tag")
    # The filter the route does have: its total matches the database's own count of the world's
    # key persons (the world is in its own community)
    r = strict.get("/persons", params={"key_person": "any", "community": api_world.community,
                                       "limit": 1000}, headers=admin)
    assert r.status_code == 200, r.text
    with psycopg.connect(database_url) as c:
        expected = c.execute(
            "SELECT count(*) FROM person p JOIN household h ON h.id = p.household_id"
            " JOIN grid g ON g.code = h.grid_code WHERE g.community_code = %s"
            " AND EXISTS (SELECT 1 FROM key_person k WHERE k.person_id = p.id)",
            [api_world.community]).fetchone()[0]
    assert r.json()["total"] == expected == len(api_world.key_persons[api_world.g1]) * 2


def test_every_unknown_name_is_listed_with_what_the_route_accepts(strict, admin) -> None:
    r = strict.get("/households?zeta=1&alpha=2&limit=5", headers=admin)
    _refused(r, "alpha", "zeta")
    reason = r.json()["errors"][0]["reason"]
    for accepted in ("limit", "offset", "grid", "community", "q"):  # Paging and AreaQuery included
        assert re.search(rf"\b{accepted}\b", reason)


def test_declared_names_pass_including_aliases_and_dependencies(strict, admin, api_world) -> None:
    assert strict.get("/households", params={"limit": 1, "offset": 0, "grid": api_world.g1},
                      headers=admin).status_code == 200
    assert strict.get("/perimeter/violations?date=2024-01-01&format=json", headers=admin).status_code == 200
    # the Python name behind the alias is not a parameter
    _refused(strict.get("/perimeter/violations?day=2024-01-01", headers=admin), "day")
    # a path template matches too, and blank values are names all the same
    person = api_world.persons[api_world.g1][0]
    assert strict.get(f"/persons/{person}?unmasked=false", headers=admin).status_code == 200
    _refused(strict.get(f"/persons/{person}?mask=", headers=admin), "mask")


def test_a_refused_write_never_runs(strict, admin, database_url) -> None:
    with psycopg.connect(database_url) as c:
        before = c.execute("SELECT count(*), coalesce(max(id), 0) FROM violation").fetchone()
    _refused(strict.post("/perimeter/violations/record?dry_run=1", headers=admin), "dry_run")
    with psycopg.connect(database_url) as c:
        assert c.execute("SELECT count(*), coalesce(max(id), 0) FROM violation").fetchone() == before


def test_head_and_the_answers_headers(strict, admin) -> None:
    # HEAD answers as GET does, once the app answers HEAD at all (issue 11, another part)
    if strict.head("/persons", headers=admin).status_code != 405:
        assert strict.head("/persons?tag=key_person", headers=admin).status_code == 400
    got = strict.get("/persons?tag=key_person", headers=admin)
    # the refusal passes through the security headers like any answer
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["content-type"].startswith("application/json")


def test_unknown_paths_and_methods_keep_their_answers(strict, admin) -> None:
    assert strict.get("/no-such-route?tag=1", headers=admin).status_code == 404
    assert strict.put("/stats?tag=1", headers=admin).status_code == 405


def test_every_documented_route_refuses_an_unknown_parameter(strict, admin) -> None:
    """Walk the API's own document: each operation outside /ogc refuses ?zz_not_a_parameter=1 before
    it runs (the path parameters are placeholders: the refusal comes before their validation)."""
    paths = strict.get("/openapi.json", headers=admin).json()["paths"]
    checked = 0
    for template, item in paths.items():
        if template.startswith("/ogc"):
            continue
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                r = strict.request(method.upper(), path + "?zz_not_a_parameter=1", headers=admin)
                assert r.status_code == 400 and r.json()["errors"][0]["field"] == "zz_not_a_parameter", \
                    (method, template, r.status_code, r.text[:200])
                checked += 1
    assert checked > 60


def test_ogc_routes_keep_their_own_400_and_queryables(strict, admin) -> None:
    collections = strict.get("/ogc/collections", headers=admin).json()["collections"]
    cid = collections[0]["id"]
    r = strict.get(f"/ogc/collections/{cid}/items?tag=1", headers=admin)
    assert r.status_code == 400
    body = r.json()
    assert "code" in body and "description" in body  # the OGC exception fields, not ours alone
    queryables = strict.get(f"/ogc/collections/{cid}/queryables", headers=admin).json()["properties"]
    name = next(n for n, p in queryables.items() if p.get("type") == "string")
    assert strict.get(f"/ogc/collections/{cid}/items", params={name: "x", "limit": 1},
                      headers=admin).status_code == 200


def test_the_policy_answers_first_and_audits(strict, bearer, api_world) -> None:
    """A caller the route refuses gets 401/403 (and the refusal is audited), not a hint about the
    parameters: the policy runs before the parameter check."""
    assert strict.get("/persons?tag=key_person").status_code == 401
    assert strict.get("/audit?tag=1", headers=bearer("viewer")).status_code == 403
    assert strict.get("/audit?tag=1", headers=bearer("admin")).status_code == 400
