"""The user page's links (issue 14, migration 023), as a browser uses them: a unit account's page offers
the responsible units and links the chosen one (an empty choice unlinks); a grid worker's page offers
the worker records of the admin's grids and links one; a refusal (no unit role, a record already
another's) is shown beside the field with the API's status; the forms need their CSRF token; the
links are stamped with the admin who made them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from gis.access import accounts
from tests.workbench.test_users_pages import HTML, Forms


@pytest.fixture(scope="module")
def unit(database_url) -> Iterator[int]:
    with psycopg.connect(database_url) as c:
        made = c.execute("INSERT INTO responsible_unit (name) VALUES (%s) RETURNING id",
                         [f"单位 {uuid.uuid4().hex[:6]}"]).fetchone()[0]
        c.commit()
    yield made
    with psycopg.connect(database_url) as c:
        c.execute("DELETE FROM responsible_unit WHERE id = %s", [made])
        c.commit()


def _linked(database_url: str, sql: str, username: str) -> tuple | None:
    with psycopg.connect(database_url) as c:
        return c.execute(sql, [accounts.user_id(c, username)]).fetchone()


def test_a_unit_account_is_linked_to_its_unit_on_its_page(signed_in, street, unit, database_url):
    c = signed_in("street_admin")
    name = street.users["unit"]
    page = Forms(c.get(f"/users/{name}", headers=HTML).text)
    form = page.forms["unit-form"]
    assert (form["method"], form["action"]) == ("post", f"/users/{name}/unit")
    assert set(form["fields"]) == {"csrf_token", "unit_id"} and str(unit) in form["options"]["unit_id"]
    assert "worker-form" not in page.forms  # she is no grid worker
    csrf = form["fields"]["csrf_token"]
    # without its token the cookie does not authenticate the post
    assert c.post(f"/users/{name}/unit", headers=HTML, data={"unit_id": str(unit)}).status_code == 401
    r = c.post(f"/users/{name}/unit", headers=HTML, follow_redirects=False,
               data={"csrf_token": csrf, "unit_id": str(unit)})
    assert r.status_code == 303 and r.headers["location"] == f"/users/{name}?done=linked"
    sql = "SELECT unit_id, linked_by FROM unit_account WHERE user_id = %s"
    assert _linked(database_url, sql, name) == (unit, street.users["street_admin"])
    page = Forms(c.get(f"/users/{name}?done=linked", headers=HTML).text)
    assert page.forms["unit-form"]["fields"]["unit_id"] == str(unit)
    r = c.post(f"/users/{name}/unit", headers=HTML, follow_redirects=False,
               data={"csrf_token": csrf, "unit_id": ""})
    assert r.status_code == 303 and r.headers["location"] == f"/users/{name}?done=unlinked"
    assert _linked(database_url, sql, name) is None


def test_a_refused_link_is_shown_beside_the_field(signed_in, street, unit, database_url):
    c = signed_in("street_admin")
    name = street.users["reporter"]
    page = Forms(c.get(f"/users/{name}", headers=HTML).text)
    assert "unit-form" not in page.forms  # a reporter is offered no unit
    csrf = page.forms["grant-form"]["fields"]["csrf_token"]
    r = c.post(f"/users/{name}/unit", headers=HTML, data={"csrf_token": csrf, "unit_id": str(unit)})
    assert r.status_code == 409
    errors = Forms(r.text).errors
    assert "grant the role first" in errors["e-unit-unit_id"]
    # an admin link form posted by another role: 403
    other = signed_in("planner")
    r = other.post(f"/users/{name}/unit", headers=HTML, data={"unit_id": str(unit)})
    assert r.status_code in (401, 403)


def test_a_grid_workers_account_is_linked_to_her_record(signed_in, street, database_url):
    c = signed_in("street_admin")
    name = street.users["worker"]
    page = Forms(c.get(f"/users/{name}", headers=HTML).text)
    form = page.forms["worker-form"]
    assert (form["method"], form["action"]) == ("post", f"/users/{name}/worker")
    with psycopg.connect(database_url) as db:
        theirs = {str(r[0]) for r in db.execute(
            "SELECT DISTINCT worker_id FROM grid_worker_grid WHERE starts_with(grid_code, %s)",
            [street.street])}
        record = db.execute("SELECT min(worker_id) FROM grid_worker_grid WHERE grid_code = %s",
                            [street.grid]).fetchone()[0]
    assert set(form["options"]["worker_id"]) - {""} == theirs
    csrf = form["fields"]["csrf_token"]
    r = c.post(f"/users/{name}/worker", headers=HTML, follow_redirects=False,
               data={"csrf_token": csrf, "worker_id": str(record)})
    assert r.status_code == 303 and r.headers["location"] == f"/users/{name}?done=linked"
    sql = "SELECT id, linked_by FROM grid_worker WHERE user_id = %s"
    assert _linked(database_url, sql, name) == (record, street.users["street_admin"])
    page = Forms(c.get(f"/users/{name}", headers=HTML).text)
    assert page.forms["worker-form"]["fields"]["worker_id"] == str(record)
    # the admin of everything sees the link too, and cannot give the same record to another account
    admin = signed_in("admin")
    viewer = street.users["viewer"]
    r = admin.post(f"/users/{viewer}/worker", headers=HTML,
                   data={"csrf_token": csrf_of(admin, viewer), "worker_id": str(record)})
    assert r.status_code == 409 and "grid worker" in Forms(r.text).errors["e-worker-worker_id"]
    r = c.post(f"/users/{name}/worker", headers=HTML, follow_redirects=False,
               data={"csrf_token": csrf, "worker_id": ""})
    assert r.status_code == 303 and _linked(database_url, sql, name) is None


def csrf_of(client, username: str) -> str:
    page = Forms(client.get(f"/users/{username}", headers=HTML).text)
    return page.forms["grant-form"]["fields"]["csrf_token"]


def test_english(signed_in, street):
    c = signed_in("street_admin")
    text = c.get(f"/users/{street.users['unit']}", headers={**HTML, "accept-language": "en"}).text
    assert "Responsible unit" in text or "responsible unit" in text
    assert "Save link" in text and "关联" not in text


def test_the_directory_says_who_has_an_account_and_names_it_to_admins_only(signed_in, street, database_url):
    with psycopg.connect(database_url) as db:
        record = db.execute("SELECT min(worker_id) FROM grid_worker_grid WHERE grid_code = %s",
                            [street.grid]).fetchone()[0]
    admin = signed_in("street_admin")
    name = street.users["worker"]
    r = admin.post(f"/users/{name}/worker", headers=HTML, follow_redirects=False,
                   data={"csrf_token": csrf_of(admin, name), "worker_id": str(record)})
    assert r.status_code == 303
    try:
        page = admin.get("/grid-workers", params={"grid": street.grid}, headers=HTML)
        assert page.status_code == 200 and f'href="/users/{name}"' in page.text
        for role in ("worker", "viewer"):
            text = signed_in(role).get("/grid-workers", params={"grid": street.grid}, headers=HTML).text
            item = text[text.index(f'id="worker-{record}"'):]
            item = item[:item.index("</li>")]
            assert "已关联账号" in item and name not in item and f'href="/users/{name}"' not in text, role
        # the JSON directory at the same address is unchanged for API clients
        assert isinstance(admin.get("/grid-workers", params={"grid": street.grid}).json(), list)
        assert "/grid-workers" in Forms(admin.get("/", headers=HTML).text).links
        assert "/grid-workers" not in Forms(signed_in("planner").get("/", headers=HTML).text).links
    finally:
        admin.post(f"/users/{name}/worker", headers=HTML,
                   data={"csrf_token": csrf_of(admin, name), "worker_id": ""})
