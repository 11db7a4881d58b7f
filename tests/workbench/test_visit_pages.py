"""The visit pages (走访): the check-in form through the login cookie and CSRF token as a browser sends
it, the visits on the household page with the far warning, the overdue households on the grid worker's
home page, the overdue list and the figures as pages; and her journey on a phone in headless Chromium
with the browser's position a few metres from the door.

Positions are placed with pyproj's geodesic (Geod.fwd), not with the code under test; what was stored
is read back as the owner with SQL of the test's own, and the overdue count is counted independently
from the visit policy as the domain states it.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlparse

import psycopg
import pytest
from pyproj import Geod

from gis.visits.overdue import overdue
from tests.workbench.test_browser import Tab, sign_in
from tests.workbench.test_inspection_pages import Forms, jpeg

HTML = {"Accept": "text/html"}
GEOD = Geod(ellps="WGS84")
FAR_M = 100  # GRIDMAP_VISIT_FAR_M's default
# The visit policy as the domain states it (days): every household yearly, the elderly living alone
# weekly, poor households monthly, key persons monthly (two categories fortnightly).
INTERVAL = {"household": 365, "elderly_alone": 7, "poverty": 30, "key_person": 30,
            "severe_mental_disorder": 14, "community_correction": 14}


def _unvisited(database_url: str, grid: str) -> tuple[int, float, float]:
    """A household of the grid nobody has visited yet (tests share the street): id, lon, lat."""
    with psycopg.connect(database_url) as c:
        row = c.execute("SELECT h.id, ST_X(h.geom), ST_Y(h.geom) FROM household h WHERE h.grid_code = %s"
                        " AND NOT EXISTS (SELECT 1 FROM visit v WHERE v.household_id = h.id)"
                        " ORDER BY random() LIMIT 1", [grid]).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def _away(lon: float, lat: float, metres: float, azimuth: float = 60.0) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return x, y


def _stored(database_url: str, household_id: int) -> list[tuple]:
    with psycopg.connect(database_url) as c:
        return c.execute("SELECT v.visitor, ST_X(v.position), ST_Y(v.position), v.distance_m, v.far,"
                         " v.client_id, v.kind, v.outcome, v.note,"
                         " (SELECT count(*) FROM visit_photo p WHERE p.visit_id = v.id)"
                         " FROM visit v WHERE v.household_id = %s ORDER BY v.id", [household_id]).fetchall()


def _form(c, household_id: int) -> dict:
    r = c.get(f"/households/{household_id}/visits/new", headers=HTML)
    assert r.status_code == 200, r.text
    return Forms(r.text).action(f"/households/{household_id}/visits")


def _post(c, household_id: int, form: dict, lon: float, lat: float, client_id: str, **extra):
    data = {"csrf_token": form["fields"]["csrf_token"]["value"], "kind": "routine", "outcome": "met",
            "note": "入户见面，情况正常", "lon": f"{lon:.8f}", "lat": f"{lat:.8f}", "accuracy_m": "6",
            "crs": "EPSG:4326", "client_id": client_id, **extra}
    return c.post(f"/households/{household_id}/visits", headers=HTML, data=data,
                  files=[("photos", ("door.jpg", jpeg(), "image/jpeg"))], follow_redirects=False)


def test_check_in_stores_one_visit_by_the_signed_in_worker(signed_in, street, database_url):
    c = signed_in("worker")
    household, x, y = _unvisited(database_url, street.grid)
    form = _form(c, household)
    assert form["enctype"] == "multipart/form-data"
    assert set(form["fields"]) == {"csrf_token", "client_id", "crs", "accuracy_m", "lon", "lat", "kind",
                                   "outcome", "note", "photos"}
    photos = form["fields"]["photos"]
    assert (photos["accept"], photos["capture"], "multiple" in photos) == ("image/*", "environment", True)
    page = c.get(f"/households/{household}/visits/new", headers=HTML).text
    assert "日常走访" in page and "见面" in page and "visit.js" in page  # the vocabulary's Chinese names
    lon, lat = _away(x, y, 20)
    client_id = str(uuid.uuid4())
    # a visitor named by the form is not the visitor: the signed-in user is
    r = _post(c, household, form, lon, lat, client_id, visitor="someone-else")
    assert r.status_code == 303 and r.headers["location"] == f"/households/{household}#visits"
    stored = _stored(database_url, household)
    assert len(stored) == 1
    visitor, sx, sy, distance, far, cid, kind, outcome, note, n_photos = stored[0]
    assert visitor == street.users["worker"] and cid == client_id
    assert (kind, outcome, note, n_photos, far) == ("routine", "met", "入户见面，情况正常", 1, False)
    assert abs(sx - lon) < 1e-7 and abs(sy - lat) < 1e-7
    assert distance == pytest.approx(20, abs=0.5)
    # a retry of the same form (a double tap, a resend on a weak signal): the same visit, none more
    again = _post(c, household, form, lon, lat, client_id)
    assert again.status_code == 303 and again.headers["location"] == f"/households/{household}#visits"
    assert len(_stored(database_url, household)) == 1
    shown = c.get(f"/households/{household}", headers=HTML).text
    assert shown.count("data-visit=") == 1 and "超出" not in shown
    assert f'href="/households/{household}/visits/new"' in shown  # 走访登记 on the household page


def test_the_api_still_answers_other_clients_at_the_same_path(signed_in, street, database_url):
    """The form posts where the API does: a post that is not a browser's page request gets the JSON."""
    c = signed_in("worker")
    household, x, y = _unvisited(database_url, street.grid)
    token = _form(c, household)["fields"]["csrf_token"]["value"]
    api = {"Accept": "application/json", "X-CSRF-Token": token}  # the API's way for a cookie client
    r = c.post(f"/households/{household}/visits", headers=api,
               data={"kind": "routine", "outcome": "met", "lon": str(x), "lat": str(y)},
               files=[("photos", ("door.jpg", jpeg(), "image/jpeg"))])
    assert r.status_code == 201, r.text
    assert r.json()["visitor"] == street.users["worker"]
    assert len(r.json()["photos"]) == 1 and len(_stored(database_url, household)) == 1


def test_far_check_in_is_flagged_on_the_household_page(signed_in, street, database_url):
    c = signed_in("worker")
    household, x, y = _unvisited(database_url, street.grid)
    lon, lat = _away(x, y, 250, azimuth=200)
    r = _post(c, household, _form(c, household), lon, lat, str(uuid.uuid4()))
    assert r.status_code == 303
    (stored,) = _stored(database_url, household)
    assert stored[4] is True and stored[3] == pytest.approx(250, abs=1)
    shown = c.get(f"/households/{household}", headers=HTML).text
    item = re.search(r'<li data-visit="\d+" class="far">(.*?)</li>', shown, re.S)
    assert item is not None and f"超出 {FAR_M} 米" in item.group(1) and "距离 250 米" in item.group(1)


def test_bad_input_is_shown_beside_the_field(signed_in, street, database_url):
    c = signed_in("worker")
    household, x, y = _unvisited(database_url, street.grid)
    form = _form(c, household)
    token = form["fields"]["csrf_token"]["value"]
    r = c.post(f"/households/{household}/visits", headers=HTML,
               data={"csrf_token": token, "kind": "routine", "outcome": "met", "client_id": "a" * 12})
    assert r.status_code == 422 and 'id="e-lon"' in r.text and 'id="e-lat"' in r.text
    r = c.post(f"/households/{household}/visits", headers=HTML,
               data={"csrf_token": token, "kind": "bogus", "outcome": "met", "lon": str(x), "lat": str(y),
                     "client_id": "b" * 12})
    assert r.status_code == 422 and 'id="e-kind"' in r.text and "unknown kind" in r.text
    r = c.post(f"/households/{household}/visits", headers=HTML,
               data={"kind": "routine", "outcome": "met", "lon": str(x), "lat": str(y)})
    assert r.status_code == 401  # no CSRF token: the cookie does not sign the post in
    assert _stored(database_url, household) == []


def test_other_grids_are_not_found_and_viewers_refused(signed_in, street, database_url):
    with psycopg.connect(database_url) as conn:
        (other,) = conn.execute("SELECT id FROM household WHERE grid_code <> %s ORDER BY id LIMIT 1",
                                [street.grid]).fetchone()
    worker = signed_in("worker")
    assert worker.get(f"/households/{other}/visits/new", headers=HTML).status_code == 404
    token = Forms(worker.get("/", headers=HTML).text).action("/logout")["fields"]["csrf_token"]["value"]
    r = worker.post(f"/households/{other}/visits", headers=HTML,
                    data={"csrf_token": token, "kind": "routine", "outcome": "met", "lon": "120", "lat": "30",
                          "client_id": str(uuid.uuid4())})
    assert r.status_code == 404
    viewer = signed_in("viewer")
    mine, _, _ = _unvisited(database_url, street.grid)
    assert viewer.get(f"/households/{mine}/visits/new", headers=HTML).status_code == 403
    token = Forms(viewer.get("/", headers=HTML).text).action("/logout")["fields"]["csrf_token"]["value"]
    assert viewer.post(f"/households/{mine}/visits", headers=HTML,
                       data={"csrf_token": token, "kind": "routine", "outcome": "met"}).status_code == 403
    assert "/visits/new" not in viewer.get("/", headers=HTML).text


_INDEPENDENT_OVERDUE = """
WITH member_interval AS (
    SELECT p.household_id,
           min(CASE WHEN k.category IN ('severe_mental_disorder', 'community_correction')
                    THEN %(severe)s WHEN k.category IS NOT NULL THEN %(key)s END) AS key_days,
           bool_or(p.elderly_alone) AS alone, bool_or(p.poverty IS NOT NULL) AS poor
    FROM person p LEFT JOIN key_person k ON k.person_id = p.id GROUP BY p.household_id
), interval AS (
    SELECT h.id, LEAST(%(household)s, coalesce(m.key_days, %(household)s),
                       CASE WHEN m.alone THEN %(alone)s ELSE %(household)s END,
                       CASE WHEN m.poor THEN %(poor)s ELSE %(household)s END) AS days
    FROM household h LEFT JOIN member_interval m ON m.household_id = h.id WHERE h.grid_code = %(grid)s
), last_day AS (
    SELECT household_id, max((visited_at AT TIME ZONE 'Asia/Shanghai')::date) AS day FROM visit
    WHERE outcome IN ('met', 'refused', 'moved_out') GROUP BY household_id
)
SELECT count(*) FROM interval i LEFT JOIN last_day l ON l.household_id = i.id
WHERE l.day IS NULL OR (now() AT TIME ZONE 'Asia/Shanghai')::date - l.day > i.days"""


def _home_overdue(c, grid: str) -> tuple[int, list[int]]:
    home = c.get("/", headers=HTML).text
    block = re.search(rf'data-grid="{grid}".*?data-overdue="{grid}"(.*?)</details>', home, re.S)
    assert block is not None
    total = int(re.search(r'data-total="(\d+)"', block.group(1)).group(1))
    return total, [int(i) for i in re.findall(r'<li data-household="(\d+)"', block.group(1))]


def test_home_overdue_list_is_gis_list(signed_in, street, database_url):
    c = signed_in("worker")
    total, shown = _home_overdue(c, street.grid)
    with psycopg.connect(database_url) as conn:
        listed = overdue(conn, grid=street.grid)
        (counted,) = conn.execute(_INDEPENDENT_OVERDUE, {
            "grid": street.grid, "household": INTERVAL["household"], "alone": INTERVAL["elderly_alone"],
            "poor": INTERVAL["poverty"], "key": INTERVAL["key_person"],
            "severe": INTERVAL["severe_mental_disorder"]}).fetchone()
    assert total == len(listed) == counted > 0
    assert shown == [r["household_id"] for r in listed[:20]]
    # 查看全部 opens the whole list, as a page whose rows are gis' list
    page = c.get(f"/visits/overdue?grid={street.grid}", headers=HTML)
    assert page.status_code == 200
    rows = [int(i) for i in re.findall(r'<tr data-household="(\d+)"', page.text)]
    assert rows == [r["household_id"] for r in listed]
    assert f'href="/visits/overdue.xlsx?grid={street.grid}"' in page.text
    xlsx = c.get(f"/visits/overdue.xlsx?grid={street.grid}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_figures_drill_down_to_lists_that_sum_to_them(signed_in, street, database_url):
    worker = signed_in("worker")
    household, x, y = _unvisited(database_url, street.grid)  # a visit of the period, of its own
    assert _post(worker, household, _form(worker, household), x, y, str(uuid.uuid4())).status_code == 303
    c = signed_in("admin")
    page = c.get(f"/visits/figures?community={street.community}", headers=HTML)
    assert page.status_code == 200
    rows = re.findall(r'<tr data-grid="(\d+)">.*?<td class="visits"><a href="([^"]+)">(\d+)</a>.*?'
                      r'<td class="overdue"><a href="([^"]+)">(\d+)</a>', page.text, re.S)
    assert rows and any(int(v) > 0 for _, _, v, _, _ in rows)
    for grid, visits_href, visits, overdue_href, overdue_n in rows:
        assert f"grid={grid}" in visits_href and f"grid={grid}" in overdue_href
        listed = c.get(visits_href.replace("&amp;", "&"), headers=HTML).text
        assert int(re.search(r'class="total" data-total="(\d+)"', listed).group(1)) == int(visits)
        listed = c.get(overdue_href.replace("&amp;", "&"), headers=HTML).text
        assert len(re.findall(r"<tr data-household=", listed)) == int(overdue_n)
    mine = worker.get("/visits/figures", headers=HTML)
    assert mine.status_code == 200 and set(re.findall(r'<tr data-grid="(\d+)"', mine.text)) == {street.grid}


@pytest.fixture
def phone(browser):
    tabs: list[Tab] = []

    def make() -> Tab:
        tabs.append(Tab(browser, "phone"))
        return tabs[-1]

    yield make
    for t in tabs:
        t.context.close()


@pytest.fixture(scope="module")
def base_url(app, street, serve_app):
    with serve_app(app) as url:
        yield url


def test_grid_worker_checks_in_on_her_phone(phone, base_url, street, password, database_url):
    """On a 390×844 phone with the network cut and the phone's position 8 m from the door: from her
    home page's overdue list to the household, 走访登记 with a photo, saved; the visit shows on the
    household page and the household has left her overdue list."""
    with psycopg.connect(database_url) as conn:
        listed = overdue(conn, grid=street.grid)
    household = next(r["household_id"] for r in listed[:20] if r["days_since"] is None)
    with psycopg.connect(database_url) as conn:
        x, y = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM household WHERE id = %s",
                            [household]).fetchone()
    lon, lat = _away(x, y, 8, azimuth=130)
    t = phone()
    t.context.grant_permissions(["geolocation"], origin=base_url)
    t.context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 6})
    sign_in(t, base_url, street.users["worker"], password)
    item = f".visits-overdue li[data-household='{household}']"
    assert t.page.locator(item).count() == 1
    t.page.locator(item).scroll_into_view_if_needed()
    t.shot("visit-home-overdue-phone")
    with t.page.expect_navigation(wait_until="load"):
        t.page.click(f"{item} a[href='/households/{household}']")
    with t.page.expect_navigation(wait_until="load"):
        t.page.click(f"#visits a[href='/households/{household}/visits/new']")
    t.page.wait_for_selector("#position-status.located", timeout=20_000)
    assert abs(float(t.page.input_value("#f-lon")) - lon) < 1e-6
    assert t.page.input_value("#f-accuracy_m") == "6"
    assert re.fullmatch(r"[0-9a-f-]{36}", t.page.input_value("#f-client_id"))
    assert t.js("document.getElementById('position-manual').hidden")
    t.page.select_option("#f-kind", "elderly_care")
    t.page.fill("#f-note", "老人在家，身体良好")
    t.page.set_input_files("#f-photos", files=[{"name": "door.jpg", "mimeType": "image/jpeg",
                                                "buffer": jpeg((40, 120, 60))}])
    assert t.js("document.documentElement.scrollWidth <= window.innerWidth")
    t.shot("visit-form-phone")
    with t.page.expect_navigation(wait_until="load"):
        t.page.click("#visit-save")
    assert urlparse(t.page.url).path == f"/households/{household}"
    t.page.wait_for_selector("#visits li[data-visit]")
    assert "超出" not in t.page.inner_text("#visits")
    t.shot("visit-household-phone")
    stored = _stored(database_url, household)
    assert len(stored) == 1 and stored[0][0] == street.users["worker"] and stored[0][6] == "elderly_care"
    assert stored[0][3] == pytest.approx(8, abs=0.5) and stored[0][9] == 1
    t.page.goto(base_url + "/", wait_until="load")
    assert t.page.locator(item).count() == 0
    assert t.js("document.documentElement.scrollWidth <= window.innerWidth")
    t.clean()


def test_position_typed_by_hand_when_the_phone_refuses(phone, base_url, street, password, database_url):
    """Location not allowed: the form says so, shows the lon/lat fields, and a typed position is saved."""
    household, x, y = _unvisited(database_url, street.grid)
    t = phone()  # no geolocation permission granted
    sign_in(t, base_url, street.users["worker"], password)
    t.page.goto(f"{base_url}/households/{household}/visits/new", wait_until="load")
    t.page.wait_for_selector("#position-status.failed", timeout=20_000)
    assert not t.js("document.getElementById('position-manual').hidden")
    lon, lat = _away(x, y, 30)
    t.page.fill("#f-lon", f"{lon:.7f}")
    t.page.fill("#f-lat", f"{lat:.7f}")
    t.shot("visit-form-manual-phone")
    with t.page.expect_navigation(wait_until="load"):
        t.page.click("#visit-save")
    assert urlparse(t.page.url).path == f"/households/{household}"
    (stored,) = _stored(database_url, household)
    assert stored[3] == pytest.approx(30, abs=0.5)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT accuracy_m FROM visit WHERE household_id = %s",
                            [household]).fetchone() == (None,)
    t.clean()
