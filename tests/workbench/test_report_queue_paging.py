"""举报待办 is paged (?page=, 50 a page) with the whole queue's count shown, so no open report is hidden
past a fixed cut; the report page links to the 曝光台 publish page for a closed report only where the
user may publish it (no link leads to a 403)."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest

from api.workbench.reports_queue import QUEUE_SHOWN
from gis.access import accounts
from gis.reports.file import NewReport, file_reports

HTML = {"Accept": "text/html"}
FILED = 120  # more than two pages


@pytest.fixture(scope="module")
def filed(database_url, street) -> list[int]:
    """FILED reports in the street's first grid, by its reporter; the last one closed."""
    with psycopg.connect(database_url) as c:
        x, y = c.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
                         " WHERE code = %s) g", [street.grid]).fetchone()
        c.execute("SELECT set_config('gridmap.user_id', %s, true)",
                  [str(accounts.user_id(c, street.users["reporter"]))])
        ids = [i for i, _new in file_reports(c, [NewReport("noise", x, y, client_id=uuid.uuid4().hex)
                                                  for _ in range(FILED)])]
        c.execute("UPDATE report SET state = 'closed' WHERE id = %s", [ids[-1]])
        c.commit()
    return ids


def _open_ids(database_url: str) -> set[int]:
    with psycopg.connect(database_url) as c:
        return {r[0] for r in c.execute("SELECT r.id FROM report r JOIN report_state s ON s.code = r.state"
                                        " WHERE s.open")}


def _shown(text: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="report-row[^"]*" data-report="(\d+)"', text)]


def test_every_open_report_is_on_some_page_and_the_total_is_shown(signed_in, filed, database_url):
    admin = signed_in("admin")
    expected = _open_ids(database_url)
    assert len(expected) >= FILED - 1
    first = admin.get("/reports/queue", headers=HTML)
    assert first.status_code == 200
    total = int(re.search(r'id="queue-total" data-total="(\d+)"', first.text).group(1))
    pages = int(re.search(r'data-pages="(\d+)"', first.text).group(1))
    assert total == len(expected) and pages == -(-total // QUEUE_SHOWN) >= 3
    assert f"共 {total} 件" in first.text
    seen: list[int] = []
    url = "/reports/queue"
    for number in range(1, pages + 1):
        page = admin.get(url, headers=HTML).text
        rows = _shown(page)
        assert len(rows) == (QUEUE_SHOWN if number < pages else total - QUEUE_SHOWN * (pages - 1))
        seen += rows
        found = re.search(r'<a class="button" rel="next" href="([^"]+)"', page)
        if number < pages:
            url = found.group(1).replace("&amp;", "&")
            assert f"page={number + 1}" in url
        else:
            assert found is None and 'rel="prev"' in page
    assert len(seen) == len(set(seen)) and set(seen) == expected
    assert filed[-1] not in seen  # the closed one is no longer in the queue


def test_the_pages_keep_the_filter_and_a_page_past_the_end_is_the_last(signed_in, filed):
    admin = signed_in("admin")
    page = admin.get("/reports/queue", params={"state": "new", "page": 2}, headers=HTML).text
    assert 'href="/reports/queue?state=new&amp;page=1"' in page
    last = admin.get("/reports/queue", params={"page": 999}, headers=HTML)
    assert last.status_code == 200 and 'rel="next"' not in last.text and _shown(last.text)
    assert admin.get("/reports/queue", params={"page": 0}, headers=HTML).status_code == 422


def test_the_closed_report_links_to_its_publish_page_for_admins_over_it(signed_in, filed):
    closed, still_open = filed[-1], filed[0]
    for name in ("admin", "street_admin"):
        page = signed_in(name).get(f"/reports/{closed}", headers=HTML).text
        link = re.search(r'<a class="button" id="report-publish" href="([^"]+)"', page)
        assert link is not None and link.group(1) == f"/reports/{closed}/exposure", name
        assert signed_in(name).get(link.group(1), headers=HTML).status_code == 200
        assert 'id="report-publish"' not in signed_in(name).get(f"/reports/{still_open}", headers=HTML).text
    for name in ("viewer", "worker", "reporter"):  # they read the report but may not publish it
        page = signed_in(name).get(f"/reports/{closed}", headers=HTML)
        assert page.status_code == 200, name
        assert 'id="report-publish"' not in page.text, name
