"""The roster page (值守排班) in headless Chromium on a 390 px phone, signed in as a unit's account by its
cookie: no sideways scroll, tap targets of at least 40 px, and a day recorded through its form (CSRF
field, a photo) shows as done; nothing is fetched off the machine and no script error occurs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from PIL import Image

from gis.duties import duties


@pytest.fixture(scope="module")
def base_url(settings, serve_app) -> Iterator[str]:
    from api.app import create_app

    with serve_app(create_app(settings)) as url:
        yield url


def test_a_unit_records_a_day_on_the_phone(browser, base_url, api, as_user, world, tmp_path):
    today = duties.today()
    last_week = (today - timedelta(days=7)).isoformat()
    r = api.post(
        "/duties",
        headers=as_user("planner"),
        json={
            "name": "手机值守",
            "unit_id": world["units"]["a"],
            "recurrence": "weekly",
            "weekday": today.isoweekday(),
            "lon": 113.21,
            "lat": 25.905,
            "post_name": "路口",
            "valid_from": (today - timedelta(days=7)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    duty = r.json()["id"]
    picture = tmp_path / "p.png"
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "orange").save(out, "PNG")
    picture.write_bytes(out.getvalue())

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    host = urlparse(base_url).hostname
    context.add_cookies(
        [{"name": "gridmap_token", "value": world["tokens"]["unit_a"], "domain": host, "path": "/"}]
    )
    page = context.new_page()
    errors: list[str] = []
    blocked: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))

    def route(req) -> None:
        if urlparse(req.request.url).hostname == "127.0.0.1":
            req.continue_()
        else:
            blocked.append(req.request.url)
            req.abort()

    page.route("**/*", route)
    try:
        page.goto(base_url + "/duties/roster", wait_until="load")
        row = page.locator(f'li[data-duty="{duty}"][data-day="{last_week}"]')
        assert row.get_attribute("data-state") == "missed"
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), (
            "scrolls sideways"
        )
        small = page.evaluate("""() => [...document.querySelectorAll('.roster button, .roster select')]
            .filter(e => e.getBoundingClientRect().height < 40).length""")
        assert small == 0, "tap targets under 40 px"
        row.locator("select[name=status]").select_option("done")
        row.locator("input[name=note]").fill("到岗劝导")
        row.locator("input[type=file]").set_input_files(str(picture))
        row.locator("button[type=submit]").click()
        page.wait_for_load_state("load")
        assert urlparse(page.url).path == "/duties/roster"
        done = page.locator(f'li[data-duty="{duty}"][data-day="{last_week}"]')
        assert done.get_attribute("data-state") == "done"
        page.screenshot(path=str(tmp_path / "roster-phone.png"), full_page=True)
        assert errors == [] and blocked == []
    finally:
        context.close()
    record = api.get(f"/duties/{duty}/records", headers=as_user("planner")).json()[0]
    assert record["recorder"] == world["users"]["unit_a"] and len(record["photos"]) == 1
    assert record["note"] == "到岗劝导"
