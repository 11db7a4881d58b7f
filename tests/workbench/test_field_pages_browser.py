"""The field pages of issues 14 and 15 in headless Chromium with the network cut, at an office PC's
1366×768 and a phone's 390×844: the report trend (/reports/trend), the public exposure board
(/exposure, no sign-in), a closed report's publish page (/reports/{id}/exposure) and the visit policy
(/visits/policy). On each: nothing scrolls sideways, every tap target in the page is at least 40 px
high, every table is readable (it fits, or scrolls inside its own box), no console or CSP error, and
Tab walks the page's controls in reading order (no positive tabindex; each control reached once)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from gis.access import accounts
from gis.reports.file import NewReport, file_reports
from tests.workbench.test_browser import (
    SIZES,
    Tab,
    base_url,  # noqa: F401  (the served app)
    pytestmark,  # noqa: F401  (skipped without chromium)
    sign_in,
)

NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"
WIDE = """Array.from(document.querySelectorAll('main *'))
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map(e => `${e.tagName}#${e.id}.${e.className} ${e.getBoundingClientRect().right}`)"""
# The controls a finger taps: links, buttons and fields of the page's own content (visible ones).
CONTROLS = ("main a[href], main button, main input:not([type=hidden]), main select, main textarea,"
            " main summary")
SMALL = """Array.from(document.querySelectorAll('""" + CONTROLS + """'))
    .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
    .map(e => [e, e.getBoundingClientRect()])
    .filter(([e, r]) => r.height < 40 || (e.type !== 'checkbox' && r.width < 40))
    .map(([e, r]) => `${e.tagName}#${e.id} "${e.textContent.trim().slice(0, 20)}" ${r.width}x${r.height}`)
"""
# A table is readable when it fits its box, or its box scrolls sideways by itself.
TABLES = """Array.from(document.querySelectorAll('main table'))
    .filter(t => {
      const box = t.parentElement, style = getComputedStyle(box);
      const fits = t.getBoundingClientRect().right <= box.getBoundingClientRect().right + 0.5;
      const scrolls = ['auto', 'scroll'].includes(style.overflowX)
        && box.getBoundingClientRect().right <= window.innerWidth + 0.5;
      return !(fits || scrolls);
    }).map(t => t.className)"""
# ... and its cells are read whole: none holding words is squeezed under 2.5 characters' width (a
# header broken into one character a line is not readable).
SQUEEZED = """Array.from(document.querySelectorAll('main table th, main table td'))
    .filter(c => c.textContent.trim().length >= 2 && c.getClientRects().length)
    .filter(c => c.getBoundingClientRect().width < 2.5 * parseFloat(getComputedStyle(c).fontSize))
    .map(c => `${c.closest('table').className}: ${c.textContent.trim().slice(0, 20)}`)"""
POSITIVE_TABINDEX = "Array.from(document.querySelectorAll('[tabindex]')).filter(e => e.tabIndex > 0).length"


@pytest.fixture(scope="module")
def field_world(database_url, street, signed_in) -> Iterator[dict]:
    """Reports in the street's first grid (a few each of two categories), one closed and published on
    the exposure board."""
    with psycopg.connect(database_url) as c:
        x, y = c.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
                         " WHERE code = %s) g", [street.grid]).fetchone()
        c.execute("SELECT set_config('gridmap.user_id', %s, true)",
                  [str(accounts.user_id(c, street.users["reporter"]))])
        ids = [i for i, _ in file_reports(c, [NewReport(kind, x, y, client_id=uuid.uuid4().hex,
                                                        description="占道经营，堆放杂物，长时间影响行人通行")
                                               for kind in ("noise", "street_vending") * 4])]
        c.execute("UPDATE report SET state = 'closed' WHERE id = ANY (%s)", [ids[:2]])
        c.commit()
    admin = signed_in("admin")
    form = admin.get(f"/reports/{ids[0]}/exposure", headers={"Accept": "text/html"}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    r = admin.post(f"/reports/{ids[0]}/exposure", follow_redirects=False, data={
        "csrf_token": csrf, "title": "人行道占道经营已整改",
        "public_text": "某路段早餐摊长期占用人行道，经责任单位劝导后已撤离，现场恢复通行。",
        "redaction_note": "已核对：照片无人脸、无车牌"})
    assert r.status_code == 303, r.text[:2000]
    yield {"published": ids[0], "closed": ids[1]}


@pytest.fixture
def tab(browser) -> Iterator:
    tabs: list[Tab] = []

    def make(size: str) -> Tab:
        tabs.append(Tab(browser, size))
        return tabs[-1]

    yield make
    for t in tabs:
        t.context.close()


def _tab_walk(t: Tab) -> list[str]:
    """Press Tab from the top until focus leaves the page's controls twice over; the focused controls
    inside <main>, in order."""
    t.page.evaluate("document.activeElement && document.activeElement.blur()")
    count = t.js(f"document.querySelectorAll('{CONTROLS}').length")
    seen: list[str] = []
    for _ in range(count + 40):
        t.page.keyboard.press("Tab")
        key = t.js("""(() => { const e = document.activeElement;
            if (!e || !e.closest('main')) return null;
            const all = Array.from(document.querySelectorAll('main *'));
            return all.indexOf(e) + ':' + e.tagName; })()""")
        if key is None:
            if seen:
                break
            continue
        if not seen or seen[-1] != key:  # a date field's year, month and day are one control
            seen.append(key)
    return seen


def _check(t: Tab, url: str, name: str) -> None:
    t.page.goto(url, wait_until="load")
    assert t.js(NO_SIDEWAYS), (url, t.js(WIDE))
    assert t.js(SMALL) == [], url
    assert t.js(TABLES) == [], url
    assert t.js(SQUEEZED) == [], url
    assert t.js(POSITIVE_TABINDEX) == 0
    t.shot(f"field-{name}")
    walked = _tab_walk(t)
    assert walked or t.js(f"document.querySelectorAll('{CONTROLS}').length") == 0, url
    order = [int(k.split(":")[0]) for k in walked]
    assert order == sorted(order) and len(set(order)) == len(order), (url, walked)
    assert t.errors == [] and t.blocked == [], (url, t.errors, t.blocked)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_public_exposure_board(tab, base_url, field_world, size):  # noqa: F811
    t = tab(size)
    _check(t, base_url + "/exposure", f"exposure-{size}")
    assert "人行道占道经营已整改" in t.page.inner_text("main")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_trend_the_publish_page_and_the_visit_policy(tab, base_url, street, password, field_world,  # noqa: F811
                                                         size):
    t = tab(size)
    sign_in(t, base_url, street.users["admin"], password)
    _check(t, base_url + "/reports/trend", f"trend-{size}")
    _check(t, base_url + f"/reports/{field_world['published']}/exposure", f"exposure-published-{size}")
    _check(t, base_url + f"/reports/{field_world['closed']}/exposure", f"exposure-form-{size}")
    _check(t, base_url + "/visits/policy", f"visit-policy-{size}")


def test_the_shared_field_form_block_previews_photos_and_falls_back_to_typing(tab, base_url, street,  # noqa: F811
                                                                              password):
    """The report and visit forms share one block (templates/_field_form.html, static/fieldform.js):
    on a phone that refuses its position, the failure is said and the fields are there to type; a
    chosen photo is previewed (a data: URL, as the CSP allows) without widening the page; each form has
    its client id."""
    from tests.workbench.test_inspection_pages import jpeg

    t = tab("phone")  # no geolocation permission: the phone refuses
    sign_in(t, base_url, street.users["reporter"], password)
    t.page.goto(base_url + "/reports/new", wait_until="load")
    t.page.wait_for_selector("#position-status.failed", timeout=20_000)
    assert t.page.is_visible("#f-lon") and t.page.is_visible("#position-retry")
    assert re.fullmatch(r"[0-9a-f-]{32,36}", t.page.input_value("#f-client_id"))
    t.page.set_input_files("#f-photos", files=[{"name": f"p{i}.jpg", "mimeType": "image/jpeg",
                                                "buffer": jpeg((40 * i, 120, 40))} for i in range(3)])
    t.wait("document.querySelectorAll('#f-photos-preview img[src^=\"data:image/\"]').length === 3")
    assert t.js(NO_SIDEWAYS), t.js(WIDE)
    t.shot("field-report-form-preview-phone")
    assert t.errors == [] and t.blocked == []
