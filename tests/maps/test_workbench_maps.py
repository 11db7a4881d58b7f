"""The maps as the workbench's users see them (issue 12): popups link the household pages (in the
top window: the home page frames the grid map), and a map never says 0 or "no worker" about what
the user may merely not see.

A community of its own (street 439901008, community 439901008001): grid A (worker 赵敏, the grid
worker signed in here), grid B (worker 钱勇, her neighbour), grid C (no worker, no household). The
expected figures are counted by SQL as the owner; the pages are read over HTTP with the login
cookie, as a browser does, and parsed: the grid labels with html.parser, the register with json.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from gis.access import accounts
from tests.conftest import CHROMIUM

STREET = "439901008"
COMMUNITY = f"{STREET}001"
A, B, C = (f"{COMMUNITY}00{i}" for i in (1, 2, 3))
REF = "wbmaps-"
PASSWORD = "workbench maps horse battery"
DASH = "—"

# A square of about 1 km: A the west half, B the south-east quarter, C the north-east quarter (empty).
_SETUP = f"""
INSERT INTO community (code, name, street_name, geom) VALUES
    ('{COMMUNITY}', '地图社区', '地图街道',
     ST_Multi(ST_MakeEnvelope(112.950, 28.250, 112.960, 28.258, 4326)));
INSERT INTO grid (code, community_code, name, geom)
SELECT code, '{COMMUNITY}', name, ST_Multi(ST_MakeEnvelope(x0, y0, x1, y1, 4326))
FROM (VALUES ('{A}', '甲网格', 112.950, 28.250, 112.955, 28.258),
             ('{B}', '乙网格', 112.955, 28.250, 112.960, 28.254),
             ('{C}', '丙网格', 112.955, 28.254, 112.960, 28.258)) AS g (code, name, x0, y0, x1, y1);
INSERT INTO grid_worker (name, phone, ref) VALUES
    ('赵敏', '13900000011', '{REF}a'), ('钱勇', '13900000012', '{REF}b');
INSERT INTO grid_worker_grid (worker_id, grid_code, role)
SELECT w.id, g.code, 'worker' FROM (VALUES ('{REF}a', '{A}'), ('{REF}b', '{B}')) AS g (ref, code)
JOIN grid_worker w ON w.ref = g.ref;
-- Households well inside A (columns 0-3) and B (columns 6-9, rows 0-2), none in C.
WITH points AS (
    SELECT i, ST_SetSRID(ST_MakePoint(112.9505 + (i % 10) * 0.001, 28.2505 + (i / 10) * 0.001), 4326) AS geom
    FROM generate_series(0, 79) AS i
    WHERE i % 10 < 4 OR (i % 10 > 5 AND i / 10 < 3)
)
INSERT INTO household (ref, address, grid_code, placement, geom)
SELECT '{REF}' || p.i, '图路' || p.i || '号', a.grid_code, a.placement, p.geom
FROM points p CROSS JOIN LATERAL grid_for_point(p.geom) a;
INSERT INTO person (ref, household_id, name, id_number, phone, relation, residence)
SELECT '{REF}p' || h.id || '-' || k, h.id, '图民' || h.id || '-' || k,
       '439901' || '19900202' || lpad(((h.id * 2 + k) % 10000)::text, 4, '0'),
       '138' || lpad((h.id * 2 + k)::text, 8, '0'),
       CASE WHEN k = 1 THEN 'head' ELSE 'spouse' END,
       CASE WHEN h.id % 4 = 0 THEN 'floating' ELSE 'registered' END
FROM household h CROSS JOIN LATERAL generate_series(1, 1 + (h.id % 2)::int) AS k WHERE h.ref LIKE '{REF}%';
INSERT INTO key_person (person_id, category)
SELECT p.id, 'community_correction' FROM person p JOIN household h ON h.id = p.household_id
WHERE p.ref LIKE '{REF}p%' AND p.relation = 'head' AND h.id % 5 = 0;
"""

_TEARDOWN = f"""
DELETE FROM household WHERE ref LIKE '{REF}%';
DELETE FROM grid_worker WHERE ref LIKE '{REF}%';
DELETE FROM grid WHERE community_code = '{COMMUNITY}';
DELETE FROM community WHERE code = '{COMMUNITY}';
"""

GRANTS = {"worker": [("grid_worker", A)], "street_admin": [("admin", STREET)],
          "other_admin": [("admin", "439901009")], "inspector": [("inspector", "")],
          "viewer": [("viewer", STREET)], "worker_viewer": [("grid_worker", A), ("viewer", STREET)]}


@dataclass(frozen=True)
class Truth:
    """What the owner counts, without the code under test."""

    households: dict[str, set[int]]  # grid -> household ids
    persons: dict[str, int]
    key_persons: dict[str, int]
    users: dict[str, str]

    def total(self, what: str) -> int:
        return sum(len(v) if isinstance(v, set) else v for v in getattr(self, what).values())


@pytest.fixture(scope="module")
def truth(database_url: str, map_fixture) -> Iterator[Truth]:
    tag = uuid.uuid4().hex[:6]
    users = {}
    with psycopg.connect(database_url) as conn:
        conn.execute(_SETUP)  # type: ignore[arg-type]
        for name, grants in GRANTS.items():
            users[name] = f"wbmaps-{tag}-{name.replace('_', '-')}"
            accounts.create_user(conn, users[name], PASSWORD)
            for role, scope in grants:
                accounts.grant(conn, users[name], role, scope)
        rows = conn.execute(
            """SELECT g.code, coalesce(array_agg(DISTINCT h.id) FILTER (WHERE h.id IS NOT NULL), '{}'),
                      count(p.id), count(k.person_id)
               FROM grid g LEFT JOIN household h ON h.grid_code = g.code
               LEFT JOIN person p ON p.household_id = h.id LEFT JOIN key_person k ON k.person_id = p.id
               WHERE g.community_code = %s GROUP BY g.code""", [COMMUNITY]).fetchall()
        conn.commit()
    truth = Truth({r[0]: set(r[1]) for r in rows}, {r[0]: r[2] for r in rows}, {r[0]: r[3] for r in rows},
                  users)
    assert truth.households[A] and truth.households[B] and not truth.households[C]
    assert truth.key_persons[A] and truth.key_persons[B]
    yield truth
    with psycopg.connect(database_url) as conn:
        conn.execute(_TEARDOWN)  # type: ignore[arg-type]
        conn.execute("DELETE FROM app_user WHERE username LIKE %s", [f"wbmaps-{tag}-%"])


@pytest.fixture(scope="module")
def signed_in(settings, truth: Truth) -> Iterator:
    """``signed_in("worker")``: a TestClient signed in at /login, holding the cookie as a browser does."""
    from api.app import create_app

    app = create_app(settings)
    clients: list[TestClient] = []

    def make(name: str) -> TestClient:
        c = TestClient(app, base_url="http://127.0.0.1")
        c.__enter__()
        clients.append(c)
        r = c.post("/login", data={"username": truth.users[name], "password": PASSWORD, "next": "/"},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def get(client: TestClient, path: str, **kw: Any) -> str:
    r = client.get(path, headers={"Accept": "text/html"}, **kw)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.text


# Reading the pages ------------------------------------------------------------------------------


def register_rows(page: str) -> list[list[Any]]:
    """The register embedded in a grid or community map (layers.households.RegisterData)."""
    found = re.search(r"rows: (\[.*?\]),\n\s*tags: ", page, re.S)
    assert found, "no register in the page"
    return json.loads(found.group(1))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(fragment: str) -> str:
    parser = _Text()
    parser.feed(fragment)
    return " ".join(p.strip() for p in parser.parts if p.strip())


def grid_labels(page: str) -> dict[str, str]:
    """Each grid label's text (layers.grids._label: a DivIcon's HTML inside the map's script), by code."""
    labels = {}
    for raw in re.findall(r'"html": ("(?:[^"\\]|\\.)*")', page):
        text = text_of(json.loads(raw))
        code = next((c for c in (A, B, C) if c in text), None)
        if code is not None:
            labels[code] = text
    return labels


def title_box(page: str) -> str:
    found = re.search(r'<div class="gridmap-box gridmap-title".*?</div></div>', page, re.S)
    assert found
    return text_of(found.group(0))


def overlay_names(page: str) -> list[str]:
    """The layer control's overlay names (folium writes them as a JS object's keys, escaped as HTML:
    Leaflet writes them with innerHTML)."""
    found = re.search(r"overlays\s*:\s*\{(.*?)\}", page, re.S)
    assert found
    return [html.unescape(json.loads(k)) for k in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', found.group(1))]


def street_config(page: str) -> dict[str, Any]:
    found = re.search(r"var cfg = (\{.*?\});\n", page, re.S)
    assert found
    return json.loads(found.group(1))


# 1. Popups link the household pages --------------------------------------------------------------


def test_grid_map_popups_link_her_household_pages_in_the_top_window(signed_in, truth):
    worker = signed_in("worker")
    page = get(worker, f"/maps/grids/{A}")
    rows = register_rows(page)
    # Exactly her grid's households are drawn (none of B's, which the database hides from her) ...
    assert {r[7] for r in rows} == truth.households[A]
    # ... each popup links /households/{id}, opened in the top window ...
    assert re.search(r'householdUrl: "/households/",', page)
    assert """'<a class="hh-open" target="_top" href="' +""" in page
    # ... with masked numbers only.
    for r in rows:
        assert all("*" in m[4] and "*" in m[5] for m in r[6])
    # Every link target opens for her (a household page, not a 403 or 404), and a neighbour's
    # household, which is not on her map, does not.
    for hid in sorted(truth.households[A])[:5]:
        assert "text/html" in worker.get(f"/households/{hid}", headers={"Accept": "text/html"}).headers[
            "content-type"]
        get(worker, f"/households/{hid}")
    neighbour = min(truth.households[B])
    assert worker.get(f"/households/{neighbour}", headers={"Accept": "text/html"}).status_code == 404


def test_the_file_map_has_no_household_links(database_url, truth):
    """The CLI's file is opened with no server: a link to /households/ would lead nowhere."""
    from gis.maps import grids as mapdata
    from gis.settings import Settings
    from layers.maps import grid_map
    from layers.shell import render_html

    with psycopg.connect(database_url) as conn:
        page = render_html(grid_map(mapdata.grid_map_data(conn, A), Settings(_env_file=None)), inline=True)
    assert "householdUrl: null," in page


@pytest.fixture(scope="module")
def live(settings, truth: Truth, serve_app) -> Iterator[str]:
    from api.app import create_app

    with serve_app(create_app(settings)) as url:
        yield url


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium not installed")
def test_the_popup_in_a_browser_opens_the_household_page_in_the_top_window(browser, live, truth):
    """The popup as Leaflet writes it (headless Chromium, only the app reachable), in a frame of a
    page of the app's origin as the home page frames the map: the link replaces the framing page."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    frame_page = f"{live}/__framing-page-of-this-test"  # answered here, from the app's origin

    def route(r) -> None:
        if r.request.url == frame_page:
            r.fulfill(content_type="text/html",
                      body=f'<!DOCTYPE html><iframe src="/maps/grids/{A}" width="900" height="700"></iframe>')
        elif r.request.url.startswith(live):
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    page.goto(f"{live}/login")
    page.fill("input[name=username]", truth.users["worker"])
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_load_state("load")
    page.goto(frame_page, wait_until="load")
    frame = page.frame_locator("iframe")
    frame.locator(".hh, .marker-cluster").first.wait_for(timeout=15_000)
    opened = page.frames[1].evaluate("""() => {
        const map = window[document.querySelector('.folium-map').id]; let ring = null;
        map.eachLayer(l => { if (!ring && l instanceof L.CircleMarker && l.getPopup()) ring = l; });
        if (ring) ring.openPopup(); return !!ring; }""")
    assert opened, "no ringed household on her map"
    link = frame.locator(".hh-popup a.hh-open")
    href = link.get_attribute("href") or ""
    assert link.get_attribute("target") == "_top"
    found = re.fullmatch(r"/households/([0-9]+)", href)
    assert found and int(found.group(1)) in truth.households[A], href
    assert "*" in (frame.locator(".hh-popup").text_content() or "")
    link.click()
    # The top window goes to the household page (the frame would keep the framing page's URL).
    page.wait_for_url(f"{live}{href}", wait_until="commit", timeout=30_000)
    page.wait_for_load_state("load", timeout=30_000)
    assert page.locator("iframe").count() == 0 and "图路" in (page.text_content("main") or "")
    assert errors == []
    context.close()


# 2 and 3. Figures and workers she may not see --------------------------------------------------------


def test_her_community_map_shows_dashes_and_hidden_workers(signed_in, truth):
    page = get(signed_in("worker"), f"/maps/communities/{COMMUNITY}")
    labels = grid_labels(page)
    assert set(labels) == {A, B, C}
    # Her own grid: its worker and its real figures.
    assert "网格员 赵敏" in labels[A]
    assert f"住户 {len(truth.households[A])} · 人口 {truth.persons[A]}" in labels[A]
    # The neighbour with a worker: hidden, not "no worker", and the name nowhere in the page.
    assert "网格员 已配备（无权查看）" in labels[B] and "未配备网格员" not in labels[B]
    assert "钱勇" not in page
    # The neighbour without one: said so.
    assert "网格员 未配备网格员" in labels[C]
    # Neighbours' figures: "—", never 0.
    for grid in (B, C):
        assert f"住户 {DASH} · 人口 {DASH}" in labels[grid], labels[grid]
        assert not re.search(r"住户 0\b|人口 0\b", labels[grid])
    # The community's figures in the title box and the layer control: "—" (her scope is one grid).
    title = title_box(page)
    assert f"住户 {DASH} 户 · 人口 {DASH} 人" in title
    assert f"重点人员 {DASH} 人" in title and not re.search(r"(住户|人口|重点人员) [0-9]", title)
    assert "赵敏（另有 1 个网格的网格员无权查看）" in title
    tagged = [n for n in overlay_names(page) if n.startswith("重点人员")]
    assert tagged == [f"重点人员 {DASH} 人"]
    # The households drawn are hers alone, and no text of the page counts B's.
    assert {r[7] for r in register_rows(page)} == truth.households[A]


def test_the_street_admin_sees_the_real_numbers_and_names(signed_in, truth):
    page = get(signed_in("street_admin"), f"/maps/communities/{COMMUNITY}")
    labels = grid_labels(page)
    assert "网格员 赵敏" in labels[A] and "网格员 钱勇" in labels[B] and "网格员 未配备网格员" in labels[C]
    for grid in (A, B, C):
        figures = f"住户 {len(truth.households[grid])} · 人口 {truth.persons[grid]}"
        assert figures in labels[grid], labels[grid]
    assert "住户 0 · 人口 0" in labels[C]  # a real 0 is a 0
    title = title_box(page)
    assert f"住户 {truth.total('households')} 户 · 人口 {truth.total('persons')} 人" in title
    assert f"重点人员 {truth.total('key_persons')} 人" in title
    assert "赵敏、钱勇" in title and "无权查看" not in title
    assert f"重点人员 {truth.total('key_persons')} 人" in overlay_names(page)
    assert f"住户 {truth.total('households')} 户" in overlay_names(page)
    assert {r[7] for r in register_rows(page)} == truth.households[A] | truth.households[B]


def test_her_grid_map_shows_her_grid_whole_and_the_neighbours_as_hidden(signed_in, truth):
    page = get(signed_in("worker"), f"/maps/grids/{A}")
    title = title_box(page)
    assert f"住户 {len(truth.households[A])} 户 · 人口 {truth.persons[A]} 人" in title
    assert f"重点人员 {truth.key_persons[A]} 人" in title and "网格员 赵敏" in title
    labels = grid_labels(page)
    assert f"住户 {DASH}" in labels[B] and "已配备（无权查看）" in labels[B]
    assert "未配备网格员" in labels[C]


def test_her_street_map_counts_her_grid_only(signed_in, truth):
    worker = signed_in("worker")
    page = get(worker, f"/maps/street/{STREET}")
    grids = {f["properties"]["c"]: f["properties"] for f in street_config(page)["grids"]["features"]}
    assert grids[A]["h"] == len(truth.households[A])
    assert grids[B]["h"] is None and grids[C]["h"] is None  # "—" in the popup and label, not 0
    assert f"住户 {DASH} 户" in title_box(page)
    # Grid popups link only the grid map she may open; households link their pages in the top window.
    assert {c for c, p in grids.items() if p["m"]} == {A}
    assert worker.get(f"/maps/grids/{B}").status_code == 403
    config = street_config(page)
    assert config["householdUrl"] == "/households/"
    assert """'<br><a class="hh-open" target="_top" href="' +""" in page
    assert """'<br><a target="_top" href="/maps/grids/'""" in page
    rows = worker.get(f"/maps/street/{STREET}/households",
                      params={"bbox": "112.949,28.249,112.961,28.259"}).json()["rows"]
    assert {r[0] for r in rows} == truth.households[A]


def test_the_street_admin_street_map_counts_every_grid(signed_in, truth):
    page = get(signed_in("street_admin"), f"/maps/street/{STREET}")
    grids = {f["properties"]["c"]: f["properties"] for f in street_config(page)["grids"]["features"]}
    assert {g: grids[g]["h"] for g in (A, B, C)} == {g: len(truth.households[g]) for g in (A, B, C)}
    assert f"住户 {truth.total('households')} 户" in title_box(page)
    assert all(p["m"] for p in grids.values())


def test_a_viewer_counts_the_street_but_gets_no_links_to_rows(signed_in, truth):
    viewer = signed_in("viewer")
    page = get(viewer, f"/maps/street/{STREET}")
    config = street_config(page)
    grids = {f["properties"]["c"]: f["properties"] for f in config["grids"]["features"]}
    assert {g: grids[g]["h"] for g in (A, B, C)} == {g: len(truth.households[g]) for g in (A, B, C)}
    assert f"住户 {truth.total('households')} 户" in title_box(page)
    # No household page and no grid map is hers to open: neither is linked.
    assert config["householdUrl"] is None and not any(p["m"] for p in grids.values())
    assert viewer.get(f"/maps/grids/{A}").status_code == 403
    household = viewer.get(f"/households/{min(truth.households[A])}", headers={"Accept": "text/html"})
    assert household.status_code == 403


def test_her_viewer_grant_shows_the_neighbours_figures_but_not_the_communitys_rows(signed_in, truth):
    """A worker of A who also views the street: she counts every grid (labels, workers' names), but
    the map draws her grid's rows only, so its totals are still "—"."""
    page = get(signed_in("worker_viewer"), f"/maps/communities/{COMMUNITY}")
    labels = grid_labels(page)
    assert f"住户 {len(truth.households[B])} · 人口 {truth.persons[B]}" in labels[B]
    assert "网格员 钱勇" in labels[B] and "网格员 未配备网格员" in labels[C]
    title = title_box(page)
    assert f"住户 {DASH} 户" in title and "赵敏、钱勇" in title and "无权查看" not in title
    assert {r[7] for r in register_rows(page)} == truth.households[A]


def test_the_list_of_maps_links_only_what_she_may_open(signed_in, truth):
    page = get(signed_in("worker"), "/maps/")
    items = {c: text_of(m) for m in re.findall(r"<li>(.*?)</li>", page) for c in (A, B, C) if c in m}
    assert f"{len(truth.households[A])} 户" in items[A] and "赵敏" in items[A]
    assert f"{DASH} 户" in items[B] and "已配备（无权查看）" in items[B] and "钱勇" not in page
    assert f"{DASH} 户" in items[C] and "未配备网格员" in items[C]
    # Her grid's map and her community's (its rows narrowed to her grid) open; the neighbours' would
    # answer 403, so they are not linked.
    assert f'href="/maps/grids/{A}"' in page and f'href="/maps/communities/{COMMUNITY}"' in page
    assert f'href="/maps/grids/{B}"' not in page and f'href="/maps/grids/{C}"' not in page


def test_an_inspector_learns_nothing_of_the_staffing(signed_in, truth):
    page = get(signed_in("inspector"), "/maps/")
    items = {c: text_of(m) for m in re.findall(r"<li>(.*?)</li>", page) for c in (A, B, C) if c in m}
    assert all(f"网格员 {DASH}，{DASH} 户" in items[g] for g in (A, B, C)), items
    assert "/maps/grids/" not in page  # the grid maps are for the register roles


def test_the_database_tells_staffing_only_within_reach(database_url, truth):
    """map_grid_access() as the service role: her community's grids, counted only hers; an admin of
    another street and an inspector get no row of this community."""
    with psycopg.connect(database_url) as conn:
        def rows(user: str) -> dict[str, tuple]:
            accounts.act_as(conn, accounts.Principal(accounts.user_id(conn, user), user, ()), client="pytest")
            out: dict[str, tuple] = {r[0]: tuple(r[1:]) for r in conn.execute(
                "SELECT grid_code, seen, counted, workers FROM map_grid_access(%s)", [COMMUNITY])}
            out["holds"] = tuple(conn.execute("SELECT access_holds(%s, '{admin,grid_worker}')",
                                              [COMMUNITY]).fetchone() or ())
            conn.execute("RESET ROLE")
            return out

        assert rows(truth.users["worker"]) == {A: (True, True, 1), B: (False, False, 1), C: (False, False, 0),
                                               "holds": (False,)}
        assert rows(truth.users["street_admin"]) == {A: (True, True, 1), B: (True, True, 1),
                                                     C: (True, True, 0), "holds": (True,)}
        assert rows(truth.users["other_admin"]) == {"holds": (False,)}
        assert rows(truth.users["inspector"]) == {"holds": (False,)}
        # The owner (the CLI) holds everything.
        assert conn.execute("SELECT access_holds(%s, '{admin}')", [COMMUNITY]).fetchone() == (True,)
        conn.rollback()
