"""The map pages over HTTP: status, content, local assets only, masked data, error paths."""

from __future__ import annotations

import re

import pytest


def test_grid_map_page(client, map_fixture):
    r = client.get(f"/maps/grids/{map_fixture.grids[0]}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-store"  # the register must not sit in a cache
    page = r.text
    assert "西区网格" in page and "张伟" in page and map_fixture.grids[0] in page
    assert "服务团队 王芳" in page  # the service team of grid 001
    assert "L.markerClusterGroup" in page and "L.control.layers" in page
    assert "@media print" in page and "fitBounds" in page
    for label in ("重点人员", "流动人口", "低保/特困", "独居老人", "残疾人", "积极分子/志愿者"):
        assert label in page


def test_pages_have_no_cdn_and_every_asset_is_served(client, map_fixture, links):
    for path in (f"/maps/grids/{map_fixture.grids[0]}", f"/maps/communities/{map_fixture.community}"):
        page = client.get(path).text
        assert links.remote_urls(page) == []
        assert not re.search(r"cdn|bootstrap|awesome|fontawesome|unpkg|jsdelivr", page, re.I)
        assets = [u for u in links.page_urls(page) if u.startswith("/static/")]
        assert len(assets) == 6  # leaflet js+css, jquery, markercluster js + 2 css
        for url in assets:
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 500, url


def test_no_full_id_number_or_phone_in_the_page(client, conn, map_fixture):
    page = client.get(f"/maps/communities/{map_fixture.community}").text
    ids = [r[0] for r in conn.execute("SELECT id_number FROM person WHERE ref LIKE 'mapstest-%'")]
    phones = [r[0] for r in conn.execute("SELECT phone FROM person WHERE ref LIKE 'mapstest-%'")]
    assert ids and not any(i in page for i in ids) and not any(p in page for p in phones)
    assert ids[0][:6] + "********" + ids[0][-4:] in page


def test_community_map_draws_the_division_problems(client, map_fixture):
    page = client.get(f"/maps/communities/{map_fixture.community}").text
    assert "url(#gridmap-hatch)" in page and 'id="gridmap-hatch"' in page
    assert "缝隙/交叉/超界" in page and "划分问题 1 处" in page
    assert "\\u7f1d\\u9699" in page  # the problem kind (缝隙) in the tooltip data


def test_the_index_links_every_map(client, map_fixture, links):
    r = client.get("/maps/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    links = links.page_urls(r.text)
    assert f"/maps/communities/{map_fixture.community}" in links
    assert all(f"/maps/grids/{g}" in links for g in map_fixture.grids)


@pytest.mark.parametrize("path, status", [
    ("/maps/grids/439901007001009", 404),
    ("/maps/communities/439901007009", 404),
    ("/maps/grids/12345", 422),
    ("/maps/grids/439901007001000", 422),
    ("/maps/communities/0000", 422),
    ("/maps/grids/4399010070010%27%3B--", 422),
])
def test_error_paths_answer_json(client, map_fixture, path, status):
    r = client.get(path)
    assert r.status_code == status
    body = r.json()
    assert set(body) == {"detail", "errors"}
    if status == 422:
        assert body["errors"][0]["field"] == "code"
