"""The campaign layers (issue 16) and the reports overlay on the grid, community and street maps:
unmanaged compounds by whether a lead helper unit holds them today, facilities by kind, duty posts.

Records are written as the owner into the maps tests' community (tests/maps/conftest.py): five
compounds (one helped today, one whose pairing ended yesterday, one paired from next week, one never
paired, one far outside every map), three facilities (one closed) and three duties (one expired), for
two units. Expectations are counted in SQL over the tables here, never with the layer's own query.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import psycopg
import pytest

from gis.access import accounts
from tests.conftest import CHROMIUM

needs_chromium = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium not installed")
LAYERS = ("compounds", "facilities", "posts")


def china_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


_RECORDS = """
WITH units AS (
    INSERT INTO responsible_unit (name, kind)
    VALUES (%(tag)s || '甲单位', 'government'), (%(tag)s || '乙单位', 'enterprise')
    RETURNING id, name
), compounds AS (
    INSERT INTO compound (ref, name, management, households, geom)
    SELECT %(tag)s || '-' || n, %(tag)s || name, management, 40,
           ST_Multi(ST_MakeEnvelope(x, y, x + 0.001, y + 0.001, 4326))
    FROM (VALUES (1, '帮扶小区', 'none', 112.901, 28.201), (2, '到期小区', 'abandoned', 112.906, 28.201),
                 (3, '未结对小区', 'self', 112.906, 28.205), (4, '远方小区', 'none', 113.0, 28.3),
                 (5, '下周结对小区', 'none', 112.902, 28.203)) AS c (n, name, management, x, y)
    RETURNING id, ref
)
INSERT INTO compound_helper (compound_id, unit_id, valid)
SELECT c.id, u.id, v.valid
FROM (VALUES (1, '甲单位', daterange(%(today)s::date - 10, NULL)),
             (2, '乙单位', daterange(%(today)s::date - 30, %(today)s::date)),
             (4, '甲单位', daterange(%(today)s::date - 10, NULL)),
             (5, '乙单位', daterange(%(today)s::date + 7, NULL))) AS v (n, unit, valid)
JOIN compounds c ON c.ref = %(tag)s || '-' || v.n JOIN units u ON u.name = %(tag)s || v.unit;

INSERT INTO facility (kind, name, owner_community, owner_unit, geom, active)
SELECT kind, %(tag)s || name, community, (SELECT id FROM responsible_unit WHERE name = %(tag)s || unit),
       ST_SetSRID(ST_MakePoint(x, y), 4326), active
FROM (VALUES ('moral_lecture_hall', '道德讲堂', %(community)s, NULL, 112.9012, 28.2055, true),
             ('volunteer_station', '志愿服务站', NULL, '甲单位', 112.908, 28.2025, true),
             ('notice_board', '旧宣传栏', %(community)s, NULL, 112.9013, 28.2056, false))
     AS f (kind, name, community, unit, x, y, active);

INSERT INTO duty (name, unit_id, recurrence, weekday, month_day, post, post_name, valid)
SELECT %(tag)s || name, (SELECT id FROM responsible_unit WHERE name = %(tag)s || unit), recurrence, weekday,
       month_day, ST_SetSRID(ST_MakePoint(x, y), 4326), post_name, valid
FROM (VALUES ('周五值守', '甲单位', 'weekly', 5, NULL, 112.9049, 28.2040, '人民路口',
              daterange(%(today)s::date - 100, NULL)),
             ('红绿灯劝导', '乙单位', 'monthly', NULL, 15, 112.907, 28.203, '解放路口',
              daterange(%(today)s::date - 100, NULL)),
             ('旧值守', '甲单位', 'weekly', 1, NULL, 112.9020, 28.2030, '旧路口',
              daterange(%(today)s::date - 100, %(today)s::date - 50)))
     AS d (name, unit, recurrence, weekday, month_day, x, y, post_name, valid);
"""

_CLEANUP = """
DELETE FROM duty WHERE starts_with(name, %(tag)s);
DELETE FROM facility WHERE starts_with(name, %(tag)s);
DELETE FROM compound WHERE starts_with(ref, %(tag)s);
DELETE FROM responsible_unit WHERE starts_with(name, %(tag)s);
"""


@pytest.fixture(scope="module")
def world(database_url: str, settings, map_fixture) -> Iterator[dict[str, Any]]:
    """The records, and bearer tokens: an admin of the community, a grid worker of its grids, one who
    also acts for unit 甲 (unit role and unit_account), a viewer of the street."""
    tag = "cl" + uuid.uuid4().hex[:6]
    community = map_fixture.community
    with psycopg.connect(database_url) as conn:
        for statement in _RECORDS.split(";\n\n"):  # bound parameters: one statement at a time
            conn.execute(statement, {"tag": tag, "today": china_today(), "community": community})
        unit_a = conn.execute("SELECT id FROM responsible_unit WHERE name = %s",
                              [tag + "甲单位"]).fetchone()[0]
        tokens = {}
        grids = [("grid_worker", grid) for grid in map_fixture.grids]  # a grid worker is granted grids
        for name, grants in (("admin", [("admin", community)]), ("worker", grids),
                             ("unit", [*grids, ("unit", community)]),
                             ("viewer", [("viewer", community[:9])])):
            username, password = f"{tag}-{name}", uuid.uuid4().hex
            user_id = accounts.create_user(conn, username, password)
            for role, scope in grants:
                accounts.grant(conn, username, role, scope)
            if name == "unit":
                conn.execute("INSERT INTO unit_account (user_id, unit_id) VALUES (%s, %s)", [user_id, unit_a])
            tokens[name], _ = accounts.issue_token(conn, username, password, settings.secret_key,
                                                   timedelta(hours=1))
        conn.commit()
    yield {"tag": tag, "tokens": tokens, "community": community, "grids": map_fixture.grids,
           "street": community[:9]}
    with psycopg.connect(database_url) as conn:
        for statement in _CLEANUP.strip().splitlines():
            conn.execute(statement, {"tag": tag})


@pytest.fixture(scope="module")
def api(settings) -> Iterator:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


def served(api, world: dict[str, Any], path: str, who: str = "admin") -> str:
    r = api.get(path, headers={"Authorization": f"Bearer {world['tokens'][who]}"})
    assert r.status_code == 200, r.text[:300]
    return r.text


def embedded(page: str) -> dict[str, dict[str, Any]]:
    """Each campaign layer's data as embedded in the page, by layer."""
    found = {}
    for m in re.finditer(r'\{"campaignLayer":', page):
        data, _ = json.JSONDecoder().raw_decode(page, m.start())
        found[data["campaignLayer"]] = data
    return found


def hand_count(database_url: str, world: dict[str, Any], area: str, code: str) -> dict[str, Any]:
    """Compounds meeting the area with and without a helper today, active facilities in it, duties in
    force with their post in it: names, counted over the tables."""
    polygon = {"grid": "SELECT geom FROM grid WHERE code = %(code)s",
               "community": "SELECT geom FROM community WHERE code = %(code)s"}[area]
    with psycopg.connect(database_url) as conn:
        args = {"code": code, "today": china_today(), "tag": world["tag"]}
        helped, unhelped = conn.execute(f"""
            SELECT array_agg(c.name ORDER BY c.name) FILTER (WHERE h.id IS NOT NULL),
                   array_agg(c.name ORDER BY c.name) FILTER (WHERE h.id IS NULL)
            FROM compound c JOIN ({polygon}) a ON ST_Intersects(a.geom, c.geom)
            LEFT JOIN compound_helper h ON h.compound_id = c.id AND h.valid @> %(today)s::date
            WHERE starts_with(c.ref, %(tag)s)""", args).fetchone()
        facilities = conn.execute(f"""
            SELECT array_agg(f.name ORDER BY f.name) FROM facility f JOIN ({polygon}) a
            ON ST_Intersects(a.geom, f.geom) WHERE f.active AND starts_with(f.name, %(tag)s)""",
                                  args).fetchone()[0]
        posts = conn.execute(f"""
            SELECT array_agg(d.name ORDER BY d.name) FROM duty d JOIN ({polygon}) a
            ON ST_Intersects(a.geom, d.post)
            WHERE d.valid @> %(today)s::date AND starts_with(d.name, %(tag)s)""",
                             args).fetchone()[0]
    return {"helped": helped or [], "unhelped": unhelped or [], "facilities": facilities or [],
            "posts": posts or []}


def drawn(data: dict[str, dict[str, Any]], tag: str) -> dict[str, list[str]]:
    """The same four lists from a page's embedded data (this module's records only)."""
    compounds = [f["properties"] for f in data["compounds"]["features"]
                 if f["properties"]["name"].startswith(tag)]
    return {"helped": sorted(p["name"] for p in compounds if p["helper"] is not None),
            "unhelped": sorted(p["name"] for p in compounds if p["helper"] is None),
            "facilities": sorted(r[5] for r in data["facilities"]["features"] if r[5].startswith(tag)),
            "posts": sorted(f["properties"]["name"] for f in data["posts"]["features"]
                            if f["properties"]["name"].startswith(tag))}


@pytest.mark.parametrize("area", ["community", "grid"])
def test_the_layers_equal_a_hand_count_over_the_database(api, world, database_url, area):
    code = world["community"] if area == "community" else world["grids"][0]
    path = f"/maps/communities/{code}" if area == "community" else f"/maps/grids/{code}"
    want = hand_count(database_url, world, area, code)
    got = drawn(embedded(served(api, world, path)), world["tag"])
    assert got == want
    tag = world["tag"]
    if area == "community":  # the fixture's own expectations, so that the hand count is no tautology
        assert want == {"helped": [tag + "帮扶小区"],
                        "unhelped": sorted([tag + "到期小区", tag + "未结对小区", tag + "下周结对小区"]),
                        "facilities": sorted([tag + "道德讲堂", tag + "志愿服务站"]),
                        "posts": sorted([tag + "周五值守", tag + "红绿灯劝导"])}
    else:  # the west grid: one helped compound, one paired only from next week, the lecture hall
        assert want == {"helped": [tag + "帮扶小区"], "unhelped": [tag + "下周结对小区"],
                        "facilities": [tag + "道德讲堂"], "posts": [tag + "周五值守"]}


def test_a_compound_carries_its_helper_and_since_and_a_post_its_day(api, world):
    data = embedded(served(api, world, f"/maps/communities/{world['community']}"))
    tag = world["tag"]
    helped = next(f["properties"] for f in data["compounds"]["features"]
                  if f["properties"]["name"] == tag + "帮扶小区")
    assert helped["helper"] == tag + "甲单位"
    assert helped["since"] == (china_today() - timedelta(days=10)).isoformat()
    assert helped["management_zh"] == "无物业"
    posts = {f["properties"]["name"]: f["properties"] for f in data["posts"]["features"]}
    assert posts[tag + "周五值守"]["when"] == "每周五" and posts[tag + "周五值守"]["unit"] == tag + "甲单位"
    assert posts[tag + "红绿灯劝导"]["when"] == "每月15日"
    hall = next(r for r in data["facilities"]["features"] if r[5] == tag + "道德讲堂")
    assert hall[3:5] == ["moral_lecture_hall", "道德讲堂"] and hall[6] == "测试社区"


def _hidden(page: str, marker: str) -> bool:
    """The overlay whose data starts with ``marker`` is declared in the page but never added to the map
    (folium adds a shown layer with ``<name>.addTo(map)``)."""
    start = page.index(marker)
    name = re.findall(r"var (\w+) = \(function \(\) \{", page[:start])[-1]
    return f"{name}.addTo(" not in page and name in page[start:]


@pytest.mark.parametrize("path", ["/maps/grids/{grid}", "/maps/communities/{community}"])
def test_the_overlays_are_in_the_layer_control_but_hidden(api, world, path):
    page = served(api, world, path.format(grid=world["grids"][0], community=world["community"]))
    for what in LAYERS:
        assert _hidden(page, f'{{"campaignLayer":"{what}"'), what
    assert _hidden(page, '{"reportLayer":')
    # the layer control's overlays: folium writes each name as JSON (non-ASCII escaped) : its variable
    block = page[page.index("overlays :  {"):]
    block = block[:block.index("}")]
    overlays = [json.loads(name) for name in re.findall(r'("(?:[^"\\]|\\.)*") : \w+,', block)]
    for name in ("无人管理小区", "文明阵地", "值守点位", "不文明行为"):
        assert any(o.startswith(name) for o in overlays), (name, overlays)
    # each overlay's legend entries, added to the legend while it is shown (a phone's legend has no
    # room for all of them at once)
    legend = page[page.index('class="gridmap-box gridmap-legend"'):]
    legend = legend[:legend.index("</details>")]
    for label in ("无人管理小区（已结对帮扶）", "无人管理小区（未结对）", "值守点位/路段",
                  "不文明行为：待受理"):
        assert label not in legend, label
        assert label in page.replace("\\/", "/"), label  # in its overlay's script


def test_the_street_map_lists_the_overlays_in_its_control(api, world):
    page = served(api, world, f"/maps/street/{world['street']}", who="viewer")
    config = json.JSONDecoder().raw_decode(page, page.index('{"grids":'))[0]
    names = config["extraNames"]
    assert names[0].startswith("不文明行为")
    assert [n.split(" ")[0] for n in names[1:]] == ["无人管理小区", "文明阵地", "值守点位"]
    for what in LAYERS:
        assert _hidden(page, f'{{"campaignLayer":"{what}"'), what
    data = embedded(page)
    assert sorted(drawn(data, world["tag"])["helped"]) == [world["tag"] + "帮扶小区"]


def test_each_reader_sees_what_row_level_security_lets_her_read(api, world, database_url):
    """A grid worker reads no compounds and no duties (migration 025): those overlays are left off,
    not drawn empty; the facilities are everyone's. A worker who also acts for unit 甲 reads every
    compound and its helper, but only her unit's duties."""
    tag, path = world["tag"], f"/maps/communities/{world['community']}"
    worker = served(api, world, path, who="worker")
    assert set(embedded(worker)) == {"facilities"}
    assert "无人管理小区" not in worker and "值守点位" not in worker
    unit = drawn(embedded(served(api, world, path, who="unit")), tag)
    admin = drawn(embedded(served(api, world, path)), tag)
    assert unit["helped"] == admin["helped"] and unit["unhelped"] == admin["unhelped"]
    assert admin["posts"] == sorted([tag + "周五值守", tag + "红绿灯劝导"])
    assert unit["posts"] == [tag + "周五值守"]  # unit 乙's duty is not hers


def test_the_cli_options_leave_the_overlays_out(database_url, world, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from api.cli import app

    monkeypatch.setenv("GRIDMAP_DATABASE_URL", database_url)
    runner = CliRunner()
    full, bare = tmp_path / "full.html", tmp_path / "bare.html"
    code = world["community"]
    assert runner.invoke(app, ["map", "community", code, "-o", str(full)]).exit_code == 0
    result = runner.invoke(app, ["map", "community", code, "-o", str(bare), "--no-visits", "--no-reports",
                                 "--no-campaign"])
    assert result.exit_code == 0, result.output
    full_page, bare_page = full.read_text("utf-8"), bare.read_text("utf-8")
    assert set(embedded(full_page)) == set(LAYERS) and '{"reportLayer":' in full_page
    assert '{"visitLayer":' in full_page
    assert embedded(bare_page) == {}
    assert '{"reportLayer":' not in bare_page and '{"visitLayer":' not in bare_page
    help_text = runner.invoke(app, ["map", "grid", "--help"]).output
    assert all(o in help_text for o in ("--no-visits", "--no-reports", "--no-campaign"))


@needs_chromium
def test_ticking_the_overlay_draws_the_compound_polygons(browser, settings, serve_app, world, database_url):
    """In headless Chromium with the network cut: no compound polygon until 无人管理小区 is ticked, then
    one SVG path per compound of the community (helped and not by their classes), none after unticking."""
    from api.app import create_app

    want = hand_count(database_url, world, "community", world["community"])
    with psycopg.connect(database_url) as conn:  # every compound of the community, the other tests' too
        total = conn.execute("SELECT count(*) FROM compound c JOIN community m"
                             " ON ST_Intersects(m.geom, c.geom) WHERE m.code = %s",
                             [world["community"]]).fetchone()[0]
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
        page.context.add_cookies([{"name": "gridmap_token", "value": world["tokens"]["admin"],
                                   "url": base_url}])
        response = page.goto(f"{base_url}/maps/communities/{world['community']}", wait_until="load")
        assert response is not None and response.status == 200
        page.wait_for_selector(".hh, .marker-cluster", timeout=15_000)
        assert page.locator("path.campaign-compound").count() == 0  # off when the map opens
        overlays = page.locator(".leaflet-control-layers-overlays label")
        toggle = overlays.filter(has_text="无人管理小区").locator("input")
        toggle.check()
        assert page.locator("path.campaign-compound").count() == total >= 4
        legend = page.locator(".gridmap-legend").inner_text()
        assert "无人管理小区（已结对帮扶）" in legend and "无人管理小区（未结对）" in legend
        assert page.locator("path.compound-helped").count() >= len(want["helped"])
        assert page.locator("path.compound-unhelped").count() >= len(want["unhelped"])
        overlays.filter(has_text="文明阵地").locator("input").check()
        assert page.locator(".campaign-facility").count() >= len(want["facilities"])
        toggle.uncheck()
        assert page.locator("path.campaign-compound").count() == 0
        assert "无人管理小区（未结对）" not in page.locator(".gridmap-legend").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert errors == [] and blocked == []
        page.close()


_COMPOUNDS_ON_MAP = """() => {
    const m = window.gridmapStreet.map;
    let n = 0;
    m.eachLayer(l => {
        if (l.options && String(l.options.className).includes('campaign-compound')) { n++; }
    });
    return n;
}"""


@needs_chromium
def test_the_street_maps_control_toggles_the_compounds_on_its_canvas(browser, settings, serve_app, world,
                                                                    database_url):
    """The street map draws on a canvas (no SVG paths to count): the compound layers on the map are
    counted through Leaflet instead, with the network cut."""
    from api.app import create_app

    with psycopg.connect(database_url) as conn:
        total = conn.execute("SELECT count(*) FROM compound c WHERE EXISTS (SELECT 1 FROM community m"
                             " WHERE starts_with(m.code, %s) AND ST_Intersects(m.geom, c.geom))",
                             [world["street"]]).fetchone()[0]
    with serve_app(create_app(settings)) as base_url:
        errors: list[str] = []
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1"
                   else r.abort())
        page.context.add_cookies([{"name": "gridmap_token", "value": world["tokens"]["viewer"],
                                   "url": base_url}])
        page.goto(f"{base_url}/maps/street/{world['street']}", wait_until="load")
        page.wait_for_function("window.gridmapReady === true", timeout=15_000)
        assert page.evaluate(_COMPOUNDS_ON_MAP) == 0
        toggle = page.locator(".leaflet-control-layers-overlays label").filter(has_text="无人管理小区")
        toggle.locator("input").check()
        assert page.evaluate(_COMPOUNDS_ON_MAP) == total >= 4
        toggle.locator("input").uncheck()
        assert page.evaluate(_COMPOUNDS_ON_MAP) == 0
        assert errors == []
        page.close()
