"""The planner's pages (创建办/城管) through their forms, as a browser uses them (the login cookie and the
form's CSRF token): several sections assigned to a unit at once, all or none, a conflict naming the
unit that holds a section and its dates, a unit's contact phone masked for a viewer, a cut previewed
(nothing saved) and then saved, the coverage report's workbook against GET /roads/coverage, and the
refusals (no CSRF token, a viewer posting, bad input beside its field). Checked as the owner with SQL;
pages read with html.parser, workbooks with openpyxl. Then the planner's journey in headless Chromium
(network cut, 1366×768 and 390×844)."""

from __future__ import annotations

import io
import os
import re
import shutil
import uuid
from datetime import date, timedelta
from html.parser import HTMLParser

import openpyxl
import psycopg
import pytest

from gis.codes import mask_phone
from gis.roads.cutting import cut_roads
from tests.conftest import CHROMIUM
from tests.workbench.test_browser import base_url, sign_in, tab  # noqa: F401 (fixtures)
from tests.workbench.test_pages import Page

HTML = {"accept": "text/html,application/xhtml+xml"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"
TODAY = date.today()


class Rows(HTMLParser):
    """Each <tr> of a page: its attributes and the text of its cells."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.rows: list[tuple[dict[str, str], list[str]]] = []
        self.items: list[str] = []  # the text of each <li> of a conflict's holders
        self._cell: list[str] | None = None
        self._li: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr":
            self.rows.append((a, []))
        elif tag in ("td", "th") and self.rows:
            self._cell = []
        elif tag == "li" and "data-section" in a:
            self._li = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "li" and self._li is not None:
            self.items.append(" ".join("".join(self._li).split()))
            self._li = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._li is not None:
            self._li.append(data)


def owner(database_url: str, query: str, params: list | None = None) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params or []).fetchall()


@pytest.fixture(scope="module")
def sections(database_url, street) -> list[tuple[int, str, float]]:
    """The demo street's roads cut at intersections (committed; a second cut changes nothing), and its
    live sections as the owner reads them: (id, code, length_m), longest first."""
    with psycopg.connect(database_url) as conn:
        cut_roads(conn, "intersections")
        conn.commit()
    rows = owner(database_url, "SELECT id, code, length_m FROM road_section WHERE retired_on IS NULL "
                               "ORDER BY length_m DESC, id")
    assert len(rows) >= 12, rows
    return rows


def free_sections(database_url: str, n: int) -> list[tuple[int, str, float]]:
    """``n`` live sections nobody holds today or later (each test takes its own)."""
    rows = owner(database_url, """
        SELECT s.id, s.code, s.length_m FROM road_section s
        WHERE s.retired_on IS NULL AND NOT EXISTS (
            SELECT 1 FROM road_section_assignment a WHERE a.section_id = s.id AND upper_inf(a.valid))
          AND NOT EXISTS (SELECT 1 FROM road_section_assignment a WHERE a.section_id = s.id
                          AND a.valid && daterange(current_date, NULL))
        ORDER BY s.id LIMIT %s""", [n])
    assert len(rows) == n, "the demo street has run out of free sections"
    return rows


def csrf(c, url: str = "/sections") -> str:
    r = c.get(url, headers=HTML)
    assert r.status_code == 200, r.text[:300]
    return Page(r.text).inputs["csrf_token"]


def new_unit(c, name: str, phone: str = "13907361234", contact: str = "张建国") -> int:
    r = c.post("/units", data={"csrf_token": csrf(c, "/units"), "name": name, "kind": "enterprise",
                               "contact": contact, "phone": phone}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    found = re.fullmatch(r"/units/(\d+)\?created=1", r.headers["location"])
    assert found, r.headers["location"]
    return int(found.group(1))


def assign(c, section_ids: list[int], unit_id: int, valid_from: date = TODAY, valid_to: date | None = None,
           duty_day: int = 5, token: str | None = None):
    data: list[tuple[str, str]] = [("csrf_token", token if token is not None else csrf(c)),
                                   ("unit_id", str(unit_id)), ("valid_from", valid_from.isoformat()),
                                   ("valid_to", valid_to.isoformat() if valid_to else ""),
                                   ("duty_day", str(duty_day))]
    data += [("section_id", str(i)) for i in section_ids]
    body = "&".join(f"{k}={v}" for k, v in data)
    return c.post("/sections/assign", content=body, follow_redirects=False,
                  headers=HTML | FORM)


def held_by(database_url: str, unit_id: int) -> set[int]:
    return {r[0] for r in owner(database_url, "SELECT section_id FROM road_section_assignment "
                                              "WHERE unit_id = %s", [unit_id])}


def test_several_sections_are_assigned_all_or_none(signed_in, sections, database_url):
    c = signed_in("planner")
    tag = uuid.uuid4().hex[:6]
    holder, newcomer = new_unit(c, f"城管中队 {tag}"), new_unit(c, f"新华书店 {tag}")
    (s1, code1, _), (s2, _, _), (s3, _, _) = free_sections(database_url, 3)
    end = TODAY + timedelta(days=90)
    r = assign(c, [s1], holder, TODAY, end, duty_day=3)
    assert r.status_code == 303 and r.headers["location"] == f"/units/{holder}#held"
    assert held_by(database_url, holder) == {s1}

    r = assign(c, [s3, s2, s1], newcomer)  # s1 is held: none of the three is assigned
    assert r.status_code == 409 and r.headers["content-type"].startswith("text/html")
    assert held_by(database_url, newcomer) == set()
    holders = Rows(r.text).items
    # the conflict in words: which unit holds which section, from when to when
    assert holders == [f"路段 {code1} 由「城管中队 {tag}」负责，{TODAY.isoformat()} 至 {end.isoformat()}。"]
    # the picks stay picked for the next try
    picked = {int(v) for v in re.findall(r'name="section_id" value="(\d+)" checked', r.text)}
    assert picked == {s1, s2, s3}

    r = assign(c, [s2, s3], newcomer, duty_day=1)  # without the held one: both
    assert r.status_code == 303
    rows = owner(database_url, "SELECT section_id, duty_day, lower(valid), upper_inf(valid) FROM "
                               "road_section_assignment WHERE unit_id = %s ORDER BY section_id", [newcomer])
    assert rows == sorted([(s2, 1, TODAY, True), (s3, 1, TODAY, True)])
    # after the holder's period the section is free for the newcomer
    assert assign(c, [s1], newcomer, end + timedelta(days=1)).status_code == 303


def test_bad_input_is_answered_beside_the_field(signed_in, sections, database_url):
    c = signed_in("planner")
    unit = new_unit(c, f"测试单位 {uuid.uuid4().hex[:6]}")
    (s1, _, _), = free_sections(database_url, 1)
    r = assign(c, [s1], unit, TODAY, TODAY - timedelta(days=1))
    assert r.status_code == 422 and 'id="e-valid_to"' in r.text and "is before valid_from" in r.text
    r = assign(c, [], unit)
    assert r.status_code == 422 and 'id="e-section_ids"' in r.text
    r = assign(c, [s1], 2**62)
    assert r.status_code == 422 and 'id="e-unit_id"' in r.text
    r = assign(c, [s1], unit, duty_day=8)
    assert r.status_code == 422 and 'id="e-duty_day"' in r.text
    body = f"csrf_token={csrf(c)}&unit_id={unit}&section_id=x&valid_from=nope"
    r = c.post("/sections/assign", content=body, headers=HTML | FORM)
    assert r.status_code == 422 and 'id="e-valid_from"' in r.text
    assert held_by(database_url, unit) == set()
    # a unit without a name, and one whose name is taken: beside the name
    r = c.post("/units", data={"csrf_token": csrf(c, "/units"), "name": " ", "kind": "shop"})
    assert r.status_code == 422 and 'id="e-name"' in r.text
    taken = owner(database_url, "SELECT name FROM responsible_unit WHERE id = %s", [unit])[0][0]
    r = c.post("/units", data={"csrf_token": csrf(c, "/units"), "name": taken, "kind": "shop"})
    assert r.status_code == 409 and 'id="e-name"' in r.text and "already exists" in r.text


def test_no_csrf_token_and_other_roles_write_nothing(signed_in, sections, database_url):
    planner = signed_in("planner")
    unit = new_unit(planner, f"无令牌 {uuid.uuid4().hex[:6]}")
    (s1, _, _), = free_sections(database_url, 1)
    r = assign(planner, [s1], unit, token="")
    assert r.status_code in (401, 403)
    for role in ("viewer", "worker", "inspector"):
        c = signed_in(role)
        token = Page(c.get("/", headers=HTML).text).inputs["csrf_token"]
        assert assign(c, [s1], unit, token=token).status_code == 403, role
        r = c.post(f"/units/{unit}/edit", data={"csrf_token": token, "name": "taken over"})
        assert r.status_code == 403, role
        r = c.post("/roads/cut?step=save", data={"csrf_token": token, "method": "intersections"})
        assert r.status_code == 403, role
    assert held_by(database_url, unit) == set()


def test_a_unit_is_edited_and_a_stale_edit_shows_both_versions(signed_in, database_url):
    c = signed_in("planner")
    unit = new_unit(c, f"环卫所 {uuid.uuid4().hex[:6]}")
    page = Page(c.get(f"/units/{unit}", headers=HTML).text)
    was = {k: v for k, v in page.inputs.items() if k.startswith("was_")}
    r = c.post(f"/units/{unit}/edit", data={"csrf_token": page.inputs["csrf_token"], **was,
                                            "name": page.inputs["name"], "kind": "government",
                                            "contact": "李四", "phone": "0736-7220000"},
               follow_redirects=False)
    assert r.status_code == 303
    assert owner(database_url, "SELECT contact, phone, kind FROM responsible_unit WHERE id = %s",
                 [unit]) == [("李四", "0736-7220000", "government")]
    # the same form again, read before that save: refused, nothing overwritten, both versions shown
    r = c.post(f"/units/{unit}/edit", data={"csrf_token": page.inputs["csrf_token"], **was,
                                            "name": page.inputs["name"], "contact": "王五"})
    assert r.status_code == 409 and 'class="conflict"' in r.text
    assert "王五" in r.text and "李四" in r.text
    assert owner(database_url, "SELECT contact FROM responsible_unit WHERE id = %s", [unit]) == [("李四",)]
    r = c.post(f"/units/{unit}/edit", data={"csrf_token": page.inputs["csrf_token"], "name": "x",
                                            "phone": "not a phone"})
    assert r.status_code == 422 and 'id="e-phone"' in r.text
    assert c.get("/units/99999999", headers=HTML).status_code == 404


def test_contact_phone_is_masked_for_a_viewer(signed_in, sections, database_url):
    planner = signed_in("planner")
    phone = "13912345678"
    unit = new_unit(planner, f"联系人单位 {uuid.uuid4().hex[:6]}", phone=phone, contact="欧阳明")
    (s1, code, _), = free_sections(database_url, 1)
    assert assign(planner, [s1], unit).status_code == 303

    def row(c) -> list[str]:
        r = c.get("/sections", params={"unit_id": unit}, headers=HTML)
        assert r.status_code == 200, r.text[-3000:]
        found = [cells for attrs, cells in Rows(r.text).rows if attrs.get("data-code") == code]
        assert len(found) == 1
        return found[0]

    mine = row(planner)
    assert phone in mine and "欧阳明" in mine
    theirs = row(signed_in("viewer"))
    assert mask_phone(phone) in theirs and "欧**" in theirs, theirs
    viewer_page = signed_in("viewer").get("/sections", params={"unit_id": unit}, headers=HTML).text
    assert phone not in viewer_page and "欧阳明" not in viewer_page and "45678" not in viewer_page
    # a filter outside the viewer's street is refused, a bad one named
    viewer = signed_in("viewer")
    assert viewer.get("/sections", params={"community_code": "999999999999"}, headers=HTML).status_code == 403
    assert viewer.get("/sections", params={"assigned": "maybe"}, headers=HTML).status_code == 422
    # a viewer reads no unit pages at all (units name contact persons and phones)
    assert signed_in("viewer").get(f"/units/{unit}", headers=HTML).status_code == 403


def test_a_cut_is_previewed_and_saved_only_when_confirmed(signed_in, database_url):
    c = signed_in("planner")
    ref = f"T{uuid.uuid4().hex[:6]}"
    with psycopg.connect(database_url) as conn:  # a bare road of about 650 m, not cut yet
        conn.execute("INSERT INTO road (ref, name, geom) SELECT %s, '试验路', ST_MakeLine("
                     "ST_Centroid(geom), ST_Translate(ST_Centroid(geom), 0.0066, 0)) FROM grid "
                     "ORDER BY code LIMIT 1", [ref])
    road_m = owner(database_url, "SELECT ST_Length(geom::geography) FROM road WHERE ref = %s", [ref])[0][0]
    count = ("SELECT count(*), coalesce(sum(s.length_m), 0) FROM road_section s "
             "JOIN road r ON r.id = s.road_id WHERE r.ref = %s AND s.retired_on IS NULL")
    form = {"csrf_token": csrf(c, "/roads/cut"), "method": "max_length", "max_length_m": "200", "roads": ref}
    r = c.post("/roads/cut?step=preview", data=form)
    assert r.status_code == 200, r.text[:500]
    pieces = [(attrs["data-code"], float(attrs["data-length-m"])) for attrs, _ in Rows(r.text).rows
              if "data-length-m" in attrs]
    assert len(pieces) == 4 and sum(m for _, m in pieces) == pytest.approx(road_m, abs=0.5)
    assert 'id="sections-map"' in r.text  # the pieces drawn
    assert owner(database_url, count, [ref]) == [(0, 0)]  # nothing saved by the preview
    fingerprint = Page(r.text).inputs["fingerprint"]

    r = c.post("/roads/cut?step=save", data=form | {"fingerprint": "stale"})
    assert r.status_code == 409 and 'id="changed"' in r.text
    assert owner(database_url, count, [ref]) == [(0, 0)]
    r = c.post("/roads/cut?step=save", data=form | {"fingerprint": fingerprint})
    assert r.status_code == 200 and 'id="saved"' in r.text
    saved = owner(database_url, "SELECT s.code, round(s.length_m::numeric, 1)::float8 FROM road_section s "
                                "JOIN road r ON r.id = s.road_id WHERE r.ref = %s AND s.retired_on IS NULL "
                                "ORDER BY s.code", [ref])
    assert saved == sorted(pieces)
    r = c.post("/roads/cut?step=preview", data=form | {"max_length_m": "5"})
    assert r.status_code == 422 and 'id="e-max_length_m"' in r.text
    r = c.post("/roads/cut?step=preview", data=form | {"method": "intersections", "roads": "NO-SUCH-ROAD"})
    assert r.status_code == 422 and 'id="e-roads"' in r.text


def test_the_coverage_workbook_is_the_api_coverage(signed_in, sections):
    c = signed_in("viewer")  # ROADS_READ: the report is for viewers too
    api = c.get("/roads/coverage").json()
    r = c.get("/roads/coverage.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("级别", "编码", "名称", "路段总长（米）", "已分配长度（米）", "覆盖率（%）", "路段数",
                       "未分配路段数")
    levels = {"全区": "total", "街道": "street", "社区": "community", "网格": "grid"}
    book = {(levels[row[0]], row[1]): row[3:] for row in rows[2:]}
    want = {("total", None): api["total"]} | {
        (level, r["key"]): r for level in ("street", "community", "grid") for r in api[level]}
    assert set(book) == set(want)
    for key, row in want.items():
        assert book[key] == (row["total_m"], row["assigned_m"], row["assigned_pct"], row["sections"],
                             row["unassigned_sections"]), key
    assert signed_in("worker").get("/roads/coverage.xlsx").status_code == 403


# --- the planner's journey in headless Chromium -----------------------------------------------------

def _map_assigned_m(t) -> float:
    """The assigned length the roads map prints in its title box (from gis.roads.coverage)."""
    t.page.goto(t.base_url + "/maps/roads", wait_until="load")
    text = t.js("() => document.body.innerText")
    found = re.search(r"已分配[^\d]*([\d,]+\.\d) m", text)
    assert found, text[:500]
    return float(found.group(1).replace(",", ""))


def _home_assigned_m(t) -> float:
    t.page.goto(t.base_url + "/", wait_until="load")
    return float(t.page.locator("#planner .coverage-total").get_attribute("data-assigned-m") or "nan")


def _api_assigned_m(t) -> float:
    r = t.context.request.get(t.base_url + "/roads/coverage")
    assert r.status == 200
    return r.json()["total"]["assigned_m"]


@pytest.mark.skipif(not shutil.which(CHROMIUM) and not os.environ.get("CI"), reason="chromium not installed")
@pytest.mark.parametrize("size", ["pc", "phone"])
def test_the_planners_journey(tab, base_url, street, password, sections, database_url, size):  # noqa: F811
    t = tab(size)
    t.base_url = base_url
    sign_in(t, base_url, street.users["planner"], password)
    tag = uuid.uuid4().hex[:6]
    other = f"已有单位 {tag}"
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO responsible_unit (name, kind) VALUES (%s, 'government')", [other])
    before = {"home": _home_assigned_m(t), "map": _map_assigned_m(t), "api": _api_assigned_m(t)}

    # a new unit, through its form
    t.page.goto(base_url + "/units", wait_until="load")
    name = f"人民银行 {tag}"
    t.page.fill("#f-name", name)
    t.page.select_option("#f-kind", "institution")
    t.page.fill("#f-contact", "陈晓红")
    t.page.fill("#f-phone", "0736-7251234")
    with t.page.expect_navigation():
        t.page.click("form.unit button[type=submit]")
    assert re.search(r"/units/\d+\?created=1$", t.page.url), t.page.url
    unit_id = int(re.search(r"/units/(\d+)", t.page.url).group(1))
    assert t.js(SIDEWAYS), "the unit's page scrolls sideways"
    t.shot(f"planner-unit-{size}")

    # three unassigned sections: one picked on the map, two in the list
    t.page.goto(base_url + "/sections?assigned=no", wait_until="load")
    t.page.wait_for_timeout(1500)
    assert t.js("() => document.getElementById('sections-map').getAttribute('data-ready')") == "1", t.errors
    ids = [int(v) for v in t.js("() => Array.from(document.querySelectorAll('input[name=section_id]'))"
                                ".slice(0, 3).map(b => b.value)")]
    assert len(ids) == 3
    t.page.locator(f"path.section-{ids[0]}").dispatch_event("click")
    assert t.page.is_checked(f"input[name=section_id][value='{ids[0]}']"), "a click on the map picks"
    for i in ids[1:]:
        t.page.check(f"input[name=section_id][value='{i}']")
    t.page.select_option("#f-unit_id", str(unit_id))
    t.page.select_option("#f-duty_day", "5")
    assert t.js(SIDEWAYS), "the sections page scrolls sideways"
    t.shot(f"planner-sections-picked-{size}")
    with t.page.expect_navigation():
        t.page.click("#assign button[type=submit]")
    assert t.page.url.endswith(f"/units/{unit_id}#held")  # the unit's page, with what it now holds
    listed = t.js("() => Array.from(document.querySelectorAll('.held-sections tr[data-section]'))"
                  ".map(r => r.getAttribute('data-section'))")
    codes = [r[0] for r in owner(database_url, "SELECT code FROM road_section WHERE id = ANY(%s) "
                                               "ORDER BY code", [ids])]
    assert sorted(listed) == codes
    assert held_by(database_url, unit_id) == set(ids)

    # the same section to another unit: the conflict in words
    t.page.goto(base_url + f"/sections?unit_id={unit_id}", wait_until="load")
    t.page.check(f"input[name=section_id][value='{ids[1]}']")
    other_id = owner(database_url, "SELECT id FROM responsible_unit WHERE name = %s", [other])[0][0]
    t.page.select_option("#f-unit_id", str(other_id))
    t.page.click("#assign button[type=submit]")
    t.page.wait_for_selector("#conflict")
    code = owner(database_url, "SELECT code FROM road_section WHERE id = %s", [ids[1]])[0][0]
    said = t.page.locator("#conflict li").all_text_contents()
    assert said == [f"路段 {code} 由「{name}」负责，{TODAY.isoformat()} 至 长期。"]
    assert held_by(database_url, other_id) == set()
    t.shot(f"planner-conflict-{size}")

    # the weekly roster, downloaded from the unit's page
    t.page.goto(base_url + f"/units/{unit_id}", wait_until="load")
    with t.page.expect_download() as download:
        t.page.click("#roster")
    assert download.value.suggested_filename == f"roster-unit-{unit_id}.xlsx"
    with open(download.value.path(), "rb") as f:
        book = openpyxl.load_workbook(io.BytesIO(f.read()))
    codes = {row[0] for row in book.active.iter_rows(min_row=5, values_only=True) if row[0]}
    want = {r[0] for r in owner(database_url, "SELECT code FROM road_section WHERE id = ANY(%s)", [ids])}
    assert want <= codes and codes - want == {"合计 Total"}

    # coverage rises by exactly the three sections' length on the page, the map and in the API
    added = owner(database_url, "SELECT sum(length_m) FROM road_section WHERE id = ANY(%s)", [ids])[0][0]
    after = {"home": _home_assigned_m(t), "map": _map_assigned_m(t), "api": _api_assigned_m(t)}
    t.page.goto(base_url + "/", wait_until="load")
    t.page.locator("#planner").scroll_into_view_if_needed()
    assert t.js(SIDEWAYS), "the home page scrolls sideways"
    t.shot(f"planner-home-{size}")
    for where in before:
        assert after[where] - before[where] == pytest.approx(added, abs=0.1), where
    assert after["home"] == after["map"] == after["api"]
    # the one console error is the browser's note of the conflict page's status (409), as it should be
    assert [e for e in t.errors if "status of 409" not in e] == [] and t.blocked == []
