"""The workbench forms of unmanaged compounds (无人管理小区, issue 16): a compound's page (its outline,
management kind, helper history, tasks with photos), the pairing form (422 beside the field, 409 with the
current helper), ending a pairing, the task form with photos before and after (the helper unit's
accounts; another unit is refused and does not see the photos), the GeoJSON upload (all or nothing,
every feature's problems) and the overlaps; and a unit's account recording a task on a phone."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlparse

import psycopg
import pytest

from gis.compounds.compounds import today
from tests.workbench.test_browser import Tab, sign_in
from tests.workbench.test_duty_forms import HTML, Campaign, client, csrf, error_beside, jpeg, make_campaign


@pytest.fixture(scope="module")
def campaign(database_url: str, street) -> Campaign:
    return make_campaign(database_url, street)


@pytest.fixture(scope="module")
def as_user(app, street, campaign) -> Iterator:
    clients: dict = {}

    def make(name: str):
        if name not in clients:
            clients[name] = client(app, campaign.users.get(name) or street.users[name])
        return clients[name]

    yield make
    for c in clients.values():
        c.__exit__(None, None, None)


def pair_error(html: str, field: str) -> str:
    return error_beside(html, f"pair-{field}")


def test_the_compound_page_shows_outline_helpers_and_tasks(as_user, campaign):
    page = as_user("unit_a").get(f"/compounds/{campaign.compound}", headers=HTML)
    assert page.status_code == 200
    geometry = re.search(r'data-geometry="([^"]+)"', page.text)
    assert geometry and json.loads(geometry.group(1).replace("&#34;", '"'))["type"] == "MultiPolygon"
    assert "幸福里" in page.text and "无物业" in page.text
    assert campaign.unit_names["a"] in re.search(r'class="current-helper">(.*?)</dd>', page.text).group(1)
    assert 'class="edit task-form"' in page.text and 'class="edit pair-form"' not in page.text
    planner = as_user("planner").get(f"/compounds/{campaign.compound}", headers=HTML).text
    assert 'class="edit pair-form"' in planner and 'class="inline end-pairing"' in planner
    listed = as_user("unit_a").get("/compounds", headers=HTML).text
    assert f'href="/compounds/{campaign.compound}"' in listed


def pair(c, compound: int, **fields: str):
    data = {
        "csrf_token": csrf(c, f"/compounds/{compound}"),
        "unit_id": "",
        "valid_from": today().isoformat(),
        "valid_to": "",
        "note": "",
        **fields,
    }
    return c.post(f"/compounds/{compound}/helpers", data=data, headers=HTML, follow_redirects=False)


def test_pairing_ending_and_the_conflict_naming_the_current_helper(as_user, campaign):
    planner = as_user("planner")
    k = campaign.free_compound
    r = pair(planner, k, unit_id=str(campaign.units["a"]), valid_to=(today() - timedelta(days=3)).isoformat())
    assert r.status_code == 422 and "before valid_from" in pair_error(r.text, "valid_to")
    assert f'<option value="{campaign.units["a"]}" selected>' in r.text  # the choice is kept
    r = pair(planner, k, unit_id="")
    assert r.status_code == 422 and pair_error(r.text, "unit_id")
    assert pair(planner, k, unit_id=str(campaign.units["a"])).status_code == 303
    # a second pairing over the same days: 409, with the unit that helps the compound then
    r = pair(
        planner, k, unit_id=str(campaign.units["b"]), valid_from=(today() + timedelta(days=5)).isoformat()
    )
    assert r.status_code == 409
    holders = re.findall(r'<li class="holder" data-unit="(\d+)">([^<]*)', r.text)
    assert holders and holders[0][0] == str(campaign.units["a"]) and campaign.unit_names["a"] in holders[0][1]
    assert campaign.unit_names["a"] in pair_error(r.text, "valid_from")
    # the pairing ends today; the next one from tomorrow goes through, and the history keeps both
    helper = re.search(r'action="/compound-helpers/(\d+)/end"', r.text).group(1)
    end = planner.post(
        f"/compound-helpers/{helper}/end",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": csrf(planner, f"/compounds/{k}"), "valid_to": today().isoformat()},
    )
    assert end.status_code == 303
    again = pair(
        planner, k, unit_id=str(campaign.units["b"]), valid_from=(today() + timedelta(days=1)).isoformat()
    )
    assert again.status_code == 303
    page = planner.get(f"/compounds/{k}", headers=HTML).text
    history = re.findall(r'<li data-helper="\d+"[^>]*>([^·]*)·', page)
    assert [h.strip() for h in history] == [campaign.unit_names["a"], campaign.unit_names["b"]]
    bad_end = planner.post(
        f"/compound-helpers/{helper}/end",
        headers=HTML,
        data={"csrf_token": csrf(planner, f"/compounds/{k}"), "valid_to": "1800-01-01"},
    )
    assert bad_end.status_code == 422 and error_beside(bad_end.text, "end-valid_to")
    # unit accounts get neither the pairing form nor its post
    assert (
        as_user("unit_a")
        .post(
            f"/compounds/{k}/helpers",
            headers=HTML,
            data={"csrf_token": csrf(as_user("unit_a")), "unit_id": "1", "valid_from": today().isoformat()},
        )
        .status_code
        == 403
    )


def add_task(c, compound: int, before=(), after=(), **fields: str):
    data = {
        "csrf_token": csrf(c, f"/compounds/{compound}"),
        "kind": "greening",
        "title": "补种绿篱",
        "done_on": (today() - timedelta(days=1)).isoformat(),
        "note": "",
        **fields,
    }
    files = [("before", (f"b{i}.jpg", jpeg(colour), "image/jpeg")) for i, colour in enumerate(before)] + [
        ("after", (f"a{i}.jpg", jpeg(colour), "image/jpeg")) for i, colour in enumerate(after)
    ]
    return c.post(
        f"/compounds/{compound}/tasks", data=data, files=files or None, headers=HTML, follow_redirects=False
    )


def test_tasks_with_photos_before_and_after_for_the_helper_unit_only(as_user, campaign):
    unit_a, unit_b = as_user("unit_a"), as_user("unit_b")
    k = campaign.compound
    r = add_task(unit_a, k, kind="painting", title="保留的事项")
    assert r.status_code == 422 and error_beside(r.text, "task-kind") and 'value="保留的事项"' in r.text
    r = add_task(unit_a, k, done_on=(today() - timedelta(days=60)).isoformat())
    assert r.status_code == 422 and "no helper unit" in error_beside(r.text, "task-done_on")
    r = add_task(unit_a, k, before=["grey"], after=["green", "yellow"], kind="beautify", note="墙面粉刷")
    assert r.status_code == 303, r.text[:800]
    task = re.search(r"#task-(\d+)", r.headers["location"]).group(1)
    page = unit_a.get(f"/compounds/{k}", headers=HTML).text
    stages = re.findall(
        rf'<li data-stage="(\w+)"><a href="(/compound-tasks/{task}/photos/[0-9a-f]{{64}})">', page
    )
    assert sorted(s for s, _ in stages) == ["after", "after", "before"]
    assert "美化" in page and "墙面粉刷" in page
    url = stages[0][1]
    for c in (unit_a, as_user("planner"), as_user("viewer")):
        assert c.get(url + "/thumbnail").status_code == 200
    assert unit_b.get(url).status_code == 404  # another unit does not read the task
    assert f'data-task="{task}"' not in unit_b.get(f"/compounds/{k}", headers=HTML).text
    # another unit cannot record in a compound it does not help (row-level security)
    assert 'class="edit task-form"' not in unit_b.get(f"/compounds/{k}", headers=HTML).text
    refused = add_task(unit_b, k)
    assert refused.status_code == 403 and "does not help this compound" in refused.text


def upload(c, features: list[dict]):
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    return c.post(
        "/compounds/import",
        headers=HTML,
        data={"csrf_token": csrf(c, "/compounds/new")},
        files={"file": ("k.geojson", content, "application/geo+json")},
    )


def square(x: float, y: float, size: float = 0.001) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]],
    }


def test_upload_all_or_nothing_and_the_overlaps(as_user, campaign, database_url):
    planner = as_user("planner")
    x, y = campaign.x0, campaign.y0 + 0.01
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + 0.001, y + 0.001], [x + 0.001, y], [x, y + 0.001], [x, y]]],
    }
    bad = upload(
        planner,
        [
            {
                "type": "Feature",
                "properties": {"name": "好", "ref": f"{campaign.tag}-u1"},
                "geometry": square(x, y),
            },
            {
                "type": "Feature",
                "properties": {"name": "", "ref": f"{campaign.tag}-u2"},
                "geometry": square(x, y),
            },
            {"type": "Feature", "properties": {"name": "坏", "management": "nobody"}, "geometry": bowtie},
        ],
    )
    assert bad.status_code == 422
    problems = re.findall(r'<tr data-row="(\d*)" data-field="(\w+)">', bad.text)
    assert ("2", "name") in problems and ("3", "management") in problems and ("3", "geometry") in problems
    with psycopg.connect(database_url) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM compound WHERE ref LIKE %s", [f"{campaign.tag}-u%"]
            ).fetchone()[0]
            == 0
        )
    good = upload(
        planner,
        [
            {
                "type": "Feature",
                "properties": {"name": "东院", "ref": f"{campaign.tag}-u1"},
                "geometry": square(x, y),
            },
            {
                "type": "Feature",
                "properties": {"name": "西院", "ref": f"{campaign.tag}-u2"},
                "geometry": square(x + 0.0005, y),
            },
        ],
    )
    assert good.status_code == 201 and 'data-imported="2"' in good.text
    overlaps = planner.get("/compounds/overlaps", headers=HTML).text
    ids = [int(i) for i in re.findall(r'/compounds/(\d+)">(?:东院|西院)', good.text)]
    assert f'data-pair="{min(ids)}-{max(ids)}"' in overlaps
    assert as_user("unit_a").get("/compounds/new", headers=HTML).status_code == 403
    assert (
        as_user("unit_a")
        .post(
            "/compounds/import",
            headers=HTML,
            data={"csrf_token": csrf(as_user("unit_a"))},
            files={"file": ("k.geojson", b"{}", "application/geo+json")},
        )
        .status_code
        == 403
    )


WIDE = """() => Array.from(document.querySelectorAll('main *'))
    .filter(e => e.getBoundingClientRect().right > window.innerWidth)
    .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))
    .slice(0, 8)"""


@pytest.fixture(scope="module")
def base_url(app, street, serve_app) -> Iterator[str]:
    with serve_app(app) as url:
        yield url


def test_a_unit_account_records_a_task_with_photos_on_a_phone(browser, base_url, campaign, tmp_path):
    t = Tab(browser, "phone")
    try:
        from tests.workbench.conftest import PASSWORD

        sign_in(t, base_url, campaign.users["unit_a"], PASSWORD)
        t.page.goto(f"{base_url}/compounds/{campaign.compound}", wait_until="load")
        t.wait("() => document.getElementById('compound-map').getAttribute('data-drawn') === '1'")
        assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), t.js(WIDE)
        before, after = tmp_path / "before.jpg", tmp_path / "after.jpg"
        before.write_bytes(jpeg("grey"))
        after.write_bytes(jpeg("green"))
        t.page.select_option("#f-kind", "lighting")
        t.page.fill("#f-title", "安装路灯")
        t.page.fill("#f-task-note", "楼道口两盏")
        t.page.set_input_files("#f-before", str(before))
        t.page.set_input_files("#f-after", str(after))
        t.page.click("#task-save")
        t.page.wait_for_url(re.compile(r".*/compounds/\d+#task-\d+"), timeout=60_000)
        assert urlparse(t.page.url).path == f"/compounds/{campaign.compound}"
        task = t.page.locator("li[data-kind=lighting]").first
        assert "安装路灯" in task.text_content()
        stages = t.js(
            "() => Array.from(document.querySelectorAll('li[data-kind=lighting] li[data-stage]'))"
            ".map(e => e.getAttribute('data-stage'))"
        )
        assert sorted(stages) == ["after", "before"]
        t.wait(
            "() => Array.from(document.querySelectorAll('li[data-kind=lighting] img'))"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        t.shot("compound-task-phone")
        t.clean()
    finally:
        t.context.close()
