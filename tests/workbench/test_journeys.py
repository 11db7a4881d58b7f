"""The issue's journeys, end to end in headless Chromium with the network cut, at an office PC's
1366×768 and a phone's 390×844, through the pages' own links and forms only (no URL typed after
signing in, except the map and the export a user opens from a bookmark):

- the grid worker signs in, finds a household by the name of its head, changes its phone, adds a
  person, tags a key person, and sees the change on her grid map (the key-person layer's count) and
  in the register export (the workbook read with openpyxl);
- an admin of the street adds a grid worker with her first grid and grants her a second one; the new
  worker signs in and finds both grids on her home page. The admin's import of a households CSV with
  one bad row (the row's error shown, nothing imported, then fixed and imported) is the browser journey
  of tests/workbench/test_imports_pages.py (test_the_import_journey_in_a_browser_with_its_progress_script).

Every step is checked against the database read as its owner, not against the pages themselves.
"""

from __future__ import annotations

import io
import re
import uuid
from urllib.parse import urlparse

import openpyxl
import psycopg
import pytest

from tests.workbench.test_browser import SIZES, base_url, sign_in, tab  # noqa: F401 (fixtures)

NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def owner(database_url: str, query: str, params: list) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


def key_person_count(t) -> int:
    """The count in the grid map's layer control entry of key persons (重点人员 n 人)."""
    labels = t.js("() => Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
                  ".map(l => l.textContent.trim())")
    found = [m for label in labels if (m := re.match(r"重点人员 (\d+) 人", label))]
    assert len(found) == 1, labels
    return int(found[0].group(1))


def open_grid_map(t, base: str, grid: str) -> None:
    t.page.goto(f"{base}/maps/grids/{grid}", wait_until="load")
    t.wait("() => document.querySelector('.leaflet-control-layers-overlays label') !== null")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_grid_workers_day(tab, base_url, street, password, database_url, size):  # noqa: F811
    # a household of her grid whose head's name is its own in the grid (the search finds one)
    household, head = owner(database_url, """
        SELECT h.id, p.name FROM household h JOIN person p ON p.household_id = h.id AND p.relation = 'head'
        WHERE h.grid_code = %s
          AND NOT EXISTS (SELECT 1 FROM person o JOIN household oh ON oh.id = o.household_id
                          WHERE o.name = p.name AND o.id <> p.id)
        ORDER BY h.id LIMIT 1 OFFSET %s""", [street.grid, 0 if size == "pc" else 1])[0]
    t = tab(size)
    sign_in(t, base_url, street.users["worker"], password)
    open_grid_map(t, base_url, street.grid)
    before = key_person_count(t)
    assert before == owner(database_url, """
        SELECT count(*) FROM key_person k JOIN person p ON p.id = k.person_id
        JOIN household h ON h.id = p.household_id WHERE h.grid_code = %s""", [street.grid])[0][0]
    t.page.goto(base_url + "/", wait_until="load")

    # find the household by the head's name, from the menu
    with t.page.expect_navigation():
        t.page.click("nav.menu a[href='/households']")
    t.page.fill("input[type=search][name=q]", head)
    with t.page.expect_navigation():
        t.page.click("form.search button[type=submit]")
    with t.page.expect_navigation():
        t.page.click(f".results a[href='/households/{household}']")

    # change the head's phone
    phone = "1391234" + ("0001" if size == "pc" else "0002")
    t.page.fill("form.edit input[name=phone]", phone)
    with t.page.expect_navigation():
        t.page.click("form.edit button[type=submit]")
    assert urlparse(t.page.url).path == f"/households/{household}"
    assert owner(database_url, "SELECT phone FROM person WHERE household_id = %s AND relation = 'head'",
                 [household]) == [(phone,)]

    # add a person (a child of the head)
    name = f"旅程{uuid.uuid4().hex[:4]}"
    with t.page.expect_navigation():
        t.page.click("a.add-person")
    t.page.fill("form.person input[name=name]", name)
    t.page.select_option("form.person select[name=relation]", "child")
    t.page.fill("form.person input[name=birth_date]", "2010-05-06")
    assert t.js(NO_SIDEWAYS), "the person form scrolls sideways"
    t.shot(f"journey-worker-add-person-{size}")
    with t.page.expect_navigation():
        t.page.click("form.person button[type=submit]")
    assert urlparse(t.page.url).path == f"/households/{household}"
    (person,) = owner(database_url, "SELECT id FROM person WHERE household_id = %s AND name = %s",
                      [household, name])[0]

    # tag the new person a key person (重点人员)
    with t.page.expect_navigation():
        t.page.click(f"a.edit-person[href='/persons/{person}/edit']")
    options = t.js("() => Array.from(document.querySelectorAll('select[name=key_person] option'))"
                   ".map(o => [o.value, o.textContent.trim()])")
    category, category_name = next((v, label) for v, label in options if v)
    t.page.select_option("form.person select[name=key_person]", category)
    with t.page.expect_navigation():
        t.page.click("form.person button[type=submit]")
    assert urlparse(t.page.url).path == f"/households/{household}"
    tagged = owner(database_url, "SELECT category FROM key_person WHERE person_id = %s", [person])
    assert tagged == [(category,)]
    assert category_name in t.page.locator("table.members").text_content()
    t.shot(f"journey-worker-household-{size}")

    # the grid map counts her one more key person
    open_grid_map(t, base_url, street.grid)
    assert key_person_count(t) == before + 1
    assert t.js(NO_SIDEWAYS)

    # and the register export (as her browser downloads it) has the person with the tag
    r = t.context.request.get(f"{base_url}/grids/{street.grid}/register.xlsx")
    assert r.status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.body()), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row and "姓名 Name" in row)
    columns = rows[header]
    mine = [row for row in rows[header + 1:] if row[columns.index("人员编号 Person")] == person]
    assert len(mine) == 1 and mine[0][columns.index("姓名 Name")] == name
    assert mine[0][columns.index("重点人员 Key person")] in (category, category_name)
    t.clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_admin_adds_a_grid_worker_and_grants_a_grid(tab, base_url, street, password, database_url,  # noqa: F811
                                                        size):
    first, second = [r[0] for r in owner(database_url, "SELECT code FROM grid WHERE left(code, 9) = %s "
                                                        "ORDER BY code LIMIT 2", [street.street])]
    username = f"journey-{size}-{uuid.uuid4().hex[:6]}"
    new_password = "a journey's long password"
    t = tab(size)
    sign_in(t, base_url, street.users["street_admin"], password)
    with t.page.expect_navigation():
        t.page.click("nav.menu a[href='/users']")
    t.page.fill("form#add-user input[name=username]", username)
    t.page.fill("form#add-user input[name=full_name]", "旅程 网格员")
    t.page.fill("form#add-user input[name=password]", new_password)
    t.page.select_option("form#add-user select[name=role]", "grid_worker")
    t.page.select_option("form#add-user select[name=scope]", first)
    with t.page.expect_navigation():
        t.page.click("form#add-user button[type=submit]")
    assert urlparse(t.page.url).path == f"/users/{username}"
    t.page.select_option("form#grant-form select[name=role]", "grid_worker")
    t.page.select_option("form#grant-form select[name=scope]", second)
    with t.page.expect_navigation():
        t.page.click("form#grant-form button[type=submit]")
    assert t.js(NO_SIDEWAYS)
    t.shot(f"journey-admin-user-{size}")
    grants = owner(database_url, "SELECT g.role, g.scope FROM user_grant g JOIN app_user u"
                                 " ON u.id = g.user_id WHERE u.username = %s", [username])
    assert set(grants) == {("grid_worker", first), ("grid_worker", second)}
    t.clean()

    # the new grid worker signs in and finds both grids on her home page
    w = tab(size)
    sign_in(w, base_url, username, new_password)
    cards = w.page.locator("#grid-worker article").all_text_contents()
    assert any(first in c for c in cards) and any(second in c for c in cards)
    w.clean()
