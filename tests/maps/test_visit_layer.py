"""The 走访 layer of the grid and community maps (issue 14): households coloured by the days since their
last visit that counts against their policy interval, overdue key persons ringed, today's route.

Visits are posted through the API as the grid worker of the west grid (001 of tests/maps/conftest.py),
some dated back; expectations are computed here in Python from rows read as the owner (no row-level
security, none of the layer's SQL), and compared with the data embedded in the served page.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import psycopg
import pytest

from gis.access import accounts
from layers.styles import VISIT_ROUTE_COLOUR, VISIT_STYLES
from tests.conftest import CHROMIUM
from tests.maps.conftest import REF

CHINA = ZoneInfo("Asia/Shanghai")
STATES = ("ok", "due", "overdue", "never")
needs_chromium = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium not installed")


def china_today() -> date:
    return datetime.now(CHINA).date()


@pytest.fixture(scope="module")
def world(database_url: str, settings, map_fixture) -> dict[str, Any]:
    """The worker of grid 001 and the community's admin (bearer tokens), and the fixture's households by
    lattice number."""
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(database_url) as conn:
        tokens = {}
        for name, role, scope in (("worker", "grid_worker", map_fixture.grids[0]),
                                  ("admin", "admin", map_fixture.community)):
            username, password = f"vl-{tag}-{name}", uuid.uuid4().hex
            accounts.create_user(conn, username, password)
            accounts.grant(conn, username, role, scope)
            tokens[name], _ = accounts.issue_token(conn, username, password, settings.secret_key,
                                                   timedelta(hours=1))
        rows = conn.execute("SELECT substr(ref, %s)::int, id, ST_X(geom), ST_Y(geom), grid_code"
                            " FROM household WHERE ref ~ %s", [len(REF) + 1, f"^{REF}[0-9]+$"]).fetchall()
        conn.commit()
    households = {i: {"id": hid, "lon": lon, "lat": lat, "grid": grid} for i, hid, lon, lat, grid in rows}
    return {"tokens": tokens, "households": households, "grid": map_fixture.grids[0],
            "community": map_fixture.community, "tag": tag}


@pytest.fixture(scope="module")
def api(settings) -> Iterator:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


def bearer(world: dict[str, Any], who: str = "worker") -> dict[str, str]:
    return {"Authorization": f"Bearer {world['tokens'][who]}"}


def post_visit(api, world: dict[str, Any], i: int, outcome: str = "met", at: datetime | None = None,
               kind: str = "routine") -> dict[str, Any]:
    """A check-in at household ``i`` from ~3 m east of it, as the grid worker."""
    h = world["households"][i]
    body = {"lon": h["lon"] + 0.00003, "lat": h["lat"], "kind": kind, "outcome": outcome,
            "client_id": f"vl-{world['tag']}-{uuid.uuid4().hex[:12]}"}
    if at is not None:
        body["visited_at"] = at.isoformat()
    response = api.post(f"/households/{h['id']}/visits", json=body, headers=bearer(world))
    assert response.status_code == 201, response.text
    return response.json()


# Households of grid 001 (lattice x < 10): 7, 27, 47 have a key person under community correction (14
# days); 1 and 2 are plain; 67 has a key person too. Their states come out of the Python evaluation.
@pytest.fixture(scope="module")
def visited(api, world) -> dict[str, Any]:
    """Earlier visits (one per state) and today's route, then the household that was never visited."""
    now = datetime.now(UTC)
    midnight = datetime.combine(china_today(), datetime.min.time(), CHINA)
    post_visit(api, world, 7, at=now - timedelta(days=20), kind="key_person_followup")  # overdue
    post_visit(api, world, 27, at=now - timedelta(days=12), kind="key_person_followup")  # due (12 > 10.5)
    post_visit(api, world, 47, at=now - timedelta(days=2))  # ok
    post_visit(api, world, 2, "refused", at=now - timedelta(days=5))  # refused still counts
    # Today's route, in China's day: between its midnight and now, out of posting order.
    today = [midnight + (now - midnight) * f for f in (0.6, 0.2, 0.4)]
    route = [(67, today[1], "not_home"), (47, today[2], "not_home"), (3, today[0], "met")]
    for i, at, outcome in route:
        post_visit(api, world, i, outcome, at=at)
    return {"route": sorted(route, key=lambda r: r[1])}


def page_data(page: str) -> dict[str, Any]:
    """The 走访 layer's data as embedded in the page."""
    start = page.index('{"visitLayer":')
    data, _ = json.JSONDecoder().raw_decode(page, start)
    return data


def legend_labels(page: str) -> list[str]:
    """The entries the 走访 layer adds to the map's legend while shown (layers/legend.LegendWhileShown)."""
    start = page.index('{"cssClass":"visit-legend"')
    data, _ = json.JSONDecoder().raw_decode(page, start)
    return [e["label"] for e in data["entries"]]


def layer_states(page: str) -> dict[int, str]:
    data = page_data(page)
    return {r[0]: STATES[r[3]] for r in data["households"]}


def expected_states(database_url: str, grid: str) -> tuple[dict[int, str], dict[int, int]]:
    """Each household of ``grid``'s state and key persons, evaluated in Python from the owner's rows."""
    with psycopg.connect(database_url) as conn:
        policy = conn.execute("SELECT kind, key_category, interval_days FROM visit_policy").fetchall()
        members = conn.execute(
            "SELECT h.id, k.category, p.elderly_alone, p.poverty IS NOT NULL FROM household h"
            " LEFT JOIN person p ON p.household_id = h.id LEFT JOIN key_person k ON k.person_id = p.id"
            " WHERE h.grid_code = %s", [grid]).fetchall()
        visits = conn.execute(
            "SELECT v.household_id, v.visited_at, o.resets_clock FROM visit v"
            " JOIN visit_outcome o ON o.code = v.outcome JOIN household h ON h.id = v.household_id"
            " WHERE h.grid_code = %s", [grid]).fetchall()
    by_kind = {kind: days for kind, category, days in policy if kind != "key_person"}
    by_category = {category: days for kind, category, days in policy if kind == "key_person"}
    interval: dict[int, int] = {}
    keys: dict[int, int] = {}
    for hid, category, elderly, poor in members:
        candidates = [by_kind["household"], interval.get(hid, by_kind["household"])]
        if category is not None:
            candidates.append(by_category[category])
            keys[hid] = keys.get(hid, 0) + 1
        if elderly:
            candidates.append(by_kind["elderly_alone"])
        if poor:
            candidates.append(by_kind["poverty"])
        interval[hid] = min(candidates)
    today = china_today()
    last: dict[int, date] = {}
    for hid, at, counts in visits:
        day = at.astimezone(CHINA).date()
        if counts and day <= today:
            last[hid] = max(last.get(hid, day), day)
    states = {}
    for hid, days in interval.items():
        if hid not in last:
            states[hid] = "never"
        else:
            since = (today - last[hid]).days
            states[hid] = "overdue" if since > days else "due" if since * 4 > days * 3 else "ok"
    return states, keys


def test_each_household_has_the_state_an_independent_evaluation_gives(api, world, visited, database_url):
    page = api.get(f"/maps/grids/{world['grid']}", headers=bearer(world)).text
    states, keys = expected_states(database_url, world["grid"])
    got = layer_states(page)
    assert got == states
    assert set(got.values()) == set(STATES)  # every state is exercised
    ids = {i: h["id"] for i, h in world["households"].items()}
    assert (got[ids[7]], got[ids[27]], got[ids[47]], got[ids[2]], got[ids[1]]) == (
        "overdue", "due", "ok", "ok", "never")
    # The layer's name and legend count what they show, and overdue + never is the overdue list.
    n = {s: sum(1 for v in states.values() if v == s) for s in STATES}
    key_overdue = sum(k for hid, k in keys.items() if states[hid] in ("overdue", "never"))
    name = f"走访逾期 {n['overdue'] + n['never']} 户"
    assert json.dumps(name) in page  # the layer control's name (written as JSON, \u-escaped)
    legend = legend_labels(page)  # added to the legend while shown
    assert f"已超周期 {n['overdue']} 户" in legend and f"从未走访 {n['never']} 户" in legend
    assert f"逾期重点人员 {key_overdue} 人" in legend and "今日路线 3 处（按序编号）" in legend
    assert f"周期内已走访 {n['ok']} 户" in legend and f"临期（周期末四分之一） {n['due']} 户" in legend
    listed = api.get("/visits/overdue", params={"grid": world["grid"]}, headers=bearer(world)).json()
    assert len(listed) == n["overdue"] + n["never"]


def test_a_visit_posted_turns_the_household_green(api, world, visited):
    hid = world["households"][1]["id"]
    before = layer_states(api.get(f"/maps/grids/{world['grid']}", headers=bearer(world)).text)
    assert before[hid] == "never"
    posted = post_visit(api, world, 1)
    assert posted["distance_m"] < 10 and not posted["far"]
    after = page_data(api.get(f"/maps/grids/{world['grid']}", headers=bearer(world)).text)
    row = next(r for r in after["households"] if r[0] == hid)
    assert STATES[row[3]] == "ok" and row[4] == 0 and row[9] == china_today().isoformat()
    assert after["styles"][row[3]]["colour"] == VISIT_STYLES["ok"].colour
    # The community map (as its admin) says the same.
    community = layer_states(api.get(f"/maps/communities/{world['community']}",
                                     headers=bearer(world, "admin")).text)
    assert community[hid] == "ok"


def test_the_route_has_todays_stops_in_time_order(api, world, visited):
    data = page_data(api.get(f"/maps/grids/{world['grid']}", headers=bearer(world)).text)
    assert data["on"] == china_today().isoformat() and data["routeColour"] == VISIT_ROUTE_COLOUR
    route = data["route"][:3]  # the green test's visit, posted now, may follow
    expected = [world["households"][i]["id"] for i, _, _ in visited["route"]]
    assert [r[5] for r in route] == expected
    assert [r[1] for r in data["route"]] == list(range(1, len(data["route"]) + 1))
    times = [r[4] for r in data["route"]]
    assert times == sorted(times)
    assert [r[4] for r in route] == [at.astimezone(CHINA).strftime("%H:%M") for _, at, _ in visited["route"]]
    # Earlier days' visits are no stops today.
    assert world["households"][7]["id"] not in {r[5] for r in data["route"]}


def test_another_grids_households_are_not_in_the_layer(api, world, visited, database_url):
    page = api.get(f"/maps/grids/{world['grid']}", headers=bearer(world)).text
    ids = set(layer_states(page))
    with psycopg.connect(database_url) as conn:
        own = {r[0] for r in conn.execute("SELECT id FROM household WHERE grid_code = %s", [world["grid"]])}
        others = {r[0] for r in conn.execute(
            "SELECT id FROM household WHERE ref LIKE %s AND grid_code IS DISTINCT FROM %s",
            [REF + "%", world["grid"]])}
    assert ids == own and not ids & others
    # The worker's community map: only her grid's households, and its figures "—" (not her whole).
    community = api.get(f"/maps/communities/{world['community']}", headers=bearer(world)).text
    assert set(layer_states(community)) == own
    assert json.dumps("走访逾期 — 户") in community
    legend = legend_labels(community)
    assert "已超周期 — 户" in legend and "逾期重点人员 — 人" in legend
    assert "今日路线 — 处（按序编号）" in legend
    # The admin's community map: every grid's households.
    full = layer_states(api.get(f"/maps/communities/{world['community']}",
                                headers=bearer(world, "admin")).text)
    assert own < set(full) and others & set(full)


# --- in a browser ------------------------------------------------------------------------------------

MAP = "window[document.querySelector('.folium-map').id]"
_MARKER = """([hid, map]) => {
    const m = window[map];
    let found = null;
    m.eachLayer(l => {
        if (l.options && l.options.householdId === hid && String(l.options.className).includes('visit-hh')) {
            found = l;
        }
    });
    if (!found) { return null; }
    return {fill: found.options.fillColor, state: found.options.visitState,
            domFill: found._path.getAttribute('fill'), cls: found._path.getAttribute('class')};
}"""


@needs_chromium
def test_the_layer_toggles_in_a_phone_browser(browser, settings, serve_app, api, world, visited):
    from api.app import create_app

    hid = world["households"][47]["id"]
    with serve_app(create_app(settings)) as base_url:
        errors: list[str] = []
        blocked: list[str] = []
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))

        def route(r):
            if urlparse(r.request.url).hostname == "127.0.0.1":
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.context.add_cookies([{"name": "gridmap_token", "value": world["tokens"]["worker"],
                                   "url": base_url}])
        response = page.goto(f"{base_url}/maps/grids/{world['grid']}", wait_until="load")
        assert response is not None and response.status == 200
        page.wait_for_selector(".hh, .marker-cluster", timeout=15_000)
        assert page.locator("path.visit-hh").count() == 0  # off when the map opens
        toggle = page.locator(".leaflet-control-layers-overlays label", has_text="走访").locator("input")
        toggle.check()
        n = len(layer_states(page.content()))
        assert page.locator("path.visit-hh").count() == n > 0
        assert page.locator("path.visit-route").count() == 1
        assert page.locator(".visit-stop").count() >= 3
        assert page.locator(".visit-stop").first.inner_text() == "1"
        assert page.locator("path.visit-key-overdue").count() > 0
        assert "逾期重点人员" in page.locator(".gridmap-legend .visit-legend").inner_text()
        map_id = page.evaluate("document.querySelector('.folium-map').id")
        marker = page.evaluate(_MARKER, [hid, map_id])
        ok = VISIT_STYLES["ok"].colour
        assert marker == {"fill": ok, "state": "ok", "domFill": ok, "cls": marker["cls"]}
        assert "visit-ok" in marker["cls"]
        toggle.uncheck()
        assert page.locator("path.visit-hh").count() == 0 and page.locator(".visit-stop").count() == 0
        assert page.locator(".visit-legend").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert errors == [] and blocked == []
        page.close()
