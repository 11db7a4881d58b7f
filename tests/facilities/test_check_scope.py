"""The facility check answers for the reader's area (w3 guards): a community admin counts her own
community, a street viewer the street's, an admin of everything every community; ``area`` narrows within
that and never widens it. The same on the workbench page /facilities/check."""

from __future__ import annotations


def _communities(api, headers, **params) -> set[str]:
    r = api.get("/facilities/check", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return {f["community_code"] for f in r.json()}


def test_the_check_counts_the_readers_area_only(api, as_user, world, admin_token) -> None:
    a, b = world["a"], world["b"]
    # no facility yet: both communities fail their minimum, each seen by its own readers only
    assert _communities(api, as_user("admin")) == {a}
    assert _communities(api, as_user("admin_b")) == {b}
    assert _communities(api, as_user("worker")) == {a}  # a grid of A: community A
    assert _communities(api, as_user("viewer")) >= {a, b}
    assert all(c.startswith(world["street"]) for c in _communities(api, as_user("viewer")))
    # ``area`` narrows within the reader's area and never widens it
    assert _communities(api, as_user("admin"), area=b) == set()
    assert _communities(api, as_user("admin"), area=world["street"]) == {a}
    assert _communities(api, as_user("viewer"), area=b) == {b}
    city = {"Authorization": f"Bearer {admin_token}"}
    assert _communities(api, city) >= {a, b}
    assert _communities(api, city, area=b) == {b}
    r = api.get("/facilities/check", params={"area": "12x"}, headers=as_user("admin"))
    assert r.status_code == 422 and "area" in r.text


def test_the_page_counts_the_readers_area_only(api, as_user, world) -> None:
    html = {"Accept": "text/html"}
    r = api.get("/facilities/check", headers={**as_user("admin"), **html})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text[:300]
    assert f'data-community="{world["a"]}"' in r.text and f'data-community="{world["b"]}"' not in r.text
    r = api.get("/facilities/check", params={"area": world["b"]}, headers={**as_user("admin"), **html})
    assert r.status_code == 200 and 'data-community="' not in r.text
    r = api.get("/facilities/check", params={"area": world["b"]}, headers={**as_user("admin_b"), **html})
    assert f'data-community="{world["b"]}"' in r.text
