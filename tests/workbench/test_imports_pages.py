"""The admin's import pages (数据导入) over HTTP, as a browser uses them (Accept: text/html, the login cookie,
the forms' CSRF token): a households CSV with one bad row (UTF-8 and GBK) shows that row's problem in the
page's table and in the XLSX (read with openpyxl), imports nothing (households counted as the owner),
and imports once fixed; a mapping of non-standard headers; a field left unmapped is not imported; and
the attacks: a grid worker and grids, another user's staged upload, the CSRF token, broken files."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import psycopg
import pytest

HTML = {"accept": "text/html,application/xhtml+xml"}


class Forms(HTMLParser):
    """Every form of a page: its attributes, inputs, selects (options and the selected one) and buttons;
    and the problems table's rows (行号, 字段, 原因)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.problems: list[tuple[str, str, str]] = []
        self._select: dict | None = None
        self._option: dict | None = None
        self._cell: str | None = None
        self._row: list[str] | None = None
        self._in_problems = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({**a, "inputs": {}, "selects": [], "buttons": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"][a.get("name", "")] = a
        elif tag == "select" and self.forms:
            self._select = {"name": a.get("name"), "id": a.get("id"), "options": [], "selected": None}
            self.forms[-1]["selects"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value", ""), "label": ""}
            self._select["options"].append(self._option)
            if "selected" in a:
                self._select["selected"] = a.get("value", "")
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append(a)
        elif tag == "table" and "problems" in a.get("class", ""):
            self._in_problems = True
        elif tag == "tr" and self._in_problems:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if len(self._row) == 3:
                self.problems.append((self._row[0], self._row[1], self._row[2]))
            self._row = None
        elif tag == "table":
            self._in_problems = False

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["label"] += data
        if self._cell is not None:
            self._cell += data

    def form(self, css: str) -> dict:
        return next(f for f in self.forms if css in f.get("class", "").split())


def households(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM household").fetchone()[0]


def stored(database_url: str, refs: list[str]) -> dict[str, tuple]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT ref, address, building, grid_code FROM household WHERE ref = ANY(%s)",
                            [refs]).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def spot(database_url, street) -> tuple[float, float]:
    """A point inside the street's first grid (as the owner sees it)."""
    with psycopg.connect(database_url) as conn:
        x, y = conn.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid "
                            "WHERE code = %s) g", [street.grid]).fetchone()
    return x, y


def csv_bytes(header: list[str], rows: list[list[object]], encoding: str = "utf-8") -> bytes:
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def households_csv(spot: tuple[float, float], tag: str, bad: bool, encoding: str = "utf-8"
                   ) -> tuple[bytes, list[str]]:
    """Three households with Chinese headers; with ``bad`` the second's longitude is not a number."""
    x, y = spot
    refs = [f"{tag}-{i}" for i in range(1, 4)]
    rows = [[refs[0], "幸福路1号", "1栋", "1", "101", x, y],
            [refs[1], "幸福路2号", "2栋", "1", "102", "东经一百一十二度" if bad else x + 0.00001, y],
            [refs[2], "幸福路3号", "3栋", "2", "201", x, y + 0.00001]]
    return csv_bytes(["编号", "地址", "楼栋", "单元", "房号", "经度", "纬度"], rows, encoding), refs


def upload_form(c, layer: str | None = None) -> Forms:
    r = c.get("/imports", params={"layer": layer} if layer else None, headers=HTML)
    assert r.status_code == 200, r.text[:300]
    return Forms(r.text)


def stage(c, layer: str, name: str, content: bytes, csrf: str | None = None, **fields: str):
    csrf = csrf if csrf is not None else upload_form(c).form("upload")["inputs"]["csrf_token"]["value"]
    data = {"csrf_token": csrf, **fields} if csrf else dict(fields)
    return c.post(f"/imports/{layer}", headers=HTML, data=data, files={"file": (name, content, "text/csv")},
                  follow_redirects=False)


def staged_url(r) -> str:
    assert r.status_code == 303, (r.status_code, r.text[:500])
    location = r.headers["location"]
    assert re.fullmatch(r"/imports/\w+/staged\?upload=[\w-]{22}", location), location
    return location


def mapping_form(page: Forms) -> tuple[dict, list[tuple[str, str]]]:
    """The mapping form and what it would post: its hidden inputs and each select's chosen value."""
    form = page.form("mapping")
    data = [(name, a.get("value", "")) for name, a in form["inputs"].items() if a.get("type") == "hidden"]
    for s in form["selects"]:
        chosen = s["selected"] if s["selected"] is not None else s["options"][0]["value"]
        data.append((s["name"], chosen))
    return form, data


def post_mapping(c, layer: str, data: list[tuple[str, str]], action: str):
    # a list of pairs: the form posts ``field`` once per select
    return c.post(f"/imports/{layer}", headers={**HTML, "content-type": "application/x-www-form-urlencoded"},
                  content=_urlencoded(data + [("action", action)]), follow_redirects=False)


def _urlencoded(pairs: list[tuple[str, str]]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(pairs).encode()


def problems_xlsx(c, url: str) -> list[tuple]:
    r = c.get(url + "&view=problems.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    return [tuple("" if v is None else str(v) for v in row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_admin_imports_a_households_csv_with_one_bad_row_then_fixed(signed_in, database_url, spot, encoding):
    c = signed_in("admin")
    page = upload_form(c)
    form = page.form("upload")
    assert form["action"] == "/imports/households" and form["enctype"] == "multipart/form-data"
    assert {"csrf_token", "file"} <= set(form["inputs"])
    layer_select = page.form("choose-layer")["selects"][0]
    assert layer_select["name"] == "layer" and layer_select["selected"] == "households"
    assert ("households", "住户") in [(o["value"], o["label"]) for o in layer_select["options"]]
    before = households(database_url)
    tag = f"imp-{uuid.uuid4().hex[:6]}"
    content, refs = households_csv(spot, tag, bad=True, encoding=encoding)
    url = staged_url(stage(c, "households", "住户.csv", content))

    r = c.get(url, headers=HTML)
    assert r.status_code == 200, r.text[:500]
    page = Forms(r.text)
    # the mapping, pre-filled from the Chinese header
    selects = {s["id"]: s for s in page.form("mapping")["selects"]}
    assert selects["m-address"]["selected"] == "address=地址"
    assert selects["m-ref"]["selected"] == "ref=编号"
    assert selects["m-lon"]["selected"] == "lon=经度" and selects["m-lat"]["selected"] == "lat=纬度"
    assert selects["m-building"]["selected"] == "building=楼栋"
    assert {o["value"] for o in selects["m-unit"]["options"]} >= {"unit=", "unit=单元", "unit=地址"}
    # the dry run's problems of the whole file: row 2, its longitude; nothing written by the dry run
    assert page.problems and all(p[0] == "2" for p in page.problems), page.problems
    assert any("lon" in field for _, field, _ in page.problems)
    assert "东经一百一十二度" in " ".join(p[2] for p in page.problems)
    assert households(database_url) == before
    # the same problems in the XLSX, with Chinese headers
    sheet = problems_xlsx(c, url)
    assert sheet[0] == ("行号", "字段", "原因")
    assert sheet[1:] == page.problems
    # the preview: the first rows as mapped
    assert "幸福路1号" in r.text and "幸福路3号" in r.text

    # 导入: refused as a whole, the problems shown, nothing imported
    _, data = mapping_form(page)
    done = post_mapping(c, "households", data, "import")
    assert done.status_code == 303 and done.headers["location"] == url + "&view=result"
    result = c.get(done.headers["location"], headers=HTML)
    assert result.status_code == 200 and "没有导入任何数据" in result.text
    assert Forms(result.text).problems == page.problems
    assert households(database_url) == before and stored(database_url, refs) == {}
    assert c.get(url + "&view=status").json()["state"] == "failed"

    # fixed and uploaded again: imported, every row as the file says
    content, refs = households_csv(spot, tag, bad=False, encoding=encoding)
    url = staged_url(stage(c, "households", "住户.csv", content))
    page = Forms(c.get(url, headers=HTML).text)
    assert page.problems == []
    _, data = mapping_form(page)
    done = post_mapping(c, "households", data, "import")
    result = c.get(done.headers["location"], headers=HTML)
    assert result.status_code == 200 and "已导入 3 行" in result.text, result.text[-1500:]
    assert households(database_url) == before + 3
    rows = stored(database_url, refs)
    assert {r: v[:2] for r, v in rows.items()} == {
        refs[0]: ("幸福路1号", "1栋"), refs[1]: ("幸福路2号", "2栋"), refs[2]: ("幸福路3号", "3栋")}
    assert all(v[2] for v in rows.values())  # placed in a grid
    assert c.get(url + "&view=status").json() == {"state": "imported", "done": 3, "total": 3}
    # the staged upload is spent: importing it again changes nothing
    again = post_mapping(c, "households", data, "import")
    assert again.status_code == 303 and households(database_url) == before + 3


def test_a_row_the_database_refuses_is_found_by_the_dry_run(signed_in, database_url, spot):
    """The dry run is the import itself: a ref already stored (a check only the database can make)."""
    c = signed_in("admin")
    with psycopg.connect(database_url) as conn:
        existing = conn.execute("SELECT ref FROM household WHERE ref IS NOT NULL LIMIT 1").fetchone()[0]
    x, y = spot
    content = csv_bytes(["ref", "address", "lon", "lat"], [[f"new-{uuid.uuid4().hex[:6]}", "一号路", x, y],
                                                           [existing, "二号路", x, y]])
    url = staged_url(stage(c, "households", "h.csv", content))
    page = Forms(c.get(url, headers=HTML).text)
    assert [(row, field) for row, field, _ in page.problems] == [("2", "编号（ref）")], page.problems
    assert "already stored" in page.problems[0][2]


def test_mapping_non_standard_headers_and_leaving_a_field_out(signed_in, database_url, spot):
    c = signed_in("admin")
    x, y = spot
    ref = f"map-{uuid.uuid4().hex[:6]}"
    content = csv_bytes(["户号", "门牌地址", "楼栋", "X坐标", "Y坐标"], [[ref, "光明街9号", "9栋", x, y]])
    url = staged_url(stage(c, "households", "ledger.csv", content))
    page = Forms(c.get(url, headers=HTML).text)
    selects = {s["id"]: s for s in page.form("mapping")["selects"]}
    assert selects["m-address"]["selected"] == "address="  # not found by itself: required, said beside it
    assert 'id="e-address"' in c.get(url, headers=HTML).text
    assert page.problems  # the required address and the location are missing
    hidden, _ = mapping_form(page)
    data = [("csrf_token", hidden["inputs"]["csrf_token"]["value"]),
            ("upload", hidden["inputs"]["upload"]["value"]),
            ("field", "ref=户号"), ("field", "address=门牌地址"), ("field", "lon=X坐标"),
            ("field", "lat=Y坐标"),
            ("field", "building=")]  # 楼栋 would match by itself: left out, it is not imported
    preview = post_mapping(c, "households", data, "preview")
    assert preview.status_code == 303 and preview.headers["location"] == url
    page = Forms(c.get(url, headers=HTML).text)
    selects = {s["id"]: s for s in page.form("mapping")["selects"]}
    assert selects["m-address"]["selected"] == "address=门牌地址"
    assert selects["m-building"]["selected"] == "building="
    assert page.problems == []
    _, data = mapping_form(page)
    result = c.get(post_mapping(c, "households", data, "import").headers["location"], headers=HTML)
    assert result.status_code == 200
    assert stored(database_url, [ref])[ref][:2] == ("光明街9号", None)
    # a column that is not in the file is refused beside its field
    url2 = staged_url(stage(c, "households", "ledger.csv", content))
    upload2 = url2.rsplit("=", 1)[1]
    bad = [("csrf_token", data[0][1]), ("upload", upload2), ("field", "address=没有这一列")]
    r = post_mapping(c, "households", bad, "preview")
    assert r.status_code == 422 and "is not in the file" in r.text


def test_a_grid_worker_cannot_stage_grids(signed_in, spot):
    c = signed_in("worker")
    page = upload_form(c)
    layers = [o["value"] for o in page.form("choose-layer")["selects"][0]["options"]]
    assert "households" in layers and "persons" in layers
    assert not {"grids", "communities", "buildings", "grid_workers", "schools", "roads"} & set(layers)
    csrf = page.form("upload")["inputs"]["csrf_token"]["value"]
    content = b"code,name,wkt\n431003001001099,x,POINT(1 1)\n"
    r = stage(c, "grids", "g.csv", content, csrf=csrf)
    assert r.status_code == 403
    assert c.get("/imports", params={"layer": "grids"}, headers=HTML).status_code == 403
    assert c.get("/imports/grids/staged", headers=HTML).status_code == 403
    viewer = signed_in("viewer")
    assert viewer.get("/imports", headers=HTML).status_code == 403
    assert 'href="/imports"' not in viewer.get("/").text and 'href="/imports"' in c.get("/").text


def test_another_user_cannot_read_a_staged_upload(signed_in, spot, app):
    owner, other = signed_in("admin"), signed_in("street_admin")
    content, _ = households_csv(spot, f"own-{uuid.uuid4().hex[:6]}", bad=True)
    url = staged_url(stage(owner, "households", "secret.csv", content))
    assert owner.get(url, headers=HTML).status_code == 200
    for view in ("", "&view=status", "&view=problems.xlsx", "&view=result"):
        r = other.get(url + view, headers=HTML)
        assert r.status_code == 404 and "幸福路" not in r.text, (view, r.status_code)
    csrf = upload_form(other).form("upload")["inputs"]["csrf_token"]["value"]
    upload = url.rsplit("=", 1)[1]
    theirs = [("csrf_token", csrf), ("upload", upload), ("field", "address=地址")]
    r = post_mapping(other, "households", theirs, "import")
    assert r.status_code == 404
    # nor through another layer's path, a malformed id, or a path
    assert owner.get(url.replace("/households/", "/persons/"), headers=HTML).status_code == 404
    for bad in ("../../etc", "x" * 22, "%2e%2e%2f" * 3):
        assert owner.get(f"/imports/households/staged?upload={bad}", headers=HTML).status_code == 404
    # the file sits under the owner's own folder, not under any static path
    root = Path(app.state.settings.data_dir) / "staged-imports"
    assert list(root.glob(f"*/{upload}/file/secret.csv"))
    assert owner.get(f"/static/workbench/../staged-imports/{upload}").status_code == 404


def test_missing_or_wrong_csrf_token_is_refused(signed_in, spot, app):
    c = signed_in("admin")
    root = Path(app.state.settings.data_dir) / "staged-imports"
    before = sorted(root.glob("*/*")) if root.exists() else []
    content, _ = households_csv(spot, "csrf", bad=False)
    missing = stage(c, "households", "h.csv", content, csrf="")
    assert missing.status_code in (401, 403)
    wrong = stage(c, "households", "h.csv", content, csrf="0" * 64)
    assert wrong.status_code == 403
    assert (sorted(root.glob("*/*")) if root.exists() else []) == before  # nothing staged


@pytest.mark.parametrize(("name", "content", "words"), [
    ("broken.xlsx", b"PK\x03\x04 this is no workbook", "broken.xlsx"),
    ("binary.csv", bytes(range(256)) * 4, "binary.csv"),
    ("empty.csv", b"", "empty.csv"),
    ("points.geojson", b'{"type": "Topology"}', "points.geojson"),
    ("notes.txt", b"address\nsomewhere\n", "unknown format"),
])
def test_a_broken_file_is_a_clear_error_beside_the_field(signed_in, name, content, words):
    c = signed_in("admin")
    r = stage(c, "households", name, content)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    error = re.search(r'<span class="error" id="e-file">([^<]+)</span>', r.text)
    assert error and words in error.group(1), r.text[-2000:]


def test_a_header_only_file_stages_and_says_it_has_no_rows(signed_in):
    c = signed_in("admin")
    url = staged_url(stage(c, "households", "header.csv", "地址,经度,纬度\r\n".encode()))
    page = c.get(url, headers=HTML)
    assert page.status_code == 200
    assert [(row, field) for row, field, _ in Forms(page.text).problems] == [("—", "文件（file）")]
    assert "has no data rows" in page.text


def test_expired_uploads_are_gone(signed_in, spot, app):
    c = signed_in("admin")
    content, _ = households_csv(spot, "old", bad=False)
    url = staged_url(stage(c, "households", "h.csv", content))
    upload = url.rsplit("=", 1)[1]
    root = Path(app.state.settings.data_dir) / "staged-imports"
    meta = next(root.glob(f"*/{upload}/meta.json"))
    data = json.loads(meta.read_text())
    data["created"] = time.time() - 3 * 3600
    meta.write_text(json.dumps(data))
    assert c.get(url, headers=HTML).status_code == 404
    stage(c, "households", "h.csv", content)  # anyone's staging purges the expired
    assert not meta.parent.exists()


def test_the_import_form_has_its_progress_script_with_the_nonce(signed_in, spot):
    c = signed_in("admin")
    content, _ = households_csv(spot, "js", bad=False)
    url = staged_url(stage(c, "households", "h.csv", content))
    r = c.get(url, headers=HTML)
    nonce = re.search(r"'nonce-([^']+)'", r.headers["content-security-policy"]).group(1)
    assert f'<script nonce="{nonce}" src="/static/workbench/imports.js" defer></script>' in r.text
    form, _ = mapping_form(Forms(r.text))
    assert form["data-status"] == url + "&view=status"
    buttons = [(b.get("name"), b.get("value")) for b in form["buttons"]]
    assert buttons == [("action", "preview"), ("action", "import")]
    js = c.get("/static/workbench/imports.js")
    assert js.status_code == 200 and "eval(" not in js.text and "XMLHttpRequest" in js.text


@pytest.fixture(scope="module")
def served(app, street, serve_app) -> Iterator[str]:
    with serve_app(app) as url:
        yield url


@pytest.fixture
def chromium(browser) -> Iterator:
    """A tab of tests/workbench/test_browser.py (network cut, console errors kept) at a size."""
    pytest.importorskip("playwright.sync_api")
    from tests.workbench.test_browser import Tab

    tabs: list = []

    def make(size: str):
        tabs.append(Tab(browser, size))
        return tabs[-1]

    yield make
    for t in tabs:
        t.context.close()


@pytest.mark.parametrize("size", ["pc", "phone"])
def test_the_import_journey_in_a_browser_with_its_progress_script(chromium, served, street, password, spot,
                                                                  database_url, size):
    """Headless Chromium, network cut: the upload and the import go through imports.js (XMLHttpRequest
    posts, seen as such), the pages show the row error and then the rows imported, with no console error
    (a CSP violation is one) and nothing wider than the phone's screen."""
    from tests.workbench.test_browser import sign_in

    base_url = served
    t = chromium(size)
    xhr: list[str] = []
    t.page.on("request", lambda r: r.resource_type == "xhr" and r.method == "POST" and xhr.append(r.url))
    sign_in(t, base_url, street.users["admin"], password)
    before = households(database_url)
    tag = f"js-{size}-{uuid.uuid4().hex[:4]}"
    for bad in (True, False):
        content, refs = households_csv(spot, tag, bad=bad)
        t.page.goto(base_url + "/imports", wait_until="load")
        t.page.set_input_files("input[name=file]",
                               {"name": "住户.csv", "mimeType": "text/csv", "buffer": content})
        with t.page.expect_navigation(url="**/imports/households/staged?upload=*"):
            t.page.click("form.upload button[type=submit]")
        t.page.wait_for_load_state("load")
        assert t.js("document.documentElement.scrollWidth <= window.innerWidth + 1"), "scrolls sideways"
        rows = t.js("Array.from(document.querySelectorAll('table.problems tbody tr'))"
                    ".map(r => r.querySelector('.row-no').textContent)")
        assert rows == (["2"] if bad else []), rows
        t.shot(f"import-mapping-{'bad' if bad else 'fixed'}-{size}")
        with t.page.expect_navigation(url="**view=result"):
            t.page.click("button[value=import]")
        t.page.wait_for_load_state("load")
        text = t.page.inner_text("main")
        t.shot(f"import-{'refused' if bad else 'done'}-{size}")
        if bad:
            assert "没有导入任何数据" in text and households(database_url) == before
        else:
            assert "已导入 3 行" in text and households(database_url) == before + 3
        assert t.js("document.documentElement.scrollWidth <= window.innerWidth + 1"), "scrolls sideways"
    assert len([u for u in xhr if u.endswith("/imports/households")]) == 4, xhr  # 2 uploads, 2 imports
    t.clean()
