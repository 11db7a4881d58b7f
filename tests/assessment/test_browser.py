"""The 考核 pages in headless Chromium (network cut to 127.0.0.1) at a PC's 1366×768 and a phone's
390×844: no horizontal scrolling, no console errors (CSP), tap targets of at least 40 px in the
evidence form; a grid worker uploads a document as evidence through the form."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

SIZES = {"pc": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def base_url(settings, world, serve_app) -> Iterator[str]:
    from api.app import create_app

    with serve_app(create_app(settings)) as url:
        yield url


@pytest.mark.parametrize("size", list(SIZES))
def test_quarter_page_and_evidence_form(browser, base_url, world, demo_sheet, tmp_path, size) -> None:
    q, a = demo_sheet["quarter"], world["a"]
    context = browser.new_context(viewport=SIZES[size], locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*",
               lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort())
    try:
        page.goto(base_url + "/", wait_until="load")
        page.fill("input[name=username]", world["users"]["worker"])
        page.fill("input[name=password]", world["passwords"]["worker"])
        page.click("button[type=submit]")
        page.wait_for_url(base_url + "/", timeout=60_000)
        for path in ("/assessment", f"/communities/{a}/assessment/{q}",
                     f"/communities/{a}/assessment/{q}/evidence/new"):
            page.goto(base_url + path, wait_until="load")
            wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 0, f"{path} scrolls sideways by {wide} px at {size}"
        small = page.evaluate(
            "(q) => Array.from(document.querySelectorAll(q))"
            ".filter(e => e.getBoundingClientRect().height < 40).map(e => e.name || e.tagName)",
            ".evidence-form input:not([type=hidden]), .evidence-form select, .evidence-form button")
        assert small == []
        document = tmp_path / f"会议记录-{size}.csv"
        document.write_text("日期,议题\n2026-01-05,创建工作\n", encoding="utf-8")
        page.set_input_files("input[name=file]", str(document))
        page.fill("input[name=title]", f"专题会议记录 {size}")
        page.select_option("select[name=item_no]", "3")
        page.click(".evidence-form button[type=submit]")
        page.wait_for_url(f"{base_url}/communities/{a}/assessment/{q}#evidence", timeout=60_000)
        assert page.locator(".assessment-evidence", has_text=f"专题会议记录 {size}").count() == 1
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_sheet_import_form_fits_a_phone(browser, base_url, world, demo_sheet, size) -> None:
    """The import form (an admin's page): no sideways scrolling, every control at least 40 px tall."""
    context = browser.new_context(viewport=SIZES[size], locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*",
               lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort())
    try:
        page.goto(base_url + "/", wait_until="load")
        page.fill("input[name=username]", world["users"]["admin"])
        page.fill("input[name=password]", world["passwords"]["admin"])
        page.click("button[type=submit]")
        page.wait_for_url(base_url + "/", timeout=60_000)
        page.goto(base_url + "/assessment/sheets/new", wait_until="load")
        wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"the sheet form scrolls sideways by {wide} px at {size}"
        small = page.evaluate(
            "(q) => Array.from(document.querySelectorAll(q))"
            ".filter(e => e.getBoundingClientRect().height < 40).map(e => e.name || e.tagName)",
            ".sheet-form input:not([type=hidden]), .sheet-form select, .sheet-form button")
        assert small == [] and errors == []
    finally:
        context.close()
