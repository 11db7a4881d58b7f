"""The 考核 pages (api/workbench/assessment.py) as a browser gets them: the quarter overview, a
community's quarter page with its figures, gap marks and freeze button, the evidence form with the
API's words beside the field (422) and the freeze form."""

from __future__ import annotations

import re

HTML = {"Accept": "text/html"}


def test_the_overview_and_the_quarter_page(api, as_user, world, demo_sheet) -> None:
    q, a = demo_sheet["quarter"], world["a"]
    page = api.get("/assessment", headers=as_user("admin") | HTML)
    assert page.status_code == 200 and f'href="/communities/{a}/assessment/{q}"' in page.text
    assert "/assessment/gaps.xlsx?quarter=" in page.text
    page = api.get(f"/communities/{a}/assessment/{q}", headers=as_user("admin") | HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert len(re.findall(r'<tr data-item="', page.text)) == 30
    assert len(re.findall(r'data-figure="', page.text)) == 14
    assert 'data-value="1"' in page.text  # the 道德讲堂
    assert 'class="gap-mark"' in page.text and "freeze-form" in page.text
    # the JSON API answers the same path for everyone else
    assert api.get(f"/communities/{a}/assessment/{q}", headers=as_user("admin")).json()["measured"] == 14


def test_a_grid_worker_sees_dashes_not_her_part_as_the_community(api, as_user, world, demo_sheet) -> None:
    q, a = demo_sheet["quarter"], world["a"]
    page = api.get(f"/communities/{a}/assessment/{q}", headers=as_user("worker") | HTML)
    assert page.status_code == 200
    figures = re.findall(r'data-figure="[a-z_]+" data-value="[^"]*"[^>]*>(.*?)</tr>', page.text, re.S)
    assert figures and all("—" in row for row in figures)
    assert "freeze-form" not in page.text  # not an admin
    assert api.get(f"/communities/{world['b']}/assessment/{q}", headers=as_user("worker") | HTML
                   ).status_code == 403


def test_the_evidence_form_refuses_beside_the_field_then_records(api, as_user, world, demo_sheet) -> None:
    q, a = demo_sheet["quarter"], world["a"]
    form = api.get(f"/communities/{a}/assessment/{q}/evidence/new", headers=as_user("worker") | HTML)
    assert form.status_code == 200 and 'name="file"' in form.text and 'name="csrf_token"' in form.text
    url = f"/communities/{a}/assessment/{q}/evidence"
    refused = api.post(url, headers=as_user("worker") | HTML, data={"title": "台账", "record_kind": "visit",
                                                                    "record_id": "x"},
                       files={"file": ("台账.csv", b"a,b\n", "text/csv")}, follow_redirects=False)
    assert refused.status_code == 422
    assert re.search(r'id="x-record">[^<]*record', refused.text) and 'value="台账"' in refused.text
    done = api.post(url, headers=as_user("worker") | HTML, data={"title": "走访台账", "item_no": "5"},
                    files={"file": ("台账.csv", "户,日期\n1,2026-01-02\n".encode(), "text/csv")},
                    follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("#evidence")
    page = api.get(f"/communities/{a}/assessment/{q}", headers=as_user("admin") | HTML)
    assert "走访台账" in page.text


def test_the_freeze_button_freezes_once_and_links_the_bundle(api, as_user, world, demo_sheet) -> None:
    q, a = demo_sheet["quarter"], world["a"]
    done = api.post(f"/communities/{a}/assessment/{q}/freeze", headers=as_user("admin") | HTML,
                    data={"csrf_token": ""}, follow_redirects=False)
    assert done.status_code == 303, done.text
    page = api.get(done.headers["location"], headers=as_user("admin") | HTML)
    assert 'class="frozen"' in page.text and "freeze-form" not in page.text
    bundle = re.search(r'href="(/assessment/freezes/\d+/bundle\.zip)"', page.text)
    assert bundle and api.get(bundle.group(1), headers=as_user("admin")).status_code == 200


def _workbook(rows: list[list]) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_sheet_import_form_lists_every_bad_row_then_imports_all_or_nothing(
        api, as_user, world, admin_token, database_url) -> None:
    import psycopg

    from gis.demo.scoring import demo_sheet_xlsx

    street_admin = {"Authorization": f"Bearer {admin_token}"} | HTML
    overview = api.get("/assessment?quarter=2031Q2", headers=street_admin)
    assert 'href="/assessment/sheets/new?quarter=2031Q2"' in overview.text
    # a community's admin imports no street's sheet: no link that would end in a refusal
    assert "/assessment/sheets/new" not in api.get("/assessment", headers=as_user("admin") | HTML).text
    assert api.get("/assessment/sheets/new", headers=as_user("worker") | HTML).status_code == 403
    form = api.get("/assessment/sheets/new?quarter=2031Q2", headers=street_admin)
    assert form.status_code == 200 and 'name="file"' in form.text and 'value="2031Q2"' in form.text
    assert 'name="csrf_token"' in form.text and 'type="submit"' in form.text
    fields = {"quarter": "2031Q2", "scope": world["street"], "title": "二季度考核"}
    bad = _workbook([["序号", "类别", "考核内容", "分值", "考核方式", "系统指标", "目标"],
                     [1, "组织", "领导小组", "x", "查看", None, None],
                     [2, "网格", "走访", 3, "系统", "no_such_figure", ">=1"]])
    refused = api.post("/assessment/sheets", headers=street_admin, data=fields,
                       files={"file": ("细则.xlsx", bad, "application/octet-stream")}, follow_redirects=False)
    assert refused.status_code == 422
    assert re.search(r'data-row="2" data-field="分值">.*?a number of points', refused.text, re.S)
    assert re.search(r'data-row="3" data-field="系统指标">.*?no live figure', refused.text, re.S)
    assert 'value="二季度考核"' in refused.text and 'aria-describedby="x-file"' in refused.text
    with psycopg.connect(database_url) as owner:
        stored = owner.execute("SELECT count(*) FROM assessment_sheet WHERE quarter = '2031Q2'").fetchone()
    assert stored == (0,)
    done = api.post("/assessment/sheets", headers=street_admin, data=fields,
                    files={"file": ("细则.xlsx", demo_sheet_xlsx(), "application/octet-stream")},
                    follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].startswith("/assessment?quarter=2031Q2#sheet-")
    listed = api.get(done.headers["location"], headers=street_admin)
    assert "二季度考核" in listed.text
    again = api.post("/assessment/sheets", headers=street_admin, data=fields,
                     files={"file": ("细则.xlsx", demo_sheet_xlsx(), "application/octet-stream")},
                     follow_redirects=False)
    assert again.status_code == 409 and "imported already" in again.text
    # the JSON API still answers a script at the same path
    script = api.post("/assessment/sheets", headers={"Authorization": f"Bearer {admin_token}"},
                      data=fields | {"quarter": "2031Q3"},
                      files={"file": ("细则.xlsx", bad, "application/octet-stream")})
    assert script.status_code == 422 and script.headers["content-type"].startswith("application/json")


def test_the_quarter_link_of_a_community(world) -> None:
    """quarter_link: what a community's pages show, only to those who may read the quarter page."""
    from api.workbench.assessment import quarter_link
    from gis.access.accounts import Grant, Principal
    from gis.assessment.figures import today
    from gis.assessment.quarters import of_day

    def user(role: str, scope: str) -> Principal:
        return Principal(1, "u", (Grant(role, scope),))

    found = quarter_link(user("admin", world["a"]), world["a"])
    assert found is not None and found.href == f"/communities/{world['a']}/assessment/{of_day(today())}"
    assert quarter_link(user("viewer", world["street"]), world["a"]) is not None
    assert quarter_link(user("unit", world["a"]), world["a"]) is None
    assert quarter_link(user("admin", world["b"]), world["a"]) is None
