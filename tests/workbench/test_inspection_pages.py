"""The inspector's pages (督查): a place's page with its inspection form (photos), a violation's page
with its workflow buttons, history and re-check; and her journey in headless Chromium.

Each test makes its own violation (a school and a food shop 45 m from it whose valid licence is not
displayed: 证照齐全、亮证经营), so a re-check that finds the licence displayed closes it. The pages
are parsed with html.parser; what was recorded is read back as the owner, with SQL of the test's own.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urlparse

import psycopg
import pytest
from PIL import Image

from gis.perimeter.check import Scope
from gis.perimeter.inspections import record_violations
from tests.workbench.test_browser import Tab, sign_in

# The workflow as the domain states it (written out here, not read from the code under test).
NEXT = {"open": ["notified", "closed"], "notified": ["rectified", "closed"], "rectified": ["closed", "open"],
        "closed": []}
HTML = {"Accept": "text/html"}


class Forms(HTMLParser):
    """The page's forms: action, method, enctype, inputs (name -> attributes) and submit buttons."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "enctype": a.get("enctype"), "fields": {},
                               "buttons": []})
        elif tag in ("input", "select", "textarea") and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value")))
        elif tag == "img":
            self.images.append(a.get("src", ""))
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])

    def action(self, pattern: str) -> dict:
        found = [f for f in self.forms if re.fullmatch(pattern, f["action"] or "")]
        assert len(found) == 1, (pattern, [f["action"] for f in self.forms])
        return found[0]


def jpeg(colour=(180, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def shop(database_url: str, street):
    """``shop()``: a new open violation near a new school in the street; (place ref, violation id,
    school ref)."""
    made = []

    def make() -> tuple[str, int, str]:
        tag = uuid.uuid4().hex[:8]
        with psycopg.connect(database_url) as c:
            x, y = c.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
                             " WHERE code = %s) g", [street.grid]).fetchone()
            x += 0.002 * (len(made) + 1) * (1 + int(tag[:2], 16) % 5)
            school = c.execute("INSERT INTO school (ref, name, level, geom) VALUES (%s, %s, 'primary',"
                               " ST_Buffer(ST_Point(%s, %s, 4326), 0.0003)) RETURNING ref",
                               [f"S-{tag}", f"第{tag[:3]}小学", x, y]).fetchone()[0]
            place = c.execute("INSERT INTO place (ref, name, category, address, geom) VALUES (%s, %s,"
                              " 'food_shop', '学府路 8 号', ST_Point(%s, %s, 4326)) RETURNING id",
                              [f"P-{tag}", f"便利店 {tag[:4]}", x, y + 0.0007]).fetchone()[0]
            c.execute("INSERT INTO licence (place_id, kind, number, valid_until, displayed)"
                      " VALUES (%s, '食品经营许可证', 'JY-1', '2099-12-31', false)", [place])
            assert record_violations(c, date.today(), scope=Scope(place_id=place))["opened"] == 1
            violation = c.execute("SELECT id FROM violation WHERE place_id = %s", [place]).fetchone()[0]
            c.commit()
        made.append(tag)
        return f"P-{tag}", violation, school

    yield make
    # leave the street as the other pages' tests expect it (their figures count its violations)
    with psycopg.connect(database_url) as c:
        c.execute("DELETE FROM place WHERE ref = ANY(%s)", [[f"P-{t}" for t in made]])  # cascades
        c.execute("DELETE FROM school WHERE ref = ANY(%s)", [[f"S-{t}" for t in made]])
        c.commit()


def owner_row(database_url: str, sql: str, params: list):
    with psycopg.connect(database_url) as c:
        return c.execute(sql, params).fetchall()


def test_inspection_form_records_the_signed_in_inspector(signed_in, street, shop, database_url):
    ref, violation, _ = shop()
    c = signed_in("inspector")
    r = c.get(f"/perimeter/places/{ref}", headers=HTML)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    page = Forms(r.text)
    form = page.action(f"/perimeter/places/{ref}/inspections")
    assert form["enctype"] == "multipart/form-data"
    photos = form["fields"]["photos"]
    assert photos["type"] == "file" and photos["accept"] == "image/*" and photos["capture"] == "environment"
    assert "multiple" in photos
    assert set(form["fields"]) == {"csrf_token", "result", "licence_displayed", "note", "photos"}
    assert f"/perimeter/violations/recorded/{violation}" in page.links
    token = form["fields"]["csrf_token"]["value"]
    photo = jpeg()
    # a name sent for the inspector (or an actor) is not taken: the signed-in user inspected
    r = c.post(f"/perimeter/places/{ref}/inspections", headers=HTML, follow_redirects=False,
               data={"csrf_token": token, "result": "violation", "note": "未亮证", "inspector": "冒名",
                     "actor": "冒名"},
               files=[("photos", ("shop.jpg", photo, "image/jpeg")), ("photos", ("b.jpg", jpeg((1, 2, 3)),
                                                                                  "image/jpeg"))])
    assert r.status_code == 303 and r.headers["location"].startswith(f"/perimeter/places/{ref}")
    rows = owner_row(database_url, "SELECT i.inspector, i.note, count(ip.sha256) FROM inspection i"
                     " JOIN place p ON p.id = i.place_id"
                     " LEFT JOIN inspection_photo ip ON ip.inspection_id = i.id"
                     " WHERE p.ref = %s GROUP BY i.id", [ref])
    assert rows == [(street.users["inspector"], "未亮证", 2)]
    # the page shows it back with its thumbnails, which load (image/jpeg)
    page = Forms(c.get(f"/perimeter/places/{ref}", headers=HTML).text)
    thumbs = [src for src in page.images if src.endswith("/thumbnail")]
    assert len(thumbs) == 2
    assert all(c.get(src).headers["content-type"] == "image/jpeg" for src in thumbs)
    # no CSRF token: refused, nothing recorded
    r = c.post(f"/perimeter/places/{ref}/inspections", headers=HTML, data={"result": "compliant"},
               files=[("photos", ("a.jpg", photo, "image/jpeg"))])
    assert r.status_code in (401, 403)  # the cookie alone does not authenticate a write
    # a text file as a photo: 422 beside the photos field, nothing recorded
    r = c.post(f"/perimeter/places/{ref}/inspections", headers=HTML,
               data={"csrf_token": token, "result": "compliant"},
               files=[("photos", ("note.jpg", b"not a photo", "image/jpeg"))])
    assert r.status_code == 422 and 'id="e-photos"' in r.text and "not a photo" in r.text
    r = c.post(f"/perimeter/places/{ref}/inspections", headers=HTML,
               data={"csrf_token": token, "result": "bogus"})
    assert r.status_code == 422 and 'id="e-result"' in r.text
    assert owner_row(database_url, "SELECT count(*) FROM inspection i JOIN place p ON p.id = i.place_id"
                     " WHERE p.ref = %s", [ref]) == [(1,)]


def test_workflow_buttons_are_exactly_the_allowed_next_steps(signed_in, street, shop, database_url):
    ref, violation, _ = shop()
    c = signed_in("inspector")
    url = f"/perimeter/violations/recorded/{violation}"
    for step in ("notified", "rectified", None):
        status = owner_row(database_url, "SELECT status FROM violation WHERE id = %s", [violation])[0][0]
        page = Forms(c.get(url, headers=HTML).text)
        move = page.action(url)
        assert [v for n, v in move["buttons"] if n == "status"] == NEXT[status]
        assert not {"actor", "inspector"} & set(move["fields"])
        if step is None:
            break
        r = c.post(url, headers=HTML, follow_redirects=False,
                   data={"csrf_token": move["fields"]["csrf_token"]["value"], "status": step,
                         "actor": "冒名", "note": f"to {step}"})
        assert r.status_code == 303, r.text
    history = owner_row(database_url, "SELECT from_status, to_status, actor, note FROM violation_event"
                        " WHERE violation_id = %s ORDER BY id", [violation])
    me = street.users["inspector"]
    assert history[1:] == [("open", "notified", me, "to notified"),
                           ("notified", "rectified", me, "to rectified")]
    token = Forms(c.get(url, headers=HTML).text).action(url)["fields"]["csrf_token"]["value"]
    # a step the workflow does not allow from here: 409 in words, nothing moved
    r = c.post(url, headers=HTML, data={"csrf_token": token, "status": "notified"})
    assert r.status_code == 409 and "rectified" in r.text
    r = c.post(url, headers=HTML, data={"csrf_token": token, "status": "bogus"})
    assert r.status_code == 422
    assert c.post(url, headers=HTML, data={"status": "closed"}).status_code in (401, 403)  # no CSRF token
    status = owner_row(database_url, "SELECT status FROM violation WHERE id = %s", [violation])
    assert status == [("rectified",)]
    # the history is beside the buttons: who, from -> to, the note
    assert me in c.get(url, headers=HTML).text and "to rectified" in c.get(url, headers=HTML).text


def test_readers_read_and_others_are_refused(signed_in, shop, database_url):
    ref, violation, _ = shop()
    viewer = signed_in("viewer")
    url = f"/perimeter/violations/recorded/{violation}"
    r = viewer.get(url, headers=HTML)
    assert r.status_code == 200
    page = Forms(r.text)
    # no workflow buttons, no inspection form: the sign-out form alone
    assert page.forms == [f for f in page.forms if f["action"] == "/logout"]
    assert not Forms(viewer.get(f"/perimeter/places/{ref}", headers=HTML).text).forms[1:]
    token = Forms(r.text).action("/logout")["fields"]["csrf_token"]["value"]
    assert viewer.post(url, data={"csrf_token": token, "status": "notified"}).status_code == 403
    for name in ("worker", "planner"):
        other = signed_in(name)
        assert other.get(url, headers=HTML).status_code == 403
        assert other.get(f"/perimeter/places/{ref}", headers=HTML).status_code == 403
    inspector = signed_in("inspector")
    assert inspector.get("/perimeter/places/no-such-place", headers=HTML).status_code == 404
    assert inspector.get("/perimeter/violations/recorded/999999999", headers=HTML).status_code == 404
    # the JSON API at the same addresses still answers JSON, with the allowed steps and no actor field
    r = inspector.get(url)
    assert r.headers["content-type"].startswith("application/json") and r.json()["next"] == NEXT["open"]
    r = inspector.get(f"/perimeter/places/{ref}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert owner_row(database_url, "SELECT status FROM violation WHERE id = %s", [violation]) == [("open",)]


@pytest.fixture(scope="module")
def base_url(app, street, serve_app):
    with serve_app(app) as url:
        yield url


@pytest.fixture
def tab(browser):
    tabs: list[Tab] = []

    def make(size: str) -> Tab:
        tabs.append(Tab(browser, size))
        return tabs[-1]

    yield make
    for t in tabs:
        t.context.close()


@pytest.mark.parametrize("size", ["pc", "phone"])
def test_inspector_journey(tab, base_url, street, password, shop, database_url, size):
    """Sign in, find the violation near a school in the recorded list, open the school's map, record an
    inspection with a photo, notify, rectify, and the re-check (licence now displayed) closes it."""
    ref, violation, school = shop()
    t = tab(size)
    sign_in(t, base_url, street.users["inspector"], password)
    listed = t.page.request.get(base_url + "/perimeter/violations/recorded?status=open&limit=1000").json()
    found = next(v for v in listed if v["place_ref"] == ref)
    assert found["school_ref"] == school
    t.page.goto(f"{base_url}/perimeter/violations/recorded/{found['id']}", wait_until="load")
    t.shot(f"inspection-violation-{size}")
    with t.page.expect_navigation(wait_until="load"):
        t.page.click(f"a[href='/maps/perimeter/schools/{school}']")
    assert urlparse(t.page.url).path == f"/maps/perimeter/schools/{school}"
    t.page.go_back(wait_until="load")
    with t.page.expect_navigation(wait_until="load"):
        t.page.click(f"article a[href='/perimeter/places/{ref}']")
    t.page.select_option("#f-result", "violation")
    t.page.fill("#f-note", "未亮证经营，已当场告知")
    t.page.set_input_files("#f-photos", files=[{"name": "shop.jpg", "mimeType": "image/jpeg",
                                                "buffer": jpeg((30, 90, 160))}])
    t.page.click("form.inspect button[type=submit]")
    t.page.wait_for_url(re.compile(f"/perimeter/places/{ref}"))
    t.wait("document.querySelectorAll('.inspections img').length === 1 && "
           "document.querySelector('.inspections img').complete && "
           "document.querySelector('.inspections img').naturalWidth > 0")
    t.shot(f"inspection-place-{size}")
    assert t.js("document.documentElement.scrollWidth <= window.innerWidth")
    t.page.goto(f"{base_url}/perimeter/violations/recorded/{violation}", wait_until="load")
    for step in ("notified", "rectified"):
        with t.page.expect_navigation(wait_until="load"):
            t.page.click(f"form.move button[value={step}]")
        t.page.wait_for_selector(f"h2 .status-{step}", timeout=30_000)
    t.shot(f"inspection-rectified-{size}")
    t.page.select_option("#f-result", "rectified")
    t.page.select_option("#f-licence_displayed", "true")
    with t.page.expect_navigation(wait_until="load"):
        t.page.click("form.inspect button[type=submit]")
    t.page.wait_for_selector("h2 .status-closed", timeout=30_000)
    assert t.js("document.documentElement.scrollWidth <= window.innerWidth")
    t.shot(f"inspection-closed-{size}")
    rows = owner_row(database_url, "SELECT v.status, array_agg(e.to_status ORDER BY e.id),"
                     " array_agg(DISTINCT e.actor) FILTER (WHERE e.from_status IS NOT NULL)"
                     " FROM violation v JOIN violation_event e ON e.violation_id = v.id WHERE v.id = %s"
                     " GROUP BY v.id", [violation])
    assert rows == [("closed", ["open", "notified", "rectified", "closed"], [street.users["inspector"]])]
    t.clean()
