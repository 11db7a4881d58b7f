"""Done when (issue 14): the field-work journeys on a 390×844 phone in headless Chromium with the network
cut, each person in a browser of her own.

A volunteer (reporter account) reports 占道经营 with a photo beside an assigned road section, her
position from the phone (a faked geolocation); the dispatcher accepts and dispatches it; the unit's
account finds it in its queue and returns it, the reason shown with the routing evidence; the
dispatcher overrules; the unit signs and handles it with an after photo; another account verifies and
closes it. And a grid worker checks in at a household with a faked position and a photo, and the
household turns green on the 走访 layer of her grid's map.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

import psycopg
import pytest

from tests.workbench.test_browser import (
    Tab,
    base_url,  # noqa: F401  (the served app)
    pytestmark,  # noqa: F401  (skipped without chromium)
    sign_in,
)
from tests.workbench.test_inspection_pages import jpeg
from tests.workbench.test_report_pages import PASSWORD, report_world  # noqa: F401  (the module's world)
from tests.workbench.test_visit_pages import _away, _unvisited

NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"
WIDE = """Array.from(document.querySelectorAll('main *'))
    .filter(e => e.getBoundingClientRect().right > window.innerWidth)
    .map(e => `${e.tagName}#${e.id}.${e.className} ${e.getBoundingClientRect().right}`)"""


@pytest.fixture
def phone(browser) -> Iterator:
    tabs: list[Tab] = []

    def make() -> Tab:
        tabs.append(Tab(browser, "phone"))
        return tabs[-1]

    yield make
    for t in tabs:
        t.context.close()


def _open(t: Tab, url: str) -> None:
    t.page.goto(url, wait_until="load")
    assert t.js(NO_SIDEWAYS), (url, t.js(WIDE))


def _do(t: Tab, action: str) -> None:
    """Press a step's button on the report page and wait for the page it answers."""
    with t.page.expect_navigation(wait_until="load"):
        t.page.click(f"#do-{action}")
    assert t.page.locator(".error").count() == 0, t.page.inner_text("main")


def test_a_volunteers_report_from_phone_to_closed(phone, base_url, report_world, database_url):  # noqa: F811
    users = report_world.users
    # the volunteer, at the stall: 8 m from the section
    volunteer = phone()
    volunteer.context.grant_permissions(["geolocation"], origin=base_url)
    volunteer.context.set_geolocation({"longitude": report_world.near[0], "latitude": report_world.near[1],
                                       "accuracy": 5})
    sign_in(volunteer, base_url, users["reporter"], PASSWORD)
    volunteer.guide_shot("report-home-reporter-phone", "#reports-home")
    with volunteer.page.expect_navigation(wait_until="load"):
        volunteer.page.click("#reports-home a[href='/reports/new']")
    assert volunteer.js(NO_SIDEWAYS), volunteer.js(WIDE)
    volunteer.page.wait_for_selector("#position-status.located", timeout=20_000)
    assert abs(float(volunteer.page.input_value("#f-lon")) - report_world.near[0]) < 1e-6
    assert volunteer.page.input_value("#f-crs") == "EPSG:4326"
    assert re.fullmatch(r"[0-9a-f-]{36}", volunteer.page.input_value("#f-client_id"))
    assert volunteer.page.locator("path.report-position").count() == 1  # shown on the small map
    volunteer.page.select_option("#f-category", "street_vending")
    volunteer.page.fill("#f-description", "早餐摊占用人行道")
    volunteer.page.set_input_files("#f-photos", files=[{"name": "stall.jpg", "mimeType": "image/jpeg",
                                                        "buffer": jpeg((200, 120, 40))}])
    assert volunteer.js(NO_SIDEWAYS), volunteer.js(WIDE)
    volunteer.guide_shot("report-form-phone")
    with volunteer.page.expect_navigation(wait_until="load"):
        volunteer.page.click("#report-save")
    found = re.fullmatch(r"/reports/(\d+)", urlparse(volunteer.page.url).path)
    assert found, volunteer.page.url
    rid = int(found.group(1))
    assert "文明商户" in volunteer.page.inner_text("#filed")  # the owner it was routed to
    assert volunteer.page.locator("#photos li[data-kind=before] img").count() == 1
    thumbnail = volunteer.page.get_attribute("#photos li[data-kind=before] img", "src")
    got = volunteer.context.request.get(base_url + thumbnail)  # through the report's own photo route
    assert got.status == 200 and got.headers["content-type"] == "image/jpeg"
    volunteer.guide_shot("report-filed-phone")

    # the dispatcher (an admin over the street): new reports at the top of the queue
    dispatcher = phone()
    sign_in(dispatcher, base_url, users["dispatcher"], PASSWORD)
    _open(dispatcher, base_url + "/reports/queue")
    item = f"#queue-mine li[data-report='{rid}']"
    assert dispatcher.page.locator(item).count() == 1
    dispatcher.guide_shot("report-queue-dispatcher-phone")
    with dispatcher.page.expect_navigation(wait_until="load"):
        dispatcher.page.click(f"{item} a")
    _do(dispatcher, "accept")
    _do(dispatcher, "dispatch")

    # the unit: in its queue, returned with a reason; the evidence it returns against is on the page
    unit = phone()
    sign_in(unit, base_url, users["unit"], PASSWORD)
    item = f"#home-queue li[data-report='{rid}']"
    assert unit.page.locator(item).count() == 1
    unit.guide_shot("report-home-unit-phone", "#reports-home")
    with unit.page.expect_navigation(wait_until="load"):
        unit.page.click(f"{item} a")
    assert "文明路" in unit.page.inner_text("#routing-section")
    assert "文明商户" in unit.page.inner_text("#routing-unit")
    assert re.fullmatch(r"\d+\.\d 米", unit.page.inner_text("#routing-distance"))
    assert unit.page.locator("#steps form").count() == 2  # sign, return: nothing that would be refused
    unit.page.select_option("#f-return-reason", "not_our_section")
    unit.page.fill("#f-return-note", "摊位在路口另一侧")
    unit.guide_shot("report-return-phone", "#step-return")
    _do(unit, "return")
    assert unit.page.locator("#history li[data-action=return] [data-reason=not_our_section]").count() == 1

    # the dispatcher sees the reason beside the evidence and overrules
    _open(dispatcher, f"{base_url}/reports/{rid}")
    assert "不在本单位责任路段" in dispatcher.page.inner_text("#history")
    assert "文明路" in dispatcher.page.inner_text("#routing")
    dispatcher.page.fill("#f-overrule-note", "路段确属贵单位，请继续处置")
    dispatcher.guide_shot("report-overrule-phone", "#step-overrule")
    _do(dispatcher, "overrule")

    # the unit signs and handles it with an after photo (required)
    _open(unit, f"{base_url}/reports/{rid}")
    _do(unit, "sign")
    unit.page.set_input_files("#f-handle-photos", files=[{"name": "after.jpg", "mimeType": "image/jpeg",
                                                          "buffer": jpeg((40, 160, 80))}])
    unit.page.fill("#f-handle-note", "已劝离，路面已清理")
    _do(unit, "handle")
    assert unit.page.locator("#photos li[data-kind=after] img").count() == 1
    assert unit.page.locator("#steps").count() == 0  # the account that handled it does not verify

    # another account verifies and closes
    checker = phone()
    sign_in(checker, base_url, users["checker"], PASSWORD)
    _open(checker, f"{base_url}/reports/{rid}")
    _do(checker, "verify")
    _do(checker, "close")
    assert checker.page.get_attribute("#report", "data-state") == "closed"
    actions = checker.js("Array.from(document.querySelectorAll('#history li')).map(l => l.dataset.action)")
    assert actions == ["file", "accept", "dispatch", "return", "overrule", "sign", "handle", "verify",
                       "close"]
    checker.guide_shot("report-closed-phone", "#history")

    # and the volunteer follows it to the end in her own list
    _open(volunteer, base_url + "/reports/mine")
    assert volunteer.page.get_attribute(f"li[data-report='{rid}']", "data-state") == "closed"
    volunteer.guide_shot("report-mine-phone")
    with psycopg.connect(database_url) as conn:
        (reporter,) = conn.execute("SELECT reporter FROM report WHERE id = %s", [rid]).fetchone()
    assert reporter == users["reporter"]
    for t in (volunteer, dispatcher, unit, checker):
        t.clean()


MAP_MARKER = """([hid, map]) => {
    let found = null;
    window[map].eachLayer(l => {
        if (l.options && l.options.householdId === hid && String(l.options.className).includes('visit-hh')) {
            found = l;
        }
    });
    return found && {state: found.options.visitState, cls: found._path.getAttribute('class')};
}"""


def test_a_check_in_turns_the_household_green_on_the_map(phone, base_url, street, password, database_url):  # noqa: F811
    """The grid worker at the door (8 m away, faked geolocation) records a visit with a photo through
    the check-in form; on her grid's map, with the 走访 overlay switched on, the household is 'ok'."""
    household, x, y = _unvisited(database_url, street.grid)
    lon, lat = _away(x, y, 8, azimuth=200)
    t = phone()
    t.context.grant_permissions(["geolocation"], origin=base_url)
    t.context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 6})
    sign_in(t, base_url, street.users["worker"], password)
    _open(t, f"{base_url}/households/{household}/visits/new")
    t.page.wait_for_selector("#position-status.located", timeout=20_000)
    t.page.set_input_files("#f-photos", files=[{"name": "door.jpg", "mimeType": "image/jpeg",
                                                "buffer": jpeg((60, 90, 160))}])
    with t.page.expect_navigation(wait_until="load"):
        t.page.click("#visit-save")
    assert urlparse(t.page.url).path == f"/households/{household}"
    _open(t, f"{base_url}/maps/grids/{street.grid}")
    t.page.wait_for_selector(".hh, .marker-cluster", timeout=15_000)
    map_id = t.js("document.querySelector('.folium-map').id")
    assert t.page.evaluate(MAP_MARKER, [household, map_id]) is None  # the overlay is off when it opens
    t.page.locator(".leaflet-control-layers-overlays label", has_text="走访").locator("input").check()
    marker = t.page.evaluate(MAP_MARKER, [household, map_id])
    assert marker is not None and marker["state"] == "ok" and "visit-ok" in marker["cls"]
    with psycopg.connect(database_url) as conn:
        (n,) = conn.execute("SELECT count(*) FROM visit_photo p JOIN visit v ON v.id = p.visit_id"
                            " WHERE v.household_id = %s", [household]).fetchone()
    assert n == 1
    t.clean()
