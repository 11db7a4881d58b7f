"""The grid worker's public service phone (服务电话, printed on the wall map): read and written through
the JSON API (validated as a Chinese mobile or landline, the 422 naming the formats), shown and edited on
the 网格员名录 page by an admin over the worker's grids, every change in the audit log; GET /grid-workers
says whether each worker has an account, as the page does."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest


@pytest.fixture(scope="module")
def api(app, street, password):
    """``api("street_admin")``: a client of the JSON API as a script calls it (a bearer token)."""
    from fastapi.testclient import TestClient

    clients: list[TestClient] = []

    def make(name: str) -> TestClient:
        c = TestClient(app, base_url="http://127.0.0.1")
        c.__enter__()
        clients.append(c)
        r = c.post("/auth/token", data={"username": street.users[name], "password": password})
        assert r.status_code == 200, r.text
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture(scope="module")
def worker(database_url, street) -> int:
    """A worker of the street's grid, for this module alone."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "WITH w AS (INSERT INTO grid_worker (name, ref) VALUES ('服务电话测试', %s) RETURNING id)"
            " INSERT INTO grid_worker_grid (worker_id, grid_code) SELECT id, %s FROM w RETURNING worker_id",
            [f"svc-{uuid.uuid4().hex[:6]}", street.grid]).fetchone()
        conn.commit()
    assert row is not None
    return int(row[0])


def _entries(database_url: str, worker_id: int) -> list[dict]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT detail FROM audit_log WHERE object = 'grid_worker' AND %s = ANY (object_ids)"
            " AND detail ->> 'field' = 'service_phone' ORDER BY id", [worker_id])]


def test_json_reads_and_writes_the_service_phone_and_audits_it(api, street, worker, database_url):
    admin = api("street_admin")
    r = admin.put(f"/grid-workers/{worker}/service-phone", json={"service_phone": "(0731) 8456 7890"})
    assert r.status_code == 200, r.text
    assert r.json()["service_phone"] == "0731-8456 7890"
    listed = {w["id"]: w for w in admin.get("/grid-workers", params={"grid": street.grid}).json()}
    assert listed[worker]["service_phone"] == "0731-8456 7890"
    assert listed[worker]["has_account"] is False
    assert all(isinstance(w["has_account"], bool) for w in listed.values())
    assert admin.get(f"/grid-workers/{worker}").json()["service_phone"] == "0731-8456 7890"
    phone = f"/grid-workers/{worker}/service-phone"
    assert admin.put(phone, json={"service_phone": "13912345678"}).status_code == 200
    details = _entries(database_url, worker)
    assert details[-2:] == [{"field": "service_phone", "old": None, "new": "0731-8456 7890"},
                            {"field": "service_phone", "old": "0731-8456 7890", "new": "13912345678"}]
    # the same number again changes nothing and writes no entry
    assert admin.put(phone, json={"service_phone": "13912345678"}).status_code == 200
    assert len(_entries(database_url, worker)) == len(details)


@pytest.mark.parametrize("bad", ["12345", "+86 139 1234 5678", "1391234567", "0731--84567890", "电话"])
def test_a_number_not_chinese_is_422_naming_the_formats(api, worker, bad):
    r = api("street_admin").put(f"/grid-workers/{worker}/service-phone", json={"service_phone": bad})
    assert r.status_code == 422, r.text
    problem = r.json()["errors"][0]
    assert problem["field"] == "service_phone"
    assert "mobile" in problem["reason"] and "landline" in problem["reason"]


def test_create_takes_the_service_phone(api, street):
    r = api("admin").post("/grid-workers", json={"name": "新网格员", "grids": [street.grid],
                                                       "service_phone": "010-12345678"})
    assert r.status_code == 201, r.text
    assert r.json()["service_phone"] == "010-12345678"
    r = api("admin").post("/grid-workers", json={"name": "新网格员", "service_phone": "123"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "service_phone"


def test_only_an_admin_over_the_worker_sets_it(api, worker):
    for name in ("worker", "viewer"):
        assert api(name).put(f"/grid-workers/{worker}/service-phone", json={"service_phone": "13900000000"}
                               ).status_code == 403
    assert api("street_admin").put("/grid-workers/987654321/service-phone",
                                   json={"service_phone": "13900000000"}).status_code == 404


def test_a_worker_serving_a_grid_outside_the_scope_is_refused(signed_in, api, street, database_url):
    with psycopg.connect(database_url) as conn:
        square = "ST_Multi(ST_MakeEnvelope(100.0, 20.0, 100.01, 20.01, 4326))"
        conn.execute("INSERT INTO community (code, name, street_name, geom)"
                     f" VALUES ('439902001001', '外街社区', '外街', {square}) ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO grid (code, community_code, name, geom) VALUES ('439902001001001',"
                     f" '439902001001', '外街网格', {square}) ON CONFLICT DO NOTHING")
        wid = conn.execute(
            "WITH w AS (INSERT INTO grid_worker (name, ref) VALUES ('两街网格员', %s) RETURNING id)"
            " INSERT INTO grid_worker_grid (worker_id, grid_code)"
            " SELECT id, g FROM w, unnest(%s::text[]) g RETURNING worker_id",
            [f"svc2-{uuid.uuid4().hex[:6]}", [street.grid, "439902001001001"]]).fetchone()[0]
        conn.commit()
    page = signed_in("street_admin").get("/grid-workers", params={"grid": street.grid},
                                         headers={"Accept": "text/html"}).text
    assert f'id="worker-{wid}"' in page and f'id="service-phone-form-{wid}"' not in page  # no form to a 403
    r = api("street_admin").put(f"/grid-workers/{wid}/service-phone", json={"service_phone": "13900000000"})
    assert r.status_code == 403, r.text
    assert api("admin").put(f"/grid-workers/{wid}/service-phone", json={"service_phone": "13900000000"}
                                    ).status_code == 200


def test_the_directory_page_shows_and_edits_it(signed_in, street, worker, database_url):
    admin = signed_in("street_admin")
    html = {"Accept": "text/html"}
    page = admin.get("/grid-workers", params={"grid": street.grid}, headers=html).text
    assert f'id="service-phone-form-{worker}"' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = admin.post(f"/grid-workers/{worker}/service-phone", follow_redirects=False,
                   data={"csrf_token": csrf, "service_phone": "0571-87601234", "grid": street.grid})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/grid-workers?grid={street.grid}#worker-{worker}"
    page = admin.get("/grid-workers", params={"grid": street.grid}, headers=html).text
    assert f'<span id="service-phone-{worker}">0571-87601234</span>' in page
    assert _entries(database_url, worker)[-1]["new"] == "0571-87601234"
    # a bad number: 422, the page again with the API's words beside the field and what was typed
    r = admin.post(f"/grid-workers/{worker}/service-phone", follow_redirects=False,
                   data={"csrf_token": csrf, "service_phone": "12-34", "grid": street.grid})
    assert r.status_code == 422
    assert f'id="e-service_phone-{worker}"' in r.text and "landline" in r.text and 'value="12-34"' in r.text
    # a grid worker reads the number but gets no form
    page = signed_in("worker").get("/grid-workers", headers=html).text
    assert f'<span id="service-phone-{worker}">0571-87601234</span>' in page
    assert "service-phone-form" not in page
