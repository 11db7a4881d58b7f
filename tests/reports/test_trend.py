"""The monthly trend (不文明行为趋势): every figure of the statement, the page and the workbook against an
independent count in Python over the rows, the change in per cent against a year earlier, and the
drill-down lists as long as their figures."""

from __future__ import annotations

import io
import re
import uuid
from collections import Counter
from datetime import date, timedelta

import psycopg
import pytest
from openpyxl import load_workbook

from gis.reports import trend
from gis.reports.file import today
from tests.reports.conftest import ROAD_Y, X0, Y0
from tests.reports.isolation import forget_world

HTML = {"Accept": "text/html"}
SPOTS = {"g1": (X0 + 0.004, ROAD_Y + 8 / 110_700), "g2": (X0 + 0.015, Y0 + 0.002)}


@pytest.fixture(scope="module", autouse=True)
def alone(world, database_url):
    """This module's community and road are removed when it ends (tests/reports/isolation.py)."""
    yield
    forget_world(database_url, world)


def _filed(api, as_user, category: str, where: tuple[float, float]) -> int:
    r = api.post(
        "/reports",
        json={"category": category, "lon": where[0], "lat": where[1], "client_id": uuid.uuid4().hex},
        headers=as_user("reporter"),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def seed(api, as_user, world, database_url) -> None:
    """Reports spread over this window and the year before (days set as the owner: a phone may post
    only recent ones), some rejected or duplicates (not counted)."""
    if world.get("trend_seeded"):
        return
    first = trend.add_months(today().replace(day=1), -11)
    plan = []  # (category, spot, day, state)
    for i in range(40):
        month = trend.add_months(first, i % 12)
        before = i % 3 == 0
        day = trend.add_months(month, -12 if before else 0) + timedelta(days=i % 27)
        plan.append(
            (
                "noise" if i % 2 else "litter",
                "g1" if i % 5 else "g2",
                day,
                "rejected" if i % 11 == 0 else "new",
            )
        )
    ids = [_filed(api, as_user, c, SPOTS[s]) for c, s, _, _ in plan]
    with psycopg.connect(database_url) as conn:
        for rid, (_, _, day, state) in zip(ids, plan, strict=True):
            conn.execute(
                "UPDATE report SET report_day = %s, reported_at = %s::date + time '10:00',"
                " state = %s WHERE id = %s",
                [day, day, state, rid],
            )
        conn.commit()
    world["trend_seeded"] = True


def independent(database_url, community: str, level: str) -> tuple[Counter, Counter]:
    """(area, category, month) -> reports this window and a year before, counted here in Python."""
    first = trend.add_months(today().replace(day=1), -11)
    end = trend.add_months(first, 12)
    now, before = Counter(), Counter()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT report_day, category, area_code, routed_grid, state FROM report WHERE area_code = %s",
            [community],
        ).fetchall()
    for day, category, area_code, grid, state in rows:
        if state in ("duplicate", "rejected"):
            continue
        area = {"street": area_code[:9], "community": area_code, "grid": grid}[level]
        month = day.replace(day=1)
        if first <= day < end:
            now[(area, category, month)] += 1
        elif trend.add_months(first, -12) <= day < trend.add_months(end, -12):
            before[(area, category, trend.add_months(month, 12))] += 1
    return now, before


def test_the_figures_equal_an_independent_count(api, as_user, world, database_url) -> None:
    seed(api, as_user, world, database_url)
    for level in ("street", "community", "grid"):
        now, before = independent(database_url, world["community"], level)
        with psycopg.connect(database_url) as conn:  # the owner reads every report
            w = trend.window(level, today(), prefix=world["community"])
            got = trend.trend(conn, w)
        for a in got["areas"]:
            for cat, c in a["categories"].items():
                for m, cell in c["months"].items():
                    assert (cell["n"], cell["before"]) == (
                        now[(a["code"], cat, m)],
                        before[(a["code"], cat, m)],
                    )
                n = sum(v for k, v in now.items() if k[0] == a["code"] and k[1] == cat)
                b = sum(v for k, v in before.items() if k[0] == a["code"] and k[1] == cat)
                assert (c["whole"]["n"], c["whole"]["before"]) == (n, b)
                assert c["whole"]["change_pct"] == (None if b == 0 else round((n - b) * 100 / b, 1))
        o = got["overall"]["whole"]
        assert (o["n"], o["before"]) == (sum(now.values()), sum(before.values()))
        assert o["n"] > 0 and o["before"] > 0


def test_the_workbook_has_chinese_headers_and_the_same_figures(api, as_user, world, database_url) -> None:
    seed(api, as_user, world, database_url)
    r = api.get(
        "/reports/trend.xlsx",
        params={"level": "community", "area": world["community"]},
        headers=as_user("admin"),
    )
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == trend.TREND_COLUMNS
    now, before = independent(database_url, world["community"], "community")
    overall = [row for row in rows[1:] if row[1] == "全部" and row[3] == "合计"]
    assert overall[0][4:6] == (sum(now.values()), sum(before.values()))
    names = {"noise": "噪音扰民", "litter": "乱扔垃圾"}
    for (area, cat, month), n in now.items():
        found = [
            row for row in rows if row[0] == area and row[2] == names[cat] and row[3] == f"{month:%Y-%m}"
        ]
        assert found and found[0][4] == n and found[0][5] == before[(area, cat, month)]


def test_the_page_draws_the_chart_and_every_figure_drills_down_to_its_list(
    api, as_user, world, database_url
) -> None:
    seed(api, as_user, world, database_url)
    headers = {**as_user("admin"), **HTML}
    r = api.get("/reports/trend", params={"level": "grid", "area": world["community"]}, headers=headers)
    assert r.status_code == 200, r.text
    page = r.text
    assert '<svg class="chart trend-chart"' in page and "<script" not in page.split("<main>")[1]
    cells = re.findall(r'<td data-n="(\d+)" data-before="(\d+)"><a href="([^"]+)">', page)
    assert cells
    checked = 0
    for n, _, href in cells[:40]:
        if n == "0" and checked > 5:
            continue
        listing = api.get(href.replace("&amp;", "&"), headers=headers)
        assert listing.status_code == 200, href
        total = re.search(r'data-total="(\d+)"', listing.text).group(1)
        assert total == n, href
        checked += 1
    assert checked >= 5


def test_bad_parameters_are_422_naming_the_field(api, as_user) -> None:
    headers = as_user("admin")
    for params, field in (
        ({"level": "county"}, "level"),
        ({"months": 13}, "months"),
        ({"month": "2026-13"}, "month"),
        ({"area": "12"}, "area"),
    ):
        r = api.get("/reports/trend.xlsx", params=params, headers=headers)
        assert r.status_code == 422 and field in r.text, (params, r.text)
    assert api.get("/reports/trend", headers=as_user("reporter")).status_code == 403


def test_change_in_per_cent() -> None:
    assert trend.change_pct(5, 10) == -50.0 and trend.change_pct(3, 0) is None
    assert trend.add_months(date(2026, 1, 1), -12) == date(2025, 1, 1)
