"""The workbench pages of issue 16 part B: facilities (with the add form: 422 beside the field, 303 to
the new facility), the facility check, volunteer teams and honour lists; their menu links only where the
policy lets the user in."""

from __future__ import annotations

PAGE = {"Accept": "text/html"}


def test_facility_pages_and_the_add_form(api, as_user, world) -> None:
    headers = {**as_user("admin"), **PAGE}
    r = api.get("/facilities", headers=headers)
    assert r.status_code == 200 and 'name="kind"' in r.text and "阵地达标检查" in r.text
    bad = api.post(
        "/facilities",
        headers=headers,
        data={
            "kind": "moral_lecture_hall",
            "name": "讲堂",
            "lon": "x",
            "lat": str(world["y0"] + 0.003),
            "owner_community": world["a"],
        },
    )
    assert bad.status_code == 422 and 'id="e-lon"' in bad.text
    missing = api.post(
        "/facilities",
        headers=headers,
        data={
            "kind": "moral_lecture_hall",
            "name": "讲堂",
            "lon": str(world["x0"] + 0.003),
            "lat": str(world["y0"] + 0.003),
        },
    )
    assert missing.status_code == 422 and 'id="e-owner_community"' in missing.text
    ok = api.post(
        "/facilities",
        headers=headers,
        follow_redirects=False,
        data={
            "kind": "moral_lecture_hall",
            "name": "新讲堂",
            "lon": str(world["x0"] + 0.003),
            "lat": str(world["y0"] + 0.003),
            "owner_community": world["a"],
        },
    )
    assert ok.status_code == 303 and ok.headers["location"].startswith("/facilities#facility-")
    check = api.get("/facilities/check", headers=headers)
    assert check.status_code == 200 and "facility-check" in check.text
    # a worker reads the list, without the form
    r = api.get("/facilities", headers={**as_user("worker"), **PAGE})
    assert r.status_code == 200 and 'name="kind"' not in r.text


def test_volunteer_and_honour_pages_and_menu(api, as_user, world) -> None:
    headers = {**as_user("admin"), **PAGE}
    team = api.post(
        "/volunteers/teams", json={"name": "页面队", "scope": world["a"]}, headers=as_user("admin")
    ).json()
    r = api.get("/volunteers/teams", headers=headers)
    assert r.status_code == 200 and "页面队" in r.text
    assert api.get(f"/volunteers/teams/{team['id']}", headers=headers).status_code == 200
    lst = api.post(
        "/honours/lists",
        headers=as_user("admin"),
        json={"kind": "beautiful_family", "scope": world["a"], "series": "页面", "title": "最美家庭榜"},
    ).json()
    r = api.get("/honours/lists", headers=headers)
    assert r.status_code == 200 and "最美家庭榜" in r.text
    assert api.get(f"/honours/lists/{lst['id']}", headers=headers).status_code == 200
    assert 'href="/honours/lists"' in api.get("/", headers=headers).text
    viewer = api.get("/", headers={**as_user("viewer"), **PAGE}).text
    assert 'href="/facilities"' in viewer and 'href="/honours/lists"' not in viewer
    assert 'href="/volunteers/teams"' not in viewer
