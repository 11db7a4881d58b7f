"""The visit policy (走访频次) changed by an admin through the API and the page: kept with who, when and
why; judged by the overdue list at once; refused to the other roles (403) and out of range (422)."""

from __future__ import annotations

import psycopg

HTML = {"Accept": "text/html"}


def interval(api, as_user, group: str) -> int:
    found = api.get("/visits/policy", headers=as_user("worker")).json()
    return next(g["interval_days"] for g in found["groups"] if g["group_code"] == group)


def test_an_admin_changes_an_interval_and_the_change_is_kept(api, as_user, world, database_url) -> None:
    before = interval(api, as_user, "poverty")
    r = api.put(
        "/visits/policy/poverty",
        json={"interval_days": before + 5, "note": "上级要求"},
        headers=as_user("admin"),
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["interval_days"] == before + 5 and got["change_id"]
    assert got["last_changed_by"] == world["users"]["admin"] and got["last_old_days"] == before
    with psycopg.connect(database_url) as c:
        row = c.execute(
            "SELECT old_days, new_days, note, actor FROM visit_policy_change WHERE id = %s",
            [got["change_id"]],
        ).fetchone()
    assert row == (before, before + 5, "上级要求", world["users"]["admin"])
    # the same value again records nothing
    again = api.put("/visits/policy/poverty", json={"interval_days": before + 5}, headers=as_user("admin"))
    assert again.status_code == 200 and again.json()["change_id"] is None
    # the overdue list judges by it at once: the poor household's interval is the new one
    overdue = api.get("/visits/overdue", params={"grid": world["g1"]}, headers=as_user("admin")).json()
    poor = world["households"][world["g1"]][2]
    assert any(r["household_id"] == poor and r["interval_days"] == before + 5 for r in overdue), overdue
    api.put("/visits/policy/poverty", json={"interval_days": before}, headers=as_user("admin"))


def test_only_admins_and_values_in_range(api, as_user) -> None:
    for who in ("worker", "viewer"):
        r = api.put("/visits/policy/poverty", json={"interval_days": 9}, headers=as_user(who))
        assert r.status_code == 403, who
    for days in (0, 3661):
        r = api.put("/visits/policy/poverty", json={"interval_days": days}, headers=as_user("admin"))
        assert r.status_code == 422 and "interval_days" in r.text
    assert (
        api.put("/visits/policy/nosuch", json={"interval_days": 9}, headers=as_user("admin")).status_code
        == 404
    )
    assert (
        api.put(
            "/visits/policy/poverty", json={"interval_days": 9, "who": "x"}, headers=as_user("admin")
        ).status_code
        == 422
    )


def test_the_page_shows_the_form_and_answers_beside_the_field(api, as_user, world) -> None:
    headers = {**as_user("admin"), **HTML}
    page = api.get("/visits/policy", headers=headers)
    assert page.status_code == 200 and 'action="/visits/policy/elderly_alone"' in page.text
    refused = api.post("/visits/policy/elderly_alone", data={"interval_days": "0"}, headers=headers)
    assert refused.status_code == 422 and "-error" in refused.text and "aria-invalid" in refused.text
    done = api.post(
        "/visits/policy/elderly_alone",
        data={"interval_days": "8", "note": "试行"},
        headers=headers,
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = api.get("/visits/policy", headers=headers).text
    assert world["users"]["admin"] in shown and "试行" in shown
    api.put("/visits/policy/elderly_alone", json={"interval_days": 7}, headers=as_user("admin"))
