"""A browser opening a fixed JSON address under /compounds/, /duties/, /facilities/ or /frontage/ gets
that address's answer, not the page of one record with the word as its id (a 422 page): the record
pages match numeric ids only ({compound_id:int}, ...). A word where an id belongs answers a clean 404
or 422, never a 500."""

from __future__ import annotations

import pytest

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

# Fixed JSON addresses beside a record page: each answers its JSON to a browser too.
FIXED = ("/compounds/vocabulary", "/compounds/overlaps", "/compounds/coverage", "/duties/roster",
         "/duties/missed", "/facilities/vocabulary", "/facilities/check", "/frontage/agreements")
RECORD_PAGES = ("/compounds/{}", "/duties/{}", "/frontage/agreements/{}", "/facilities/{}")


def test_fixed_json_paths_answer_a_browser(signed_in) -> None:
    client = signed_in("admin")
    r = client.get("/compounds/vocabulary", headers=HTML)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("application/json")
    assert set(r.json()) >= {"kinds"} or r.json()
    for path in FIXED:
        r = client.get(path, headers=HTML)
        assert r.status_code < 500 and r.status_code != 422, (path, r.status_code, r.text[:300])


@pytest.mark.parametrize("template", RECORD_PAGES)
@pytest.mark.parametrize("word", ["abc", "-1", "1.5", "%E4%B8%AD"])
def test_a_word_for_an_id_is_a_clean_refusal(signed_in, template, word) -> None:
    client = signed_in("admin")
    r = client.get(template.format(word), headers=HTML)
    assert r.status_code in (404, 422), (r.status_code, r.text[:300])


@pytest.mark.parametrize("template", RECORD_PAGES)
def test_a_numeric_id_still_opens_the_page(signed_in, template) -> None:
    client = signed_in("admin")
    r = client.get(template.format(999999999), headers=HTML)
    assert r.status_code == 404, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
