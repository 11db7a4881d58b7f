"""The workbench forms of duties (值守) and 门前三包 (issue 16): the duty form (422 beside the field with the
value kept, a GCJ-02 post converted), a duty's page (recurrence in words, the next days, records with
photos, the days missed), the missed list per unit, the agreements with their last check and the check
form with photos; photos served only to those who read the record (another unit: 404)."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from gis.access import accounts
from gis.duties.duties import today
from tests.workbench.conftest import PASSWORD

HTML = {"Accept": "text/html,application/xhtml+xml"}
WORDS = ["一", "二", "三", "四", "五", "六", "日"]


@dataclass(frozen=True)
class Campaign:
    tag: str
    units: dict[str, int]  # "a", "b" -> unit id
    unit_names: dict[str, str]
    section: int
    users: dict[str, str]  # "unit_a", "unit_b" -> username (role unit, linked to its unit)
    compound: int  # helped by unit a from 30 days back
    free_compound: int  # no helper
    x0: float
    y0: float


def make_campaign(database_url: str, street) -> Campaign:
    """Two units, a road section, an account of each unit, a compound helped by unit a and one not."""
    tag = uuid.uuid4().hex[:6]
    x0, y0 = 113.6 + int(tag[:2], 16) * 0.001, 22.6
    with psycopg.connect(database_url) as conn:
        one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
        names = {k: f"{tag} 单位{k.upper()}" for k in ("a", "b")}
        units = {
            k: one("INSERT INTO responsible_unit (name) VALUES (%s) RETURNING id", [n])
            for k, n in names.items()
        }
        line = f"SRID=4326;LINESTRING({x0} {y0},{x0 + 0.004} {y0})"
        road = one(
            "INSERT INTO road (ref, name, geom) VALUES (%s, '人民路', %s) RETURNING id", [f"{tag}-road", line]
        )
        section = one(
            "INSERT INTO road_section (road_id, code, road_name, length_m, geom)"
            " VALUES (%s, %s, '人民路', ST_Length(%s::geography), %s) RETURNING id",
            [road, f"{tag}-road-001", line, line],
        )
        users = {}
        for k in ("a", "b"):
            username = f"wb-{tag}-unit-{k}"
            accounts.create_user(conn, username, PASSWORD)
            accounts.grant(conn, username, "unit", street.street)
            conn.execute(
                "INSERT INTO unit_account (user_id, unit_id) VALUES (%s, %s)",
                [accounts.user_id(conn, username), units[k]],
            )
            users[f"unit_{k}"] = username
        square = "ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
        compound = one(
            f"INSERT INTO compound (ref, name, geom) VALUES (%s, '幸福里', {square}) RETURNING id",
            [f"{tag}-k1", x0, y0 + 0.001, x0 + 0.001, y0 + 0.002],
        )
        free = one(
            f"INSERT INTO compound (ref, name, geom) VALUES (%s, '光明院', {square}) RETURNING id",
            [f"{tag}-k2", x0 + 0.002, y0 + 0.001, x0 + 0.003, y0 + 0.002],
        )
        conn.execute(
            "INSERT INTO compound_helper (compound_id, unit_id, valid)"
            " VALUES (%s, %s, daterange(current_date - 30, NULL))",
            [compound, units["a"]],
        )
        conn.commit()
    return Campaign(tag, units, names, section, users, compound, free, x0, y0)


def client(app, username: str) -> TestClient:
    c = TestClient(app, base_url="http://127.0.0.1")
    c.__enter__()
    r = c.post(
        "/login", data={"username": username, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return c


@pytest.fixture(scope="module")
def campaign(database_url: str, street) -> Campaign:
    return make_campaign(database_url, street)


@pytest.fixture(scope="module")
def as_user(app, street, campaign) -> Iterator:
    """``as_user("planner")`` (the street's users) or ``as_user("unit_a")`` (an account of unit a)."""
    clients: dict[str, TestClient] = {}

    def make(name: str) -> TestClient:
        if name not in clients:
            clients[name] = client(app, campaign.users.get(name) or street.users[name])
        return clients[name]

    yield make
    for c in clients.values():
        c.__exit__(None, None, None)


def csrf(c: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path, headers=HTML).text)
    assert found
    return found.group(1)


def jpeg(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def error_beside(html: str, field: str) -> str:
    """The error shown beside ``field`` (its span follows the input in the same .field)."""
    found = re.search(rf'<span class="error" id="e-{field}">([^<]*)</span>', html)
    assert found, f"no error beside {field}"
    return found.group(1)


def new_duty(c: TestClient, campaign: Campaign, **fields: str):
    data = {
        "csrf_token": csrf(c, "/duties/new"),
        "name": "每周路段值守",
        "unit_id": str(campaign.units["a"]),
        "recurrence": "weekly",
        "weekday": "5",
        "month_day": "",
        "section_id": str(campaign.section),
        "lon": "",
        "lat": "",
        "crs": "EPSG:4326",
        "post_name": "",
        "valid_from": (today() - timedelta(days=35)).isoformat(),
        "valid_to": "",
        "note": "",
        **fields,
    }
    return c.post("/duties", data=data, headers=HTML, follow_redirects=False)


def duty_id(r) -> int:
    assert r.status_code == 303, r.text[:2000]
    found = re.match(r"/duties/(\d+)", r.headers["location"])
    assert found
    return int(found.group(1))


def test_the_duty_form_defines_a_duty_and_its_page_says_it_in_words(as_user, campaign):
    c = as_user("planner")
    form = c.get("/duties/new", headers=HTML)
    assert form.status_code == 200
    for name in (
        "name",
        "unit_id",
        "recurrence",
        "weekday",
        "month_day",
        "section_id",
        "lon",
        "lat",
        "post_name",
        "valid_from",
        "valid_to",
        "csrf_token",
    ):
        assert f'name="{name}"' in form.text
    assert 'id="duty-map"' in form.text and 'nonce="' in form.text
    weekly = duty_id(new_duty(c, campaign, weekday=str((today() - timedelta(days=7)).isoweekday())))
    page = c.get(f"/duties/{weekly}", headers=HTML)
    assert page.status_code == 200
    assert f"每周{WORDS[(today() - timedelta(days=7)).isoweekday() - 1]}" in page.text
    upcoming = re.findall(r'<li data-day="([0-9-]+)">', page.text)
    assert len(upcoming) == 5 and all(d >= today().isoformat() for d in upcoming)
    # the JSON API answers the same path for everyone else
    assert c.get(f"/duties/{weekly}").json()["weekday"] == (today() - timedelta(days=7)).isoweekday()
    monthly = duty_id(
        new_duty(
            c,
            campaign,
            name="每月15日交通红绿灯文明劝导",
            recurrence="monthly",
            weekday="5",
            month_day="15",
            section_id="",
            lon="113.60",
            lat="22.60",
            crs="GCJ-02",
            post_name="人民路口",
        )
    )
    page = c.get(f"/duties/{monthly}", headers=HTML)
    assert "每月15日" in page.text and "人民路口" in page.text
    days = re.findall(r'<li data-day="([0-9-]+)">', page.text)
    assert days and all(d.endswith("-15") for d in days)
    stored = c.get(f"/duties/{monthly}").json()
    # a GCJ-02 position is converted to WGS 84 on the way in (a few hundred metres in Guangdong)
    assert stored["weekday"] is None and 0.001 < abs(stored["lon"] - 113.60) < 0.01
    english = c.get(f"/duties/{monthly}?lang=en", headers=HTML)
    assert "Monthly on day 15" in english.text


def test_a_refused_duty_is_shown_beside_its_field_with_the_values_kept(as_user, campaign):
    c = as_user("planner")
    r = new_duty(c, campaign, name="保留的名称", recurrence="monthly", month_day="")
    assert r.status_code == 422
    assert error_beside(r.text, "month_day") == "a monthly duty needs a day of the month 1 to 31"
    assert 'value="保留的名称"' in r.text
    r = new_duty(c, campaign, section_id="", lon="500", lat="22.6")
    assert r.status_code == 422 and "longitude" in error_beside(r.text, "lon") and 'value="500"' in r.text
    r = new_duty(c, campaign, valid_from="2026-13-01")
    assert r.status_code == 422 and error_beside(r.text, "valid_from")
    r = new_duty(c, campaign, section_id="", lon="", lat="")
    assert r.status_code == 422 and "not both" in error_beside(r.text, "section_id")


def test_records_with_photos_and_the_missed_days_per_unit(as_user, campaign, database_url):
    planner, unit_a, unit_b = as_user("planner"), as_user("unit_a"), as_user("unit_b")
    day = today() - timedelta(days=7)
    duty = duty_id(new_duty(planner, campaign, name="记录测试", weekday=str(day.isoweekday())))
    # unit a records last week's day from the roster's form, with a photo
    r = unit_a.post(
        f"/duties/{duty}/records",
        headers=HTML,
        follow_redirects=False,
        data={
            "csrf_token": csrf(unit_a, "/duties/roster"),
            "duty_day": day.isoformat(),
            "status": "done",
            "note": "到岗",
        },
        files={"photos": ("p.jpg", jpeg(), "image/jpeg")},
    )
    assert r.status_code == 303, r.text[:500]
    page = unit_a.get(f"/duties/{duty}", headers=HTML)
    assert page.status_code == 200 and f'data-day="{day.isoformat()}"' in page.text
    photo = re.search(r'<a href="(/duty-records/\d+/photos/[0-9a-f]{64})"><img src="([^"]+)"', page.text)
    assert photo, page.text
    for c in (unit_a, planner, as_user("viewer")):
        got = c.get(photo.group(2))
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert unit_a.get(photo.group(1)).content[:2] == b"\xff\xd8"
    assert unit_b.get(photo.group(1)).status_code == 404  # another unit's record
    assert unit_b.get(f"/duties/{duty}", headers=HTML).status_code == 404
    assert as_user("worker").get(photo.group(1)).status_code == 403
    # the earlier rostered days, not recorded, are missed: on the duty's page and the unit's list
    missed = [d.isoformat() for d in (day - timedelta(days=7), day - timedelta(days=14))]
    assert all(f'class="state-missed" data-day="{d}"' in page.text for d in missed)
    listed = unit_a.get("/duties/missed", headers=HTML)
    assert all(f'data-duty="{duty}" data-day="{d}"' in listed.text for d in missed)
    assert f'data-duty="{duty}" data-day="{day.isoformat()}"' not in listed.text  # recorded as done
    assert f'data-duty="{duty}"' in planner.get("/duties/missed", headers=HTML).text
    assert f'data-duty="{duty}"' not in unit_b.get("/duties/missed", headers=HTML).text
    # a second record of the day: 409, beside the day on the roster
    again = unit_a.post(
        f"/duties/{duty}/records",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": csrf(unit_a, "/duties/roster"), "duty_day": day.isoformat(), "status": "done"},
    )
    assert again.status_code == 409


def test_who_finds_which_duty_page(as_user):
    unit, planner = as_user("unit_a"), as_user("planner")
    assert unit.get("/duties/new", headers=HTML).status_code == 403
    home = unit.get("/", headers=HTML).text
    assert 'href="/duties/missed"' in home and 'href="/duties/new"' not in home
    assert 'href="/frontage/agreements"' in home and 'href="/compounds"' in home
    home = planner.get("/", headers=HTML).text
    assert all(
        f'href="{p}"' in home
        for p in (
            "/duties/new",
            "/duties/missed",
            "/frontage/agreements",
            "/compounds/new",
            "/compounds/overlaps",
        )
    )
    assert 'href="/duties/new"' not in as_user("inspector").get("/", headers=HTML).text


def new_agreement(c: TestClient, **fields: str):
    data = {
        "csrf_token": csrf(c, "/frontage/agreements"),
        "place_id": "",
        "shop_name": "老王面馆",
        "lon": "113.61",
        "lat": "22.61",
        "unit_id": "",
        "owner": "王老板",
        "valid_from": (today() - timedelta(days=10)).isoformat(),
        "valid_to": "",
        "note": "",
        **fields,
    }
    return c.post("/frontage/agreements", data=data, headers=HTML, follow_redirects=False)


def test_frontage_agreements_and_checks_with_photos(as_user, campaign):
    planner, inspector = as_user("planner"), as_user("inspector")
    r = new_agreement(planner, shop_name="", owner="")
    assert r.status_code == 422
    assert error_beside(r.text, "shop_name") and error_beside(r.text, "owner")
    assert 'value="113.61"' in r.text
    r = new_agreement(planner, shop_name=f"{campaign.tag} 面馆", unit_id=str(campaign.units["a"]))
    assert r.status_code == 303
    agreement = int(r.headers["location"].rsplit("/", 1)[1])
    page = inspector.get(f"/frontage/agreements/{agreement}", headers=HTML)
    assert page.status_code == 200 and 'capture="environment"' in page.text
    assert 'accept="image/*"' in page.text and "multiple" in page.text
    token = csrf(inspector, f"/frontage/agreements/{agreement}")
    bad = inspector.post(
        f"/frontage/agreements/{agreement}/checks",
        headers=HTML,
        data={"csrf_token": token, "checked_on": "2199-01-01", "result": "fail", "note": "n"},
    )
    assert bad.status_code == 422 and "lies ahead" in error_beside(bad.text, "checked_on")
    assert 'value="2199-01-01"' in bad.text
    r = inspector.post(
        f"/frontage/agreements/{agreement}/checks",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": token, "checked_on": today().isoformat(), "result": "fail", "note": "占道经营"},
        files=[
            ("photos", ("a.jpg", jpeg("blue"), "image/jpeg")),
            ("photos", ("b.jpg", jpeg("green"), "image/jpeg")),
        ],
    )
    assert r.status_code == 303, r.text[:500]
    page = inspector.get(f"/frontage/agreements/{agreement}", headers=HTML).text
    photos = re.findall(r'<a href="(/frontage-checks/\d+/photos/[0-9a-f]{64})">', page)
    assert len(photos) == 2 and "占道经营" in page
    failing = planner.get("/frontage/agreements?failing=true", headers=HTML).text
    assert f'data-agreement="{agreement}" data-last="fail"' in failing
    assert inspector.get(photos[0]).status_code == 200
    assert as_user("unit_a").get(photos[0]).status_code == 200  # its unit's agreement
    assert as_user("unit_b").get(photos[0]).status_code == 404
    assert as_user("unit_b").get(f"/frontage/agreements/{agreement}", headers=HTML).status_code == 404
    # unit accounts read, but the check form is not theirs
    assert (
        'class="edit check-form"'
        not in as_user("unit_a").get(f"/frontage/agreements/{agreement}", headers=HTML).text
    )


@pytest.fixture(scope="module")
def base_url(app, street, serve_app) -> Iterator[str]:
    with serve_app(app) as url:
        yield url


def test_a_planner_taps_a_crossing_on_a_phone(browser, base_url, street, campaign, password):
    """The duty form at 390×844 with the network cut: a tap on the map fills the post's position."""
    from tests.workbench.test_browser import Tab, sign_in

    t = Tab(browser, "phone")
    try:
        sign_in(t, base_url, street.users["planner"], password)
        t.page.goto(f"{base_url}/duties/new", wait_until="load")
        assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        t.page.fill("#f-name", "每周五路口劝导")
        t.page.select_option("#f-unit_id", str(campaign.units["a"]))
        t.page.locator("#duty-map").scroll_into_view_if_needed()
        t.page.locator("#duty-map").click(position={"x": 120, "y": 90})
        assert t.page.input_value("#f-lon") and t.page.input_value("#f-lat")
        assert t.page.input_value("#f-section_id") == "" and t.page.input_value("#f-crs") == "EPSG:4326"
        t.page.fill("#f-post_name", "人民路口")
        t.page.click("button[type=submit].primary")
        t.page.wait_for_url(re.compile(r".*/duties/\d+\?created=1"), timeout=60_000)
        assert t.page.locator(".recurrence").text_content() == "每周五"
        assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        t.shot("duty-form-phone")
        t.clean()
    finally:
        t.context.close()
