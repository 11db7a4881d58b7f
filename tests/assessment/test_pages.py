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
    assert len(re.findall(r'data-figure="', page.text)) == 12
    assert 'data-value="1"' in page.text  # the 道德讲堂
    assert 'class="gap-mark"' in page.text and "freeze-form" in page.text
    # the JSON API answers the same path for everyone else
    assert api.get(f"/communities/{a}/assessment/{q}", headers=as_user("admin")).json()["measured"] == 12


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
