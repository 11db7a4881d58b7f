"""The report pages (不文明行为) through the login cookie and CSRF token as a browser sends them: the
reporter's form (routed owner and duplicates shown after posting, a retry stored once, bad input beside
the field in the API's words), the queues, the report page's step forms (only the steps the user may
take; 422 beside the field; 409 with the state as it is now), the photos through the report, the home
page blocks of unit and reporter accounts, and HTML error pages.

The world is this module's own (its accounts are made here, not the shared role users, whose unit link
another test changes): a road section beside a point of the demo street's first grid, held by a unit
from 30 days ago on; what is stored is read back as the owner with SQL of the test's own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from pyproj import Geod

from gis.access import accounts
from tests.workbench.test_inspection_pages import jpeg
from tests.workbench.test_users_pages import Forms

HTML = {"Accept": "text/html"}
GEOD = Geod(ellps="WGS84")
PASSWORD = "report pages horse battery"


@dataclass(frozen=True)
class ReportWorld:
    grid: str
    unit: int
    other_unit: int
    section: int
    near: tuple[float, float]  # 8 m north of the section: routed to the unit
    users: dict[str, str]  # reporter, unit, other_unit, dispatcher, checker, viewer -> username


@pytest.fixture(scope="module")
def report_world(database_url: str, street) -> Iterator[ReportWorld]:
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(database_url) as c:
        x, y = c.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
                         " WHERE code = %s) g", [street.grid]).fetchone()
        west, east = GEOD.fwd(x, y, 270, 60)[:2], GEOD.fwd(x, y, 90, 60)[:2]
        line = f"SRID=4326;LINESTRING({west[0]} {west[1]},{east[0]} {east[1]})"
        road = c.execute("INSERT INTO road (ref, name, geom) VALUES (%s, '文明路', %s) RETURNING id",
                         [f"{tag}-road", line]).fetchone()[0]
        section = c.execute(
            "INSERT INTO road_section (road_id, code, road_name, length_m, community_code, grid_code, geom)"
            " VALUES (%s, %s, '文明路', ST_Length(%s::geography), %s, %s, %s) RETURNING id",
            [road, f"{tag}-road-001", line, street.community, street.grid, line]).fetchone()[0]
        units = [c.execute("INSERT INTO responsible_unit (name) VALUES (%s) RETURNING id",
                           [f"{tag} {name}"]).fetchone()[0] for name in ("文明商户", "别的单位")]
        c.execute("INSERT INTO road_section_assignment (section_id, unit_id, valid)"
                  " VALUES (%s, %s, daterange(%s, NULL))",
                  [section, units[0], date.today() - timedelta(days=30)])
        users: dict[str, str] = {}
        for name, role in (("reporter", "reporter"), ("unit", "unit"), ("other_unit", "unit"),
                           ("dispatcher", "admin"), ("checker", "admin"), ("viewer", "viewer")):
            username = f"rp-{tag}-{name.replace('_', '-')}"
            accounts.create_user(c, username, PASSWORD)
            # the admins over the community (the street admin's peers would be no one's to manage:
            # tests/workbench/test_users_pages.py lists the street's users)
            accounts.grant(c, username, role, street.community if role == "admin" else street.street)
            users[name] = username
        for name, unit in (("unit", units[0]), ("other_unit", units[1])):
            c.execute("INSERT INTO unit_account (user_id, unit_id) VALUES (%s, %s)",
                      [accounts.user_id(c, users[name]), unit])
        c.commit()
    near = GEOD.fwd(x, y, 0, 8)[:2]
    yield ReportWorld(street.grid, units[0], units[1], section, (near[0], near[1]), users)
    with psycopg.connect(database_url) as c:
        c.execute("DELETE FROM road WHERE ref LIKE %s", [f"{tag}-%"])
        c.commit()


@pytest.fixture(scope="module")
def as_user(app, report_world) -> Iterator:
    """``as_user("unit")``: a TestClient signed in at /login as that account of the module's world."""
    clients: dict[str, TestClient] = {}

    def make(name: str) -> TestClient:
        if name not in clients:
            c = TestClient(app, base_url="http://127.0.0.1")
            c.__enter__()
            r = c.post("/login", follow_redirects=False,
                       data={"username": report_world.users[name], "password": PASSWORD, "next": "/"})
            assert r.status_code == 303, r.text
            clients[name] = c
        return clients[name]

    yield make
    for c in clients.values():
        c.__exit__(None, None, None)


def csrf(c: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path, headers=HTML).text)
    assert found
    return found.group(1)


def file_report(c: TestClient, world: ReportWorld, client_id: str | None = None, photo: bool = True,
                **fields: str):
    data = {"csrf_token": csrf(c, "/reports/new"), "category": "street_vending",
            "lon": f"{world.near[0]:.7f}", "lat": f"{world.near[1]:.7f}", "crs": "EPSG:4326",
            "description": "摊位占道",
            "client_id": client_id or uuid.uuid4().hex, **fields}
    files = [("photos", ("before.jpg", jpeg((200, 90, 40)), "image/jpeg"))] if photo else []
    return c.post("/reports", headers=HTML, data=data, files=files or None, follow_redirects=False)


def filed_id(r) -> int:
    assert r.status_code == 303, r.text[:2000]
    found = re.fullmatch(r"/reports/(\d+)\?filed=1", r.headers["location"])
    assert found, r.headers["location"]
    return int(found.group(1))


def step_forms(c: TestClient, report_id: int) -> dict[str, dict]:
    page = Forms(c.get(f"/reports/{report_id}", headers=HTML).text)
    return {k.removeprefix("step-"): v for k, v in page.forms.items() if k.startswith("step-")}


def step(c: TestClient, report_id: int, action: str, files=None, **fields: str):
    form = step_forms(c, report_id)[action]
    data = {**{k: v for k, v in form["fields"].items() if v is not None and k != "photos"}, **fields}
    return c.post(f"/reports/{report_id}/transitions", headers=HTML, data=data, files=files,
                  follow_redirects=False)


def test_the_reporter_files_and_sees_where_it_went(as_user, report_world, database_url):
    c = as_user("reporter")
    page = Forms(c.get("/reports/new", headers=HTML).text)
    form = page.forms["report-form"]
    assert (form["method"], form["action"]) == ("post", "/reports")
    assert {"csrf_token", "category", "lon", "lat", "crs", "client_id", "photos"} <= set(form["fields"])
    assert "street_vending" in form["options"]["category"]
    assert form["options"]["crs"] == ["EPSG:4326", "GCJ-02", "BD-09"]
    client_id = uuid.uuid4().hex
    first = filed_id(file_report(c, report_world, client_id))
    shown = c.get(f"/reports/{first}?filed=1", headers=HTML).text
    assert 'id="filed"' in shown
    assert "文明商户" in shown and "文明路" in shown  # routed to the unit, the section as evidence
    assert 'id="steps"' not in shown  # a reporter takes no step
    # the same client id again: the same report, stored once
    assert filed_id(file_report(c, report_world, client_id)) == first
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT owner_kind, unit_id, routed_section, reporter,"
                            " (SELECT count(*) FROM report_photo p"
                            "  WHERE p.report_id = r.id AND kind = 'before')"
                            " FROM report r WHERE client_id = %s", [client_id]).fetchall()
    assert rows == [("unit", report_world.unit, report_world.section, report_world.users["reporter"], 1)]
    # a second report of the same category beside it: the first is suggested as a duplicate
    second = filed_id(file_report(c, report_world, photo=False))
    shown = c.get(f"/reports/{second}?filed=1", headers=HTML).text
    assert f'href="/reports/{first}"' in shown
    # her own list and her home page
    mine = c.get("/reports/mine", headers=HTML).text
    assert f'data-report="{first}"' in mine and f'data-report="{second}"' in mine
    home = c.get("/", headers=HTML).text
    assert 'id="home-mine"' in home and f'data-report="{first}"' in home
    assert 'href="/reports/new"' in home


def test_bad_input_is_shown_beside_the_field(as_user, report_world):
    c = as_user("reporter")
    r = file_report(c, report_world, lon="", photo=False)  # no position: the phone gave none
    assert r.status_code == 422 and Forms(r.text).errors == {"e-lon": "Field required"}
    assert 'value="摊位占道"' in r.text or "摊位占道" in r.text  # what was typed is kept
    r = file_report(c, report_world, category="flying", lat="95", crs="EPSG:3857", photo=False)
    assert r.status_code == 422
    errors = Forms(r.text).errors  # every problem at once, in the API's words
    assert "unknown category" in errors["e-category"] and "between -90 and 90" in errors["e-lat"]
    assert "GCJ-02" in errors["e-crs"]
    r = file_report(c, report_world, client_id="short", photo=False)
    assert r.status_code == 422 and "8-64" in r.text
    # a file that is no photo
    data = {"csrf_token": csrf(c, "/reports/new"), "category": "litter", "lon": "114", "lat": "26"}
    r = c.post("/reports", headers=HTML, data=data,
               files=[("photos", ("x.jpg", b"not a photo", "image/jpeg"))])
    assert r.status_code == 422 and "e-photos" in Forms(r.text).errors
    # without its CSRF token the cookie does not authenticate the post
    assert c.post("/reports", headers=HTML, data={"category": "litter"}).status_code == 401


def test_the_steps_from_the_pages(as_user, report_world, database_url):
    rid = filed_id(file_report(as_user("reporter"), report_world))
    unit, dispatcher, checker = as_user("unit"), as_user("dispatcher"), as_user("checker")
    # the unit sees it (no step yet: accepting is the dispatcher's); the dispatcher has it to do
    assert step_forms(unit, rid) == {}
    queue = unit.get("/reports/queue", headers=HTML).text
    assert f'data-report="{rid}"' in queue.split('id="queue-others"')[1]
    assert f'data-report="{rid}"' in dispatcher.get("/reports/queue", headers=HTML).text.split(
        'id="queue-others"')[0]
    assert set(step_forms(dispatcher, rid)) == {"accept", "reject", "duplicate"}
    assert step(dispatcher, rid, "accept").status_code == 303
    assert set(step_forms(dispatcher, rid)) == {"dispatch"}
    assert step(dispatcher, rid, "dispatch").status_code == 303
    assert set(step_forms(unit, rid)) == {"sign", "return"}
    assert step_forms(dispatcher, rid) == {}
    # a return needs a reason from the list: said beside the field
    r = step(unit, rid, "return")
    assert r.status_code == 422 and "return_reasons" in Forms(r.text).errors["e-reason"]
    r = step(unit, rid, "return", reason="not_our_section", note="不归我们")
    assert r.status_code == 303 and r.headers["location"] == f"/reports/{rid}#history"
    shown = dispatcher.get(f"/reports/{rid}", headers=HTML).text
    assert 'data-reason="not_our_section"' in shown and "不在本单位责任路段" in shown
    assert "文明路" in shown and 'id="routing-distance"' in shown  # the evidence beside the reason
    assert set(step_forms(dispatcher, rid)) == {"dispatch", "overrule"}
    r = step(dispatcher, rid, "overrule")
    assert r.status_code == 422 and Forms(r.text).errors["e-note"] == "say why (note)"
    assert step(dispatcher, rid, "overrule", note="路段确属贵单位").status_code == 303
    assert step(unit, rid, "sign").status_code == 303
    r = step(unit, rid, "handle")  # the after photo is required
    assert r.status_code == 422 and "after" in Forms(r.text).errors["e-photos"]
    after = [("photos", ("after.jpg", jpeg((30, 160, 60)), "image/jpeg"))]
    assert step(unit, rid, "handle", files=after, note="已劝离").status_code == 303
    assert step_forms(unit, rid) == {}  # the account that handled it does not verify it
    assert set(step_forms(dispatcher, rid)) == {"verify"}
    assert step(checker, rid, "verify").status_code == 303
    assert step(checker, rid, "close").status_code == 303
    with psycopg.connect(database_url) as conn:
        history = [r[0] for r in conn.execute(
            "SELECT action FROM report_event WHERE report_id = %s ORDER BY id", [rid])]
        kinds = sorted(r[0] for r in conn.execute(
            "SELECT kind FROM report_photo WHERE report_id = %s", [rid]))
    assert history == ["file", "accept", "dispatch", "return", "overrule", "sign", "handle", "verify",
                       "close"]
    assert kinds == ["after", "before"]
    page = dispatcher.get(f"/reports/{rid}", headers=HTML).text
    assert page.count("<li data-action=") == 9 and report_world.users["checker"] in page


def test_a_step_taken_first_by_another_answers_409_with_the_state_now(as_user, report_world):
    rid = filed_id(file_report(as_user("reporter"), report_world, photo=False))
    dispatcher, checker = as_user("dispatcher"), as_user("checker")
    stale = step_forms(checker, rid)["accept"]["fields"]  # drawn while it was new
    assert step(dispatcher, rid, "accept").status_code == 303
    r = checker.post(f"/reports/{rid}/transitions", headers=HTML, data=stale, follow_redirects=False)
    assert r.status_code == 409
    assert 'id="conflict"' in r.text and 'data-state="accepted"' in r.text
    assert set(Forms(r.text).forms) >= {"step-dispatch"}  # the page as it is now


def test_photos_through_the_report_only(as_user, report_world, database_url):
    rid = filed_id(file_report(as_user("reporter"), report_world))
    with psycopg.connect(database_url) as conn:
        (sha,) = conn.execute("SELECT sha256 FROM report_photo WHERE report_id = %s", [rid]).fetchone()
    page = as_user("unit").get(f"/reports/{rid}", headers=HTML).text
    assert f'src="/reports/{rid}/photos/{sha}/thumbnail"' in page
    for name in ("reporter", "unit", "dispatcher", "viewer"):
        r = as_user(name).get(f"/reports/{rid}/photos/{sha}/thumbnail")
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", name
        assert b"Exif" not in r.content[:200]
    assert as_user("unit").get(f"/reports/{rid}/photos/{sha}").status_code == 200
    assert as_user("other_unit").get(f"/reports/{rid}/photos/{sha}/thumbnail").status_code == 404
    other = filed_id(file_report(as_user("reporter"), report_world, photo=False))
    assert as_user("unit").get(f"/reports/{other}/photos/{sha}/thumbnail").status_code == 404


def test_no_button_or_link_leads_to_a_403(as_user, report_world):
    rid = filed_id(file_report(as_user("reporter"), report_world, photo=False))
    for name in ("reporter", "unit", "other_unit", "dispatcher", "viewer"):
        c = as_user(name)
        home = Forms(c.get("/", headers=HTML).text)
        for href in dict.fromkeys(h for h in home.links if h.startswith("/") and not h.startswith("/static")):
            assert c.get(href, headers=HTML).status_code == 200, (name, href)
    assert step_forms(as_user("viewer"), rid) == {}  # reads, takes no step
    assert as_user("viewer").get("/reports/queue", headers=HTML).status_code == 200
    # an HTML page for refusals and for what is not there
    r = as_user("reporter").get("/reports/queue", headers=HTML)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    r = as_user("other_unit").get(f"/reports/{rid}", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = as_user("unit").post(f"/reports/{rid}/transitions", headers=HTML, follow_redirects=False,
                             data={"csrf_token": csrf(as_user("unit")), "action": "accept"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    # the unit's home page: its queue
    assert 'id="home-queue"' in as_user("unit").get("/", headers=HTML).text
    # in English (every msgid has its English: tests/workbench/test_catalogue.py), then back to Chinese
    english = as_user("unit").get(f"/reports/{rid}?lang=en", headers=HTML).text
    assert "Why it was routed here" in english and "occupying the road to trade" in english
    assert "派单依据" in as_user("unit").get(f"/reports/{rid}?lang=zh", headers=HTML).text
    # the JSON API still answers other clients at the same paths
    r = as_user("unit").get(f"/reports/{rid}")
    assert r.headers["content-type"].startswith("application/json") and r.json()["id"] == rid


def test_a_queue_of_many_reports_is_one_page_and_one_question(as_user, report_world, database_url):
    """500 reports filed in one batch: the dispatcher's queue lists the newest QUEUE_SHOWN open ones,
    each with its steps, the database asked once for the whole list (reports.next_actions)."""
    import time

    from api.workbench.reports_queue import QUEUE_SHOWN
    from gis.reports.file import NewReport, file_reports

    x, y = report_world.near  # noise: a grid matter, no duplicate of the other tests' street vending
    with psycopg.connect(database_url) as c:
        reporter = accounts.user_id(c, report_world.users["reporter"])
        c.execute("SELECT set_config('gridmap.user_id', %s, true)", [str(reporter)])
        file_reports(c, [NewReport("noise", x, y, client_id=uuid.uuid4().hex) for _ in range(500)])
        c.commit()
    dispatcher = as_user("dispatcher")
    dispatcher.get("/reports/queue", headers=HTML)  # warm
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        page = dispatcher.get("/reports/queue?lang=zh", headers=HTML)
        timings.append(time.perf_counter() - started)
    assert page.status_code == 200
    mine = page.text.split('id="queue-others"')[0]
    assert mine.count('class="report-row') == QUEUE_SHOWN, page.text.count('class="report-row')
    assert mine.count("受理、标记为重复、不予受理") == QUEUE_SHOWN
    print(f"\nFIGURES report queue: {QUEUE_SHOWN} of 500+ open reports with their steps, "
          f"GET /reports/queue median {sorted(timings)[1] * 1000:.0f} ms")
