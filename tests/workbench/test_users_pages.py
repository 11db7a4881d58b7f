"""The admin's users pages over HTTP, as a browser uses them (Accept: text/html, the login cookie, the
forms' CSRF token): the list holds exactly the users of the admin's scope (counted as the owner); the
add-user form offers only scopes within it and creates the user with the first grant; a refused
field is shown beside it in the API's words (422), a grant outside the scope is 403 beside the scope;
the user page grants, revokes, disables and resets the password; a form without its CSRF token is
refused; other roles get neither the menu entry nor the page."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from html.parser import HTMLParser

import psycopg
import pytest

from gis.access import accounts
from tests.conftest import CHROMIUM

HTML = {"accept": "text/html,application/xhtml+xml"}
NEW_PASSWORD = "a page made password"


class Forms(HTMLParser):
    """Each form of a page (by id, else action) with its fields: inputs' values, selects' options and
    the selected option; the error texts by element id; the links."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.forms: dict[str, dict] = {}
        self.errors: dict[str, str] = {}
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._error: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", ""), "fields": {},
                          "options": {}}
            self.forms[a.get("id") or f"{a.get('action', '')}#{len(self.forms)}"] = self._form
        elif tag == "a":
            self.links.append(a.get("href", ""))
        elif self._form is not None and tag == "input" and "name" in a:
            self._form["fields"][a["name"]] = a.get("value", "")
        elif self._form is not None and tag == "select":
            self._select = a["name"]
            self._form["options"][a["name"]] = []
            self._form["fields"][a["name"]] = None
        elif self._form is not None and tag == "option" and self._select:
            self._form["options"][self._select].append(a["value"])
            if "selected" in a or self._form["fields"][self._select] is None:
                self._form["fields"][self._select] = a["value"]
        elif tag == "span" and "error" in a.get("class", "").split() and a.get("id"):
            self._error = a["id"]
            self.errors[self._error] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "span":
            self._error = None

    def handle_data(self, data: str) -> None:
        if self._error:
            self.errors[self._error] += data


@pytest.fixture(scope="module")
def outsiders(database_url, street) -> dict[str, str]:
    """Users the street admin must not see: another street's viewer, one without grants, an admin of
    everything; and one of theirs, a viewer of their community."""
    tag = uuid.uuid4().hex[:6]
    other_street = "439901" + ("998" if street.street[6:] != "998" else "997")
    made = {"other_street": [("viewer", other_street)], "none": [], "everything": [("admin", "")],
            "theirs": [("viewer", street.community)]}
    names = {}
    with psycopg.connect(database_url) as c:
        for name, grants in made.items():
            username = f"wu-{tag}-{name.replace('_', '-')}"
            accounts.create_user(c, username, "outsiders long password")
            for role, scope in grants:
                accounts.grant(c, username, role, scope)
            names[name] = username
        c.commit()
    return names


def _manageable(database_url: str, scope: str) -> set[str]:
    """Every user an admin of ``scope`` manages, by the rule, read as the owner."""
    with psycopg.connect(database_url) as c:
        rows = c.execute(
            """SELECT u.username FROM app_user u JOIN user_grant g ON g.user_id = u.id
               GROUP BY u.username HAVING bool_and(left(g.scope, length(%s)) = %s)""",
            [scope, scope]).fetchall()
    return {r[0] for r in rows}


def _listed(page: str) -> set[str]:
    return set(re.findall(r'href="/users/([a-z0-9._-]+)"', page))


def _grants(database_url: str, username: str) -> set[tuple[str, str]]:
    with psycopg.connect(database_url) as c:
        return set(c.execute("SELECT g.role, g.scope FROM user_grant g JOIN app_user u ON u.id = g.user_id"
                             " WHERE u.username = %s", [username]).fetchall())


def _scope_choices(database_url: str, scope: str) -> set[str]:
    with psycopg.connect(database_url) as c:
        rows = c.execute("SELECT code FROM community WHERE starts_with(code, %s) UNION "
                         "SELECT code FROM grid WHERE starts_with(code, %s)", [scope, scope]).fetchall()
    return {r[0] for r in rows} | {scope}


def test_only_admins_get_the_menu_entry_and_the_page(signed_in):
    for role in ("admin", "street_admin"):
        c = signed_in(role)
        assert 'href="/users"' in c.get("/").text
        assert c.get("/users", headers=HTML).status_code == 200
    for role in ("worker", "viewer", "inspector", "planner"):
        c = signed_in(role)
        assert 'href="/users"' not in c.get("/").text
        assert c.get("/users", headers=HTML).status_code == 403


def test_the_street_admins_page_lists_exactly_their_users(signed_in, street, outsiders, database_url):
    page = signed_in("street_admin").get("/users", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    listed = _listed(page.text)
    assert listed == _manageable(database_url, street.street)
    assert outsiders["theirs"] in listed and street.users["worker"] in listed
    assert not {outsiders["other_street"], outsiders["none"], outsiders["everything"],
                street.users["admin"]} & listed
    assert "网格员" in page.text and '<input type="search"' in page.text  # grants by their Chinese names
    everything = _listed(signed_in("admin").get("/users", headers=HTML).text)
    assert {outsiders["none"], outsiders["other_street"], outsiders["everything"]} <= everything
    found = signed_in("street_admin").get("/users", params={"q": "theirs"}, headers=HTML)
    assert _listed(found.text) == {outsiders["theirs"]}
    # another street's user's page is not found
    other = signed_in("street_admin").get(f"/users/{outsiders['other_street']}", headers=HTML)
    assert other.status_code == 404


def test_the_add_user_form_creates_the_user_with_the_first_grant(signed_in, street, database_url):
    c = signed_in("street_admin")
    form = Forms(c.get("/users", headers=HTML).text).forms["add-user"]
    assert (form["method"], form["action"]) == ("post", "/users")
    assert set(form["fields"]) == {"csrf_token", "username", "full_name", "password", "role", "scope"}
    assert form["fields"]["csrf_token"]
    assert set(form["options"]["scope"]) == _scope_choices(database_url, street.street)
    assert set(form["options"]["role"]) == {"admin", "grid_worker", "inspector", "planner", "viewer", "unit",
                                            "reporter"}
    username = f"wu-{uuid.uuid4().hex[:6]}-new"
    data = {**form["fields"], "username": username, "full_name": "王 网格员", "password": NEW_PASSWORD,
            "role": "grid_worker", "scope": street.grid}
    r = c.post("/users", headers=HTML, data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/users/{username}?done=created", r.text[:300]
    assert _grants(database_url, username) == {("grid_worker", street.grid)}
    shown = c.get(r.headers["location"], headers=HTML)
    assert shown.status_code == 200 and "王 网格员" in shown.text and "已添加用户" in shown.text
    # the new grid worker signs in with that password
    assert c.post("/auth/token", data={"username": username, "password": NEW_PASSWORD}).status_code == 200


def test_a_form_without_its_csrf_token_is_refused(signed_in, street, database_url):
    c = signed_in("street_admin")
    username = f"wu-{uuid.uuid4().hex[:6]}-csrf"
    data = {"username": username, "password": NEW_PASSWORD, "role": "viewer", "scope": street.street}
    # without the token the cookie does not authenticate the write; a wrong token is refused
    assert c.post("/users", headers=HTML, data=data).status_code == 401
    assert c.post("/users", headers=HTML, data={**data, "csrf_token": "0" * 64}).status_code == 403
    assert _grants(database_url, username) == set()
    worker = street.users["worker"]
    r = c.post(f"/users/{worker}", headers=HTML, data={"active": "false"})
    assert r.status_code == 401
    with psycopg.connect(database_url) as db:
        assert db.execute("SELECT active FROM app_user WHERE username = %s", [worker]).fetchone() == (True,)


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"password": "short"}, "password", "must be at least 10 characters"),
    ({"username": "Not Valid"}, "username", "lower-case letters"),
    ({"role": "grid_worker", "scope": "COMMUNITY"}, "scope", "a grid worker (网格员) is granted grids"),
])
def test_a_refused_field_is_shown_beside_it(signed_in, street, change, field, words):
    c = signed_in("street_admin")
    form = Forms(c.get("/users", headers=HTML).text).forms["add-user"]
    data = {**form["fields"], "username": f"wu-{uuid.uuid4().hex[:6]}", "full_name": "留下",
            "password": NEW_PASSWORD, "role": "viewer", "scope": street.street, **change}
    data["scope"] = data["scope"].replace("COMMUNITY", street.community)
    r = c.post("/users", headers=HTML, data=data)
    assert r.status_code == 422
    page = Forms(r.text)
    assert words in page.errors[f"e-{field}"]
    again = page.forms["add-user"]["fields"]
    assert again["full_name"] == "留下" and again["password"] == ""  # kept, but never the password
    # the API answers the same words for the same field
    api = c.post("/users", json={k: v for k, v in data.items() if k != "csrf_token"},
                 headers={"x-csrf-token": data["csrf_token"]})
    assert api.status_code == 422
    assert any(e["field"] == field and words in e["reason"] for e in api.json()["errors"])


def test_the_user_page_grants_revokes_disables_and_resets(signed_in, street, outsiders, database_url):
    c = signed_in("street_admin")
    theirs = outsiders["theirs"]
    page = Forms(c.get(f"/users/{theirs}", headers=HTML).text)
    grant = page.forms["grant-form"]
    assert (grant["method"], grant["action"]) == ("post", f"/users/{theirs}/grants")
    assert set(grant["fields"]) == {"csrf_token", "role", "scope"}
    csrf = grant["fields"]["csrf_token"]
    r = c.post(f"/users/{theirs}/grants", headers=HTML, follow_redirects=False,
               data={"csrf_token": csrf, "role": "grid_worker", "scope": street.grid})
    assert r.status_code == 303 and r.headers["location"] == f"/users/{theirs}?done=granted"
    assert _grants(database_url, theirs) == {("viewer", street.community), ("grid_worker", street.grid)}
    page = Forms(c.get(f"/users/{theirs}", headers=HTML).text)
    revokes = [f for f in page.forms.values() if f["action"] == f"/users/{theirs}/grants/revoke"]
    assert {(f["fields"]["role"], f["fields"]["scope"]) for f in revokes} == _grants(database_url, theirs)
    r = c.post(f"/users/{theirs}/grants/revoke", headers=HTML, follow_redirects=False,
               data={"csrf_token": csrf, "role": "grid_worker", "scope": street.grid})
    assert r.status_code == 303
    # the last grant: refused with the reason on the page
    r = c.post(f"/users/{theirs}/grants/revoke", headers=HTML,
               data={"csrf_token": csrf, "role": "viewer", "scope": street.community})
    assert r.status_code == 409 and "last grant" in r.text
    assert _grants(database_url, theirs) == {("viewer", street.community)}
    # disable, enable
    r = c.post(f"/users/{theirs}", headers=HTML, follow_redirects=False,
               data={"csrf_token": csrf, "active": "false"})
    assert r.status_code == 303 and r.headers["location"].endswith("done=disabled")
    assert "state-form" in Forms(c.get(r.headers["location"], headers=HTML).text).forms
    with psycopg.connect(database_url) as db:
        assert db.execute("SELECT active FROM app_user WHERE username = %s", [theirs]).fetchone() == (False,)
    c.post(f"/users/{theirs}", headers=HTML, data={"csrf_token": csrf, "active": "true"})
    # a new password: too short beside the field, then saved
    r = c.post(f"/users/{theirs}/password", headers=HTML, data={"csrf_token": csrf, "password": "short"})
    assert r.status_code == 422 and "at least 10" in Forms(r.text).errors["e-password-password"]
    r = c.post(f"/users/{theirs}/password", headers=HTML, follow_redirects=False,
               data={"csrf_token": csrf, "password": NEW_PASSWORD})
    assert r.status_code == 303
    with psycopg.connect(database_url) as db:
        row = db.execute("SELECT active, password_hash FROM app_user WHERE username = %s",
                         [theirs]).fetchone()
    assert row[0] is True and accounts.verify_password(row[1], NEW_PASSWORD)


def test_a_grant_outside_the_street_is_refused_beside_the_scope(signed_in, street, outsiders, database_url):
    c = signed_in("street_admin")
    theirs = outsiders["theirs"]
    csrf = Forms(c.get(f"/users/{theirs}", headers=HTML).text).forms["grant-form"]["fields"]["csrf_token"]
    other = "439901" + ("998" if street.street[6:] != "998" else "997")
    r = c.post(f"/users/{theirs}/grants", headers=HTML,
               data={"csrf_token": csrf, "role": "viewer", "scope": other})
    assert r.status_code == 403 and "outside your scope" in Forms(r.text).errors["e-grant-scope"]
    missing = street.community + "999"
    r = c.post(f"/users/{theirs}/grants", headers=HTML,
               data={"csrf_token": csrf, "role": "grid_worker", "scope": missing})
    assert r.status_code == 404 and missing in Forms(r.text).errors["e-grant-scope"]
    assert _grants(database_url, theirs) == {("viewer", street.community)}
    # the admin's own account: no disable button, and a forged post is refused
    me = street.users["street_admin"]
    assert "停用账号" not in c.get(f"/users/{me}", headers=HTML).text
    r = c.post(f"/users/{me}", headers=HTML, data={"csrf_token": csrf, "active": "false"})
    assert r.status_code == 409 and "your own account" in r.text


def test_english(signed_in):
    r = signed_in("street_admin").get("/users", params={"lang": "en"}, headers=HTML)
    assert "Add a user" in r.text and "添加用户" not in r.text


@pytest.fixture(scope="module")
def base_url(app, street, serve_app):
    with serve_app(app) as url:
        yield url


@pytest.mark.parametrize("size", ["pc", "phone"])
def test_in_the_browser_an_admin_adds_a_grid_worker_and_grants_a_grid(browser, base_url, street, password,
                                                                       database_url, size):
    """Headless Chromium, network cut: through the menu to 用户管理, the add-user form, the grant form;
    no console error, nothing scrolls sideways on the phone, the forms' buttons are tap-sized."""
    from tests.workbench.test_browser import Tab, sign_in

    if not shutil.which(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip("chromium not installed")
    t = Tab(browser, size)
    try:
        sign_in(t, base_url, street.users["street_admin"], password)
        with t.page.expect_navigation():
            t.page.click("nav a[href='/users']")
        username = f"wu-{uuid.uuid4().hex[:6]}-{size}"
        t.page.fill("#add-user input[name=username]", username)
        t.page.fill("#add-user input[name=full_name]", "李 网格员")
        t.page.fill("#add-user input[name=password]", NEW_PASSWORD)
        t.page.select_option("#add-user select[name=role]", "grid_worker")
        t.page.select_option("#add-user select[name=scope]", street.grid)
        with t.page.expect_navigation():
            t.page.click("#add-user button[type=submit]")
        assert t.page.url == f"{base_url}/users/{username}?done=created"
        t.page.select_option("#grant-form select[name=role]", "viewer")
        t.page.select_option("#grant-form select[name=scope]", street.community)
        with t.page.expect_navigation():
            t.page.click("#grant-form button[type=submit]")
        assert _grants(database_url, username) == {("grid_worker", street.grid), ("viewer", street.community)}
        assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        small = t.js("""() => Array.from(document.querySelectorAll('main button, main input, main select'))
            .filter(e => e.type !== 'hidden').map(e => e.getBoundingClientRect())
            .filter(r => r.height < 40).length""")
        assert small == 0
        t.shot(f"users-user-{size}")
        t.page.goto(base_url + "/users", wait_until="load")
        assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        t.shot(f"users-list-{size}")
        t.clean()
    finally:
        t.context.close()
