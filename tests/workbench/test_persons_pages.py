"""The grid worker's person pages through their forms, as a browser uses them (the login cookie and
the form's CSRF token): add a person (迁入), tag a key person (the register export read with openpyxl
shows the tag), move a person out and to another household, a bad ID number beside its field in the
API's words, a head leaving without a successor, a stale edit's conflict, a missing CSRF token, and
other users: another grid's worker gets 404, a viewer 403. Checked against the database as the owner."""

from __future__ import annotations

import io
import random
import re
import uuid
from collections.abc import Iterator
from html import unescape
from urllib.parse import urlparse

import openpyxl
import psycopg
import pytest

from gis.access import accounts
from gis.codes import id_number_check_digit
from tests.workbench.test_pages import Page

HTML = {"accept": "text/html,application/xhtml+xml"}
HEAD = "SELECT id, version FROM person WHERE household_id = %s AND relation = 'head'"


def new_id_number() -> str:
    first17 = f"43{random.randrange(10**4):04d}19880203{random.randrange(1000):03d}"
    return first17 + id_number_check_digit(first17)


@pytest.fixture(scope="module")
def homes(database_url, street) -> dict:
    """Two households of the worker's grid (the last: other modules edit the first), read as the owner."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT id, address FROM household WHERE grid_code = %s ORDER BY id DESC LIMIT 2",
                            [street.grid]).fetchall()
    assert len(rows) == 2
    return {"a": rows[0][0], "b": rows[1][0], "b_address": rows[1][1]}


def _page(c, url: str) -> Page:
    r = c.get(url, headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), (url, r.text[:300])
    return Page(r.text)


def _owner(database_url: str, query: str, params: list) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


def _add(c, household: int, **fields) -> object:
    page = _page(c, f"/households/{household}/persons/new")
    action = {"method": "post", "action": f"/households/{household}/persons/new"}
    assert action.items() <= page.forms[-1].items()
    data = {"csrf_token": page.inputs["csrf_token"], "relation": "other", "residence": "registered",
            "moved_on": page.inputs["moved_on"], **fields}
    return c.post(f"/households/{household}/persons/new", headers=HTML, data=data, follow_redirects=False)


def _person_id(database_url: str, household: int, name: str) -> int:
    (row,) = _owner(database_url, "SELECT id FROM person WHERE household_id = %s AND name = %s",
                    [household, name])
    return row[0]


def test_add_a_person_through_the_form(signed_in, homes, database_url):
    c = signed_in("worker")
    household = _page(c, f"/households/{homes['a']}")
    assert f"/households/{homes['a']}/persons/new" in household.links
    name, id_number = "新成员" + uuid.uuid4().hex[:4], new_id_number()
    r = _add(c, homes["a"], name=name, id_number=id_number, phone="13912340000", residence="floating",
             elderly_alone="true", note="从湘潭迁入")
    assert r.status_code == 303 and r.headers["location"] == f"/households/{homes['a']}", r.text[:500]
    rows = _owner(database_url, "SELECT p.id, p.residence, p.elderly_alone, p.sex, p.birth_date, m.kind,"
                  " m.note,"
                  " m.id_number_masked FROM person p JOIN person_move m ON m.person_id = p.id"
                  " WHERE p.household_id = %s AND p.name = %s", [homes["a"], name])
    masked = id_number[:6] + "********" + id_number[-4:]
    sex = "M" if int(id_number[16]) % 2 else "F"
    assert [r[1:] for r in rows] == [("floating", True, sex, rows[0][4], "in", "从湘潭迁入", masked)]
    assert str(rows[0][4]) == "1988-02-03"  # derived from the ID number
    page = c.get(f"/households/{homes['a']}", headers=HTML).text
    assert name in page and id_number not in page and id_number[:6] + "********" + id_number[-4:] in page
    links = Page(page).links
    assert f"/persons/{rows[0][0]}/edit" in links and f"/persons/{rows[0][0]}/move" in links


def test_tag_a_key_person_shows_in_the_register_export(signed_in, homes, database_url, street):
    c = signed_in("worker")
    name = "重点" + uuid.uuid4().hex[:4]
    assert _add(c, homes["a"], name=name).status_code == 303
    person = _person_id(database_url, homes["a"], name)
    form = _page(c, f"/persons/{person}/edit")
    assert {"method": "post", "action": f"/persons/{person}/edit"}.items() <= form.forms[-1].items()
    edit = c.get(f"/persons/{person}/edit", headers=HTML).text
    assert '<select id="f-key_person" name="key_person"' in edit and "重点信访人员" in edit  # Chinese names
    data = dict(form.inputs) | {"name": name, "relation": "other",
                                                     "residence": "registered", "key_person": "petitioner",
                                                     "disabled": "true"}
    r = c.post(f"/persons/{person}/edit", headers=HTML, data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/households/{homes['a']}", r.text[:500]
    tagged = _owner(database_url, "SELECT k.category, p.disabled FROM person p"
                    " JOIN key_person k ON k.person_id = p.id WHERE p.id = %s", [person])
    assert tagged == [("petitioner", True)]
    assert "重点信访人员" in c.get(f"/households/{homes['a']}", headers=HTML).text
    export = c.get(f"/grids/{street.grid}/register.xlsx")
    assert export.status_code == 200, export.text[:300]
    book = openpyxl.load_workbook(io.BytesIO(export.content), read_only=True)
    found = []
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header = next((r for r in rows if r and "人员编号 Person" in r), None)
        if header is None:
            continue
        at = {h: i for i, h in enumerate(header)}
        found += [r for r in rows if r is not header and r[at["人员编号 Person"]] == person
                  and r[at["重点人员 Key person"]] == "petitioner" and r[at["姓名 Name"]] == name]
    assert len(found) == 1


def test_move_out_through_the_form(signed_in, homes, database_url):
    c = signed_in("worker")
    name = "迁出" + uuid.uuid4().hex[:4]
    assert _add(c, homes["a"], name=name).status_code == 303
    person = _person_id(database_url, homes["a"], name)
    page = c.get(f"/persons/{person}/move", headers=HTML)
    forms = Page(page.text).forms
    assert any(f.get("class") == "edit move out" and f["action"] == f"/persons/{person}/move" for f in forms)
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    csrf = Page(page.text).inputs["csrf_token"]
    r = c.post(f"/persons/{person}/move", headers=HTML, follow_redirects=False,
               data={"csrf_token": csrf, "kind": "out", "version": version, "note": "迁往广州"})
    assert r.status_code == 303 and r.headers["location"] == f"/households/{homes['a']}", r.text[:500]
    assert _owner(database_url, "SELECT count(*) FROM person WHERE id = %s", [person]) == [(0,)]
    history = c.get(f"/households/{homes['a']}/moves", headers=HTML)
    assert history.status_code == 200 and "迁往广州" in history.text and name in history.text
    assert c.get(f"/households/{homes['a']}/moves").json()["items"][0]["note"] == "迁往广州"  # the API's JSON


def test_transfer_to_a_household_found_by_search(signed_in, homes, database_url):
    c = signed_in("worker")
    name = "户间" + uuid.uuid4().hex[:4]
    assert _add(c, homes["a"], name=name).status_code == 303
    person = _person_id(database_url, homes["a"], name)
    found = c.get(f"/persons/{person}/move", params={"q": homes["b_address"]}, headers=HTML)
    assert f'name="household_id" value="{homes["b"]}"' in found.text
    inputs = Page(found.text).inputs
    r = c.post(f"/persons/{person}/move", headers=HTML, follow_redirects=False,
               data={"csrf_token": inputs["csrf_token"], "kind": "transfer", "version": "1",
                     "household_id": str(homes["b"]), "relation": "other", "note": "投亲"})
    assert r.status_code == 303 and r.headers["location"] == f"/households/{homes['a']}", r.text[:500]
    assert _owner(database_url, "SELECT household_id, version FROM person WHERE id = %s", [person]) == \
        [(homes["b"], 2)]
    assert name in c.get(f"/households/{homes['b']}", headers=HTML).text


def test_a_bad_id_number_shows_the_error_beside_the_field(signed_in, homes, database_url):
    c = signed_in("worker")
    name = "错号" + uuid.uuid4().hex[:4]
    bad = new_id_number()[:-1] + "Y"
    r = _add(c, homes["a"], name=name, id_number=bad)
    assert r.status_code == 422
    error = re.search(r'<input id="f-id_number"[^>]*aria-describedby="e-id_number"[^>]*>\s*'
                      r'<span class="error" id="e-id_number">([^<]+)</span>', r.text)
    assert error, r.text
    assert f'value="{name}"' in r.text  # what was typed is kept
    api = c.post("/persons", json={"household_id": homes["a"], "name": name, "id_number": bad},
                 headers={"x-csrf-token": Page(r.text).inputs["csrf_token"]})
    assert api.status_code == 422
    reasons = [e["reason"] for e in api.json()["errors"] if e["field"] == "id_number"]
    assert unescape(error.group(1)) in reasons
    assert _owner(database_url, "SELECT count(*) FROM person WHERE name = %s", [name]) == [(0,)]


def test_the_head_cannot_leave_members_without_a_head(signed_in, homes, database_url):
    c = signed_in("worker")
    head = _owner(database_url, HEAD, [homes["b"]])
    if not head:
        assert _add(c, homes["b"], name="户主" + uuid.uuid4().hex[:4], relation="head").status_code == 303
        head = _owner(database_url, HEAD, [homes["b"]])
    assert _add(c, homes["b"], name="成员" + uuid.uuid4().hex[:4]).status_code == 303
    (head_id, version), = head
    page = c.get(f"/persons/{head_id}/move", headers=HTML).text
    assert 'name="new_head_id"' in page
    r = c.post(f"/persons/{head_id}/move", headers=HTML, follow_redirects=False,
               data={"csrf_token": Page(page).inputs["csrf_token"], "kind": "out", "version": str(version)})
    assert r.status_code == 422 and 'id="e-new_head_id"' in r.text and "head" in r.text
    assert _owner(database_url, "SELECT relation FROM person WHERE id = %s", [head_id]) == [("head",)]


def test_a_stale_edit_shows_both_versions(signed_in, homes, database_url):
    c = signed_in("worker")
    name = "并发" + uuid.uuid4().hex[:4]
    assert _add(c, homes["a"], name=name).status_code == 303
    person = _person_id(database_url, homes["a"], name)
    stale = _page(c, f"/persons/{person}/edit").inputs
    base = {"csrf_token": stale["csrf_token"], "name": name, "relation": "other", "residence": "registered"}
    assert c.post(f"/persons/{person}/edit", headers=HTML, follow_redirects=False,
                  data={**base, "version": stale["version"], "employment": "retired"}).status_code == 303
    r = c.post(f"/persons/{person}/edit", headers=HTML, data={**base, "version": stale["version"],
                                                                "employment": "student"})
    assert r.status_code == 409
    conflict = r.text[r.text.index('class="conflict"'):r.text.index('<form class="edit person"')]
    assert '<td class="yours">在校学生</td>' in conflict and '<td class="theirs">离退休</td>' in conflict
    assert Page(r.text).inputs["version"] == "2"  # the form now edits the stored version
    assert _owner(database_url, "SELECT employment FROM person WHERE id = %s", [person]) == [("retired",)]


def test_a_post_without_the_csrf_token_is_refused(signed_in, homes, database_url):
    c = signed_in("worker")
    name = "无令牌" + uuid.uuid4().hex[:4]
    r = c.post(f"/households/{homes['a']}/persons/new", headers=HTML, follow_redirects=False,
               data={"name": name, "relation": "other"})
    assert r.status_code in (401, 403)
    r = c.post(f"/households/{homes['a']}/persons/new", headers=HTML, follow_redirects=False,
               data={"name": name, "relation": "other", "csrf_token": "0" * 64})
    assert r.status_code == 403
    assert _owner(database_url, "SELECT count(*) FROM person WHERE name = %s", [name]) == [(0,)]


def test_other_users_cannot_open_or_post_the_forms(app, signed_in, homes, database_url, street, password):
    from fastapi.testclient import TestClient

    person = _owner(database_url, "SELECT id, version FROM person WHERE household_id = %s"
                    " ORDER BY id LIMIT 1", [homes["a"]])[0]
    with psycopg.connect(database_url) as conn:
        other = conn.execute("SELECT code FROM grid WHERE code <> %s ORDER BY code LIMIT 1",
                             [street.grid]).fetchone()[0]
        username = f"wb-{uuid.uuid4().hex[:6]}-mover"
        accounts.create_user(conn, username, password)
        accounts.grant(conn, username, "grid_worker", other)
        conn.commit()
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert c.post("/login", data={"username": username, "password": password, "next": "/"},
                      follow_redirects=False).status_code == 303
        for url in (f"/persons/{person[0]}/edit", f"/persons/{person[0]}/move",
                    f"/households/{homes['a']}/persons/new", f"/households/{homes['a']}/moves"):
            assert c.get(url, headers=HTML).status_code == 404, url
        csrf = Page(c.get("/", headers=HTML).text).inputs.get("csrf_token", "")
        r = c.post(f"/persons/{person[0]}/move", headers=HTML, follow_redirects=False,
                   data={"csrf_token": csrf, "kind": "out", "version": str(person[1])})
        assert r.status_code == 404
        r = c.post(f"/households/{homes['a']}/persons/new", headers=HTML, follow_redirects=False,
                   data={"csrf_token": csrf, "name": "越界"})
        assert r.status_code == 404
    assert _owner(database_url, "SELECT count(*) FROM person WHERE id = %s", [person[0]]) == [(1,)]
    viewer = signed_in("viewer")
    assert viewer.get(f"/persons/{person[0]}/edit", headers=HTML).status_code == 403
    assert viewer.get(f"/households/{homes['a']}/persons/new", headers=HTML).status_code == 403


# In headless Chromium at both sizes, through the Tab of test_browser.py (network cut, console errors kept).
@pytest.fixture(scope="module")
def browser_base_url(app, street, serve_app) -> Iterator[str]:
    with serve_app(app) as url:
        yield url


@pytest.fixture
def browser_tab(browser) -> Iterator:
    pytest.importorskip("playwright.sync_api")
    from tests.workbench.test_browser import Tab

    tabs: list = []

    def make(size: str):
        tabs.append(Tab(browser, size))
        return tabs[-1]

    yield make
    for t in tabs:
        t.context.close()


@pytest.mark.parametrize("size", ["pc", "phone"])
def test_add_and_tag_in_the_browser(browser_tab, browser_base_url, street, password, homes, database_url,
                                    size):
    from tests.workbench.test_browser import sign_in

    t = browser_tab(size)
    sign_in(t, browser_base_url, street.users["worker"], password)
    name = f"浏览器{size}" + uuid.uuid4().hex[:4]
    t.page.goto(f"{browser_base_url}/households/{homes['a']}", wait_until="load")
    with t.page.expect_navigation():
        t.page.click("a.add-person")
    t.page.fill("input[name=name]", name)
    t.page.select_option("select[name=residence]", "floating")
    t.page.check("input[name=elderly_alone]")
    narrow = "() => document.documentElement.scrollWidth <= window.innerWidth"
    fields = "form.person input:not([type=hidden]), form.person select, form.person button"
    small = ("() => Array.from(document.querySelectorAll('" + fields + "'))"
             ".map(e => e.getBoundingClientRect()).filter(r => r.height < 40).length")
    assert t.js(narrow) and t.js(small) == 0
    t.shot(f"person-add-{size}")
    with t.page.expect_navigation():
        t.page.click("form.person button[type=submit]")
    assert urlparse(t.page.url).path == f"/households/{homes['a']}"
    person = _person_id(database_url, homes["a"], name)
    assert t.js(narrow)
    t.page.goto(f"{browser_base_url}/persons/{person}/edit", wait_until="load")
    t.page.select_option("select[name=key_person]", "petitioner")
    with t.page.expect_navigation():
        t.page.click("form.person button[type=submit]")
    assert _owner(database_url, "SELECT category FROM key_person WHERE person_id = %s", [person]) == \
        [("petitioner",)]
    t.page.goto(f"{browser_base_url}/persons/{person}/move", wait_until="load")
    assert t.js(narrow)
    t.shot(f"person-move-{size}")
    t.clean()
