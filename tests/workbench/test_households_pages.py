"""The grid worker's household pages over HTTP, as a browser uses them (Accept: text/html, the login
cookie, the form's CSRF token): search by the head's name and the last four ID digits, the household
page with masked members, the edit form saving through the register (the API then answers the new
phone), a refused phone beside its field, a stale edit's conflict with both versions, and the
scopes: another grid's worker gets 404 and finds nothing, a viewer has no link and gets 403."""

from __future__ import annotations

import re
import uuid
from html import unescape

import psycopg
import pytest

from gis.access import accounts
from tests.workbench.test_pages import Page

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def family(database_url, street) -> dict:
    """A household of the worker's grid whose head has an ID number and a phone (read as the owner)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """SELECT h.id, p.id, p.name, p.id_number FROM household h JOIN person p ON p.household_id = h.id
               WHERE h.grid_code = %s AND p.relation = 'head' AND p.id_number IS NOT NULL
               ORDER BY h.id LIMIT 1""", [street.grid]).fetchone()
    assert row is not None
    return {"id": row[0], "person": row[1], "name": row[2], "id_number": row[3]}


def _found(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/households/(\d+)"', html)]


def _form(c, household: int) -> dict[str, str]:
    r = c.get(f"/households/{household}", headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = Page(r.text)
    assert {"method": "post", "action": f"/households/{household}", "class": "edit"}.items() <= \
        next(f for f in page.forms if f.get("class") == "edit").items()
    return page.inputs


def test_worker_finds_the_household_by_the_heads_name_and_last_four_id_digits(signed_in, family):
    c = signed_in("worker")
    home = c.get("/")
    assert 'href="/households"' in home.text  # the home page and the menu link to the search
    search = c.get("/households", headers=HTML)
    assert '<input type="search"' in search.text and 'name="q"' in search.text
    by_name = c.get("/households", params={"q": family["name"]}, headers=HTML)
    assert by_name.status_code == 200 and family["id"] in _found(by_name.text)
    by_id = c.get("/households", params={"q": family["id_number"][-4:]}, headers=HTML)
    assert family["id"] in _found(by_id.text)
    # the API's list answers the same search (the same function, JSON for other clients)
    api = c.get("/households", params={"q": family["name"], "limit": 1000}).json()
    assert family["id"] in [h["id"] for h in api["items"]]
    assert c.get("/households", params={"q": "%"}, headers=HTML).status_code == 200  # % taken literally


def test_household_page_masks_members(signed_in, family):
    c = signed_in("worker")
    r = c.get(f"/households/{family['id']}", headers=HTML)
    assert family["name"] in r.text
    assert family["id_number"] not in r.text  # masked
    assert family["id_number"][:6] in r.text and "********" in r.text
    assert "/maps/grids/" in r.text


def test_edit_the_phone_through_the_form(signed_in, family):
    c = signed_in("worker")
    inputs = _form(c, family["id"])
    assert inputs["csrf_token"] and inputs["version"]
    phone = "139" + uuid.uuid4().int.__str__()[:8]
    r = c.post(f"/households/{family['id']}", headers=HTML, follow_redirects=False,
               data={**inputs, "phone": phone})
    assert r.status_code == 303 and r.headers["location"] == f"/households/{family['id']}", r.text[:300]
    person = c.get(f"/persons/{family['person']}", params={"unmasked": "true"}).json()
    assert person["phone"] == phone
    page = c.get(f"/households/{family['id']}", headers=HTML).text
    assert phone[:3] + "****" + phone[-4:] in page and phone not in page  # saved, shown masked
    # without the CSRF token the cookie does not authenticate the write
    inputs = _form(c, family["id"])
    no_csrf = {k: v for k, v in inputs.items() if k != "csrf_token"}
    assert c.post(f"/households/{family['id']}", headers=HTML, data=no_csrf,
                  follow_redirects=False).status_code == 401 and \
        c.get(f"/households/{family['id']}").json()["version"] == int(inputs["version"])


def test_a_bad_phone_shows_the_error_beside_the_field(signed_in, family):
    c = signed_in("worker")
    inputs = _form(c, family["id"])
    r = c.post(f"/households/{family['id']}", headers=HTML, data={**inputs, "phone": "not a phone"})
    assert r.status_code == 422
    error = re.search(r'<input id="f-phone"[^>]*aria-describedby="e-phone"[^>]*>\s*'
                      r'<small[^>]*>[^<]*</small>\s*<span class="error" id="e-phone">([^<]+)</span>', r.text)
    assert error, r.text
    # the same words as the API's 422 for the same phone
    api = c.patch(f"/persons/{family['person']}",
                  json={"phone": "not a phone", "version": int(inputs["person_version"])},
                  headers={"x-csrf-token": inputs["csrf_token"]})
    assert api.status_code == 422
    reasons = [e["reason"] for e in api.json()["errors"] if e["field"] == "phone"]
    assert unescape(error.group(1)) in reasons, api.json()
    # nothing was saved
    assert c.get(f"/households/{family['id']}").json()["version"] == int(inputs["version"])


def test_a_stale_edit_shows_the_conflict_with_both_versions(signed_in, family):
    c = signed_in("worker")
    stale = _form(c, family["id"])
    fresh = _form(c, family["id"])
    mine, theirs = "第一栋-" + uuid.uuid4().hex[:4], "第二栋-" + uuid.uuid4().hex[:4]
    assert c.post(f"/households/{family['id']}", headers=HTML, data={**fresh, "building": theirs},
                  follow_redirects=False).status_code == 303
    r = c.post(f"/households/{family['id']}", headers=HTML, data={**stale, "building": mine})
    assert r.status_code == 409
    conflict = r.text[r.text.index('class="conflict"'):r.text.index('<form class="edit"')]
    assert f'<td class="yours">{mine}</td>' in conflict and f'<td class="theirs">{theirs}</td>' in conflict
    api = c.get(f"/households/{family['id']}").json()
    assert api["building"] == theirs and f"version {api['version']}" in conflict
    assert Page(r.text).inputs["version"] == str(api["version"])  # the form now edits the stored version


def test_another_grids_worker_gets_404_and_finds_nothing(app, database_url, street, password, family):
    from fastapi.testclient import TestClient

    with psycopg.connect(database_url) as conn:
        other = conn.execute("SELECT code FROM grid WHERE code <> %s ORDER BY code LIMIT 1",
                             [street.grid]).fetchone()[0]
        username = f"wb-{uuid.uuid4().hex[:6]}-other"
        accounts.create_user(conn, username, password)
        accounts.grant(conn, username, "grid_worker", other)
        conn.commit()
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert c.post("/login", data={"username": username, "password": password, "next": "/"},
                      follow_redirects=False).status_code == 303
        assert c.get(f"/households/{family['id']}", headers=HTML).status_code == 404
        found = c.get("/households", params={"q": family["name"]}, headers=HTML)
        assert found.status_code == 200 and family["id"] not in _found(found.text)
        assert c.get("/households", params={"q": family["id_number"][-4:]}, headers=HTML).status_code == 200
        assert family["id"] not in _found(c.get("/households", params={"q": family["id_number"][-4:]},
                                                headers=HTML).text)


def test_a_viewer_has_no_search_link_and_gets_403(signed_in, family):
    c = signed_in("viewer")
    assert 'href="/households' not in c.get("/").text
    assert c.get("/households", params={"q": family["name"]}, headers=HTML).status_code == 403
    assert c.get(f"/households/{family['id']}", headers=HTML).status_code == 403
