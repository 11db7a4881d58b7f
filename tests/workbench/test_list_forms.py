"""The workbench forms of issue 16's facilities, volunteers and honour lists, each role signed in with
the login cookie as a browser is: posts make rows (303 to what they made), a refusal answers the page
again (422, 409) with the value kept and the API's words beside the field; a session's photos come
through the session without EXIF, for signed-in readers only; a published list refuses an entry and
says why; a black entry without evidence is refused beside the evidence; person.volunteer follows
membership. And in headless Chromium at 390×844 (network cut): a 道德讲堂 session recorded with a
photo shows on the facility's page with no sideways scrolling."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from datetime import date
from urllib.parse import urlparse

import psycopg
import pytest
from PIL import Image

from tests.conftest import CHROMIUM

PAGE = {"Accept": "text/html"}


def csrf(client) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/", headers=PAGE).text)
    assert found, "no CSRF token on the home page"
    return found.group(1)


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "EvidenceCam"  # Make
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 60)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def hall(database_url, street) -> int:
    """A 道德讲堂 in the street's first community, its owner that community."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "INSERT INTO facility (kind, name, owner_community, geom) SELECT 'moral_lecture_hall',"
            " '表单讲堂', code, ST_PointOnSurface(geom) FROM community WHERE code = %s RETURNING id",
            [street.community]).fetchone()
        conn.commit()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def resident(database_url, street) -> tuple[int, str]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT p.id, p.name FROM person p JOIN household h ON h.id = p.household_id"
                           " WHERE h.grid_code = %s AND NOT p.volunteer ORDER BY p.id LIMIT 1",
                           [street.grid]).fetchone()
    assert row is not None
    return row[0], row[1]


def test_session_form_photos_and_edit(signed_in, hall, street) -> None:
    admin, worker = signed_in("street_admin"), signed_in("worker")
    page = admin.get(f"/facilities/{hall}", headers=PAGE)
    assert page.status_code == 200 and 'id="facility-map"' in page.text and "session-form" in page.text
    assert "facility-edit" in page.text
    token = csrf(admin)
    bad = admin.post(f"/facilities/{hall}/sessions",
                     data={"csrf_token": token, "held_on": date.today().isoformat(), "topic": "孝老爱亲",
                           "attendance": "-3"})
    assert bad.status_code == 422 and 'id="e-attendance"' in bad.text and 'value="孝老爱亲"' in bad.text
    made = admin.post(f"/facilities/{hall}/sessions", follow_redirects=False,
                      data={"csrf_token": token, "held_on": date.today().isoformat(), "topic": "讲孝道",
                            "attendance": "35"},
                      files={"photos": ("hall.jpg", jpeg_with_exif(), "image/jpeg")})
    assert made.status_code == 303 and made.headers["location"].startswith(f"/facilities/{hall}#session-")
    session_id = int(made.headers["location"].rsplit("-", 1)[1])
    shown = admin.get(f"/facilities/{hall}", headers=PAGE).text
    sha = re.search(rf"/facility-sessions/{session_id}/photos/([0-9a-f]{{64}})/thumbnail", shown)
    assert sha and "讲孝道" in shown
    # a reader of the session (any signed-in role) gets the page copy and the thumbnail, without EXIF
    for path in (f"/facility-sessions/{session_id}/photos/{sha.group(1)}",
                 f"/facility-sessions/{session_id}/photos/{sha.group(1)}/thumbnail"):
        r = worker.get(path)
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert 0x010F not in Image.open(io.BytesIO(r.content)).getexif()
    # not through another session; not for anyone signed out
    assert worker.get(f"/facility-sessions/{session_id + 10_000}/photos/{sha.group(1)}").status_code == 404
    from fastapi.testclient import TestClient

    nobody = TestClient(admin.app, base_url="http://127.0.0.1")  # not entered: the app's pool stays open
    assert nobody.get(f"/facility-sessions/{session_id}/photos/{sha.group(1)}").status_code == 401
    # a grid worker reads the page, records nothing, edits nothing
    seen = worker.get(f"/facilities/{hall}", headers=PAGE).text
    assert "讲孝道" in seen and "session-form" not in seen and "facility-edit" not in seen
    # the edit/close form: a refusal beside the field with the value kept; closing keeps the sessions
    blank = admin.post(f"/facilities/{hall}", data={"csrf_token": token, "name": "", "active": "true"})
    assert blank.status_code == 422 and 'id="e-name"' in blank.text
    closed = admin.post(f"/facilities/{hall}", follow_redirects=False,
                        data={"csrf_token": token, "name": "表单讲堂", "active": "false",
                              "address": "文明路1号"})
    assert closed.status_code == 303
    after = admin.get(f"/facilities/{hall}", headers=PAGE).text
    assert "停用" in after and "文明路1号" in after and "讲孝道" in after and "session-form" not in after


def test_team_member_activity_and_leave(signed_in, street, resident) -> None:
    admin, worker = signed_in("street_admin"), signed_in("worker")
    token = csrf(admin)
    bad = admin.post("/volunteers/teams", data={"csrf_token": token, "name": "学雷锋队", "scope": "12"})
    assert bad.status_code == 422 and 'id="e-scope"' in bad.text and 'value="学雷锋队"' in bad.text
    made = admin.post("/volunteers/teams", follow_redirects=False,
                      data={"csrf_token": token, "name": "学雷锋队", "scope": street.community})
    assert made.status_code == 303
    team = made.headers["location"]
    again = admin.post("/volunteers/teams", data={"csrf_token": token, "name": "学雷锋队",
                                                  "scope": street.community})
    assert again.status_code == 409 and 'id="e-name"' in again.text
    # a resident picked from the register's search
    person_id, name = resident
    found = admin.get(team, params={"q": name}, headers=PAGE).text
    assert f'name="person_id" value="{person_id}"' in found
    joined = admin.post(f"{team}/members", follow_redirects=False,
                        data={"csrf_token": token, "person_id": str(person_id), "q": name})
    assert joined.status_code == 303
    edit = admin.get(f"/persons/{person_id}/edit", headers=PAGE).text
    assert re.search(r'name="volunteer"[^>]*checked', edit)
    assert "tag volunteer" in admin.get(team, headers=PAGE).text
    twice = admin.post(f"{team}/members", data={"csrf_token": token, "person_id": str(person_id)})
    assert twice.status_code == 409 and 'id="e-person_id"' in twice.text
    # an outsider by name and phone; a bad phone beside the phone
    wrong = admin.post(f"{team}/members", data={"csrf_token": token, "name": "李外来", "phone": "call me"})
    assert wrong.status_code == 422 and 'id="e-phone"' in wrong.text and 'value="李外来"' in wrong.text
    assert admin.post(f"{team}/members", follow_redirects=False,
                      data={"csrf_token": token, "name": "李外来", "phone": "13800001111"}).status_code == 303
    # the activity: one row per active member with its hours
    page = admin.get(team, headers=PAGE).text
    members = re.findall(r'name="member_id" value="(\d+)"', page)
    assert len(members) == 2
    over = admin.post(f"{team}/activities", data={"csrf_token": token, "held_on": date.today().isoformat(),
                                                  "title": "清扫楼道", "member_id": members,
                                                  "hours": ["30", ""]})
    assert over.status_code == 422 and 'id="e-hours"' in over.text and 'value="清扫楼道"' in over.text
    assert 'value="30"' in over.text
    done = admin.post(f"{team}/activities", follow_redirects=False,
                      data={"csrf_token": token, "held_on": date.today().isoformat(), "title": "清扫楼道",
                            "member_id": members, "hours": ["2.5", "1"]})
    assert done.status_code == 303
    page = admin.get(team, headers=PAGE).text
    assert "清扫楼道" in page and "2.50" in page and "3.50" in page
    # the worker reads the team (her grid's resident too), without forms; her post is refused
    seen = worker.get(team, headers=PAGE).text
    assert name in seen and "member-form" not in seen and "activity-form" not in seen
    assert worker.post(f"{team}/members", data={"csrf_token": csrf(worker), "name": "x"}).status_code == 403
    # leaving: the member is kept with the day, the resident is no volunteer any more
    member = re.search(rf'data-member="(\d+)"><td>{re.escape(name)}', page)
    assert member
    left = admin.post(f"/volunteers/members/{member.group(1)}/leave", follow_redirects=False,
                      data={"csrf_token": token})
    assert left.status_code == 303
    assert not re.search(r'name="volunteer"[^>]*checked',
                         admin.get(f"/persons/{person_id}/edit", headers=PAGE).text)
    twice = admin.post(f"/volunteers/members/{member.group(1)}/leave", data={"csrf_token": token})
    assert twice.status_code == 409 and 'id="e-left_on"' in twice.text


def test_honour_list_forms(signed_in, database_url, street) -> None:
    admin = signed_in("street_admin")
    token = csrf(admin)
    bad = admin.post("/honours/lists", data={"csrf_token": token, "kind": "civilised_household", "scope": "",
                                             "series": "2026年第二季度", "title": "十文明户"})
    assert bad.status_code == 422 and 'id="e-scope"' in bad.text and 'value="2026年第二季度"' in bad.text
    made = admin.post("/honours/lists", follow_redirects=False,
                      data={"csrf_token": token, "kind": "civilised_household", "scope": street.community,
                            "series": "2026年第二季度", "title": "十文明户"})
    assert made.status_code == 303
    url = made.headers["location"]
    with psycopg.connect(database_url) as conn:
        household = conn.execute("SELECT id FROM household WHERE grid_code = %s ORDER BY id LIMIT 1",
                                 [street.grid]).fetchone()[0]
    # a black entry without evidence: refused beside the evidence, the values kept
    black = admin.post(f"{url}/entries", data={"csrf_token": token, "colour": "black",
                                               "household_id": str(household), "reason": "乱堆乱放"})
    assert black.status_code == 422 and 'id="e-violation_id"' in black.text and "乱堆乱放" in black.text
    page = admin.get(url, headers=PAGE).text
    assert 'name="violation_id"' in page and 'name="report_id"' in page
    red = admin.post(f"{url}/entries", follow_redirects=False,
                     data={"csrf_token": token, "colour": "red", "household_id": str(household),
                           "reason": "邻里和睦"})
    assert red.status_code == 303
    other = admin.post(f"{url}/entries", follow_redirects=False,
                       data={"csrf_token": token, "colour": "red", "household_id": str(household + 1)})
    assert other.status_code == 303
    entries = re.findall(r'/entries/(\d+)/remove', admin.get(url, headers=PAGE).text)
    assert len(entries) == 2
    assert admin.post(f"{url}/entries/{entries[1]}/remove", follow_redirects=False,
                      data={"csrf_token": token}).status_code == 303
    # approve with the public version, publish asks first, then the list never changes
    assert admin.post(f"{url}/state", follow_redirects=False,
                      data={"csrf_token": token, "action": "approve", "public": "true"}).status_code == 303
    ask = admin.post(f"{url}/state", data={"csrf_token": token, "action": "publish"})
    assert ask.status_code == 200 and 'id="confirm-publish"' in ask.text and 'name="confirmed"' in ask.text
    assert "已审核" in admin.get(url, headers=PAGE).text  # not published by the first tap
    assert admin.post(f"{url}/state", follow_redirects=False,
                      data={"csrf_token": token, "action": "publish", "confirmed": "yes"}).status_code == 303
    published = admin.get(url, headers=PAGE).text
    assert "已发布，不可修改" in published and "version-form" in published and "entry-form" not in published
    refused = admin.post(f"{url}/entries", data={"csrf_token": token, "colour": "red",
                                                 "household_id": str(household + 2)})
    assert refused.status_code == 409 and 'id="e-list"' in refused.text and "published" in refused.text
    # the public page shows the redacted household, never the reason written about it
    public = admin.get("/public/honours", headers=PAGE).text
    assert "十文明户" in public and "邻里和睦" not in public
    # a new version: drafted, its entries copied
    version = admin.post(f"{url}/versions", follow_redirects=False, data={"csrf_token": token, "title": ""})
    assert version.status_code == 303 and version.headers["location"] != url
    draft = admin.get(version.headers["location"], headers=PAGE).text
    assert "entry-form" in draft and "邻里和睦" in draft


def test_participation_page_and_form(signed_in, database_url, street) -> None:
    worker, viewer = signed_in("worker"), signed_in("viewer")
    page = worker.get("/honours/participation", headers=PAGE)
    assert page.status_code == 200 and "participation-form" in page.text and "80%" in page.text
    token = csrf(worker)
    year = date.today().year
    bad = worker.post("/honours/participation", data={"csrf_token": token, "year": str(year),
                                                      "household_ids": "12 abc"})
    assert bad.status_code == 422 and 'id="e-household_ids"' in bad.text and "12 abc" in bad.text
    with psycopg.connect(database_url) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM household WHERE grid_code = %s ORDER BY id LIMIT 3",
                                          [street.grid]).fetchall()]
    done = worker.post("/honours/participation", follow_redirects=False,
                       data={"csrf_token": token, "year": str(year), "household_ids": f"{ids[0]}, {ids[1]}"})
    assert done.status_code == 303 and "recorded=2" in done.headers["location"]
    assert "已登记 2 户参评" in worker.get(done.headers["location"], headers=PAGE).text
    # a viewer sees the shares (counts), without the form; the menu leads each role only where it may go
    seen = viewer.get("/honours/participation", headers=PAGE)
    assert seen.status_code == 200 and "participation-form" not in seen.text
    assert 'href="/honours/participation"' in viewer.get("/", headers=PAGE).text
    assert 'href="/honours/participation"' not in signed_in("inspector").get("/", headers=PAGE).text


# --- the phone, in headless Chromium -------------------------------------------------------------------

@pytest.fixture(scope="module")
def base_url(app, street, serve_app) -> Iterator[str]:
    with serve_app(app) as url:
        yield url


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium not installed")
def test_phone_records_a_session_with_a_photo(browser, base_url, street, password, hall, tmp_path) -> None:
    """The community's admin (who records its 道德讲堂's sessions, with the owning unit's accounts) on a
    390×844 phone: the session form with a photo, then the session and its thumbnail on the page."""
    photo = tmp_path / "session.jpg"
    photo.write_bytes(jpeg_with_exif())
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*",
               lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort())
    try:
        page.goto(base_url + "/login", wait_until="load")
        page.fill("input[name=username]", street.users["street_admin"])
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(base_url + "/", timeout=60_000)
        page.goto(f"{base_url}/facilities/{hall}", wait_until="load")
        # reopen the hall if the form test closed it (module order): sessions are recorded while in use
        if page.locator("form.session-form").count() == 0:
            page.select_option("select[name=active]", "true")
            page.click("form.facility-edit button[type=submit]")
            page.wait_for_url(f"{base_url}/facilities/{hall}", timeout=60_000)
        page.fill("#s-held_on", date.today().isoformat())
        page.fill("#s-topic", "道德讲堂：好家风")
        page.fill("#s-attendance", "42")
        page.set_input_files("#s-photos", str(photo))
        small = page.evaluate("() => Array.from(document.querySelectorAll("
                              "'.session-form input:not([type=hidden]), .session-form button'))"
                              ".filter(e => e.getBoundingClientRect().height < 40)"
                              ".map(e => e.name || e.type)")
        assert small == []
        page.click("form.session-form button[type=submit]")
        page.wait_for_url(re.compile(rf".*/facilities/{hall}#session-\d+$"), timeout=60_000)
        item = page.locator("ul.facility-sessions li", has_text="道德讲堂：好家风")
        assert item.count() == 1
        thumb = item.locator("img")
        assert thumb.count() == 1
        page.wait_for_load_state("load")
        assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", thumb.element_handle())
        assert page.locator("#facility-map .leaflet-interactive").count() == 1  # the point, drawn locally
        wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"the facility page scrolls sideways by {wide} px on the phone"
        assert errors == []
    finally:
        context.close()
