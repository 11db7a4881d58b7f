"""The workbench pages of the campaign's records link their downloads (a plain <a download>), and each
link answers the page's own reader with the file, never a 403."""

from __future__ import annotations

import re

import pytest

HTML = {"Accept": "text/html"}
DOWNLOAD = re.compile(r'<a download href="([^"]+)"')


def downloads(api, path: str, headers: dict) -> list[str]:
    r = api.get(path, headers={**headers, **HTML})
    assert r.status_code == 200, (path, r.status_code)
    return [href.replace("&amp;", "&") for href in DOWNLOAD.findall(r.text)]


def fetched(api, links: list[str], headers: dict) -> set[str]:
    types = set()
    for href in links:
        r = api.get(href, headers=headers)
        assert r.status_code == 200, (href, r.status_code, r.text[:200])
        assert r.headers["content-disposition"].startswith("attachment;")
        types.add(r.headers["content-type"].split(";")[0])
    return types


@pytest.mark.parametrize("page,who", [("/facilities", "viewer"), ("/volunteers/teams", "worker")])
def test_pages_of_the_world_link_their_exports(api, as_user, page, who) -> None:
    links = downloads(api, page, as_user(who))
    assert links and all(href.startswith("/exports/campaign/") for href in links)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx in fetched(api, links, as_user(who))


@pytest.mark.parametrize("page,who", [("/duties/roster", "unit_a"), ("/compounds", "planner"),
                                      ("/duties/roster", "viewer")])
def test_campaign_pages_link_their_exports(api, campaign, page, who) -> None:
    headers = {"Authorization": f"Bearer {campaign['tokens'][who]}"}
    links = downloads(api, page, headers)
    assert len(links) >= 2
    assert "text/csv" in fetched(api, links, headers)


def test_a_published_list_links_its_export_and_a_draft_does_not(api, as_user, world, owner) -> None:
    made = {}
    for state in ("published", "drafted"):
        made[state] = owner.execute(
            "INSERT INTO honour_list (kind, scope, series, title, drafted_by)"
            " VALUES ('beautiful_family', %s, %s, '最美家庭', '') RETURNING id",
            [world["a"], f"{world['tag']}-page-{state}"]).fetchone()[0]
    owner.execute("UPDATE honour_list SET state = 'approved' WHERE id = %s", [made["published"]])
    owner.execute("UPDATE honour_list SET state = 'published' WHERE id = %s", [made["published"]])
    links = downloads(api, f"/honours/lists/{made['published']}", as_user("admin"))
    assert links == [f"/exports/campaign/honours/{made['published']}?format=xlsx",
                     f"/exports/campaign/honours/{made['published']}?format=csv"]
    fetched(api, links, as_user("admin"))
    assert downloads(api, f"/honours/lists/{made['drafted']}", as_user("admin")) == []
