"""Volunteers: teams, residents and outsiders as members, hours per member, and person.volunteer
following active membership (one source of truth), also when the register writes the flag."""

from __future__ import annotations

from datetime import date

import psycopg


def _flag(database_url: str, person_id: int) -> tuple[bool, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT volunteer, (SELECT count(*) FROM volunteer_member m WHERE m.person_id = p.id"
            " AND m.left_on IS NULL) FROM person p WHERE p.id = %s",
            [person_id],
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_person_volunteer_follows_membership(api, as_user, world, database_url) -> None:
    person = world["persons"][world["g1"]][0]
    assert _flag(database_url, person) == (False, 0)
    team = api.post(
        "/volunteers/teams", json={"name": "学雷锋服务队", "scope": world["a"]}, headers=as_user("admin")
    )
    assert team.status_code == 201, team.text
    tid = team.json()["id"]
    first = api.post(f"/volunteers/teams/{tid}/members", json={"person_id": person}, headers=as_user("admin"))
    assert first.status_code == 201, first.text
    assert _flag(database_url, person) == (True, 1)
    assert (
        api.post(
            f"/volunteers/teams/{tid}/members", json={"person_id": person}, headers=as_user("admin")
        ).status_code
        == 409
    )
    other = api.post(
        "/volunteers/teams", json={"name": "文明劝导队", "scope": world["a"]}, headers=as_user("admin")
    ).json()
    second = api.post(
        f"/volunteers/teams/{other['id']}/members", json={"person_id": person}, headers=as_user("admin")
    )
    assert second.status_code == 201
    left = api.post(f"/volunteers/members/{first.json()['id']}/leave", json={}, headers=as_user("admin"))
    assert left.status_code == 200 and left.json()["left_on"] == date.today().isoformat()
    assert _flag(database_url, person) == (True, 1)  # still in the other team
    api.post(f"/volunteers/members/{second.json()['id']}/leave", json={}, headers=as_user("admin"))
    assert _flag(database_url, person) == (False, 0)


def test_the_register_writing_the_flag_joins_or_leaves_the_registered_team(
    api, as_user, world, database_url
) -> None:
    person = world["persons"][world["g1"]][1]
    r = api.get(f"/persons/{person}", headers=as_user("worker"))
    version = r.json()["version"]
    r = api.patch(
        f"/persons/{person}", json={"volunteer": True, "version": version}, headers=as_user("worker")
    )
    assert r.status_code == 200, r.text
    assert _flag(database_url, person) == (True, 1)
    with psycopg.connect(database_url) as conn:
        kind = conn.execute(
            "SELECT t.kind, t.scope FROM volunteer_member m JOIN volunteer_team t ON t.id = m.team_id"
            " WHERE m.person_id = %s AND m.left_on IS NULL",
            [person],
        ).fetchone()
        assert kind == ("register", world["a"])
        # a direct write as the service cannot make the flag disagree with membership
        uid = conn.execute(
            "SELECT id FROM app_user WHERE username = %s", [world["users"]["worker"]]
        ).fetchone()
        conn.execute("SET ROLE gridmap_app")
        conn.execute("SELECT set_config('gridmap.user_id', %s, true)", [str(uid[0])])
        conn.execute("UPDATE person SET volunteer = false WHERE id = %s", [person])
        assert conn.execute(
            "SELECT volunteer, (SELECT count(*) FROM volunteer_member m WHERE m.person_id = %s"
            " AND m.left_on IS NULL) FROM person WHERE id = %s",
            [person, person],
        ).fetchone() == (False, 0)
        conn.rollback()
    # a membership change bumps the person's version: an edit form opened before it is refused
    r = api.patch(
        f"/persons/{person}", json={"volunteer": False, "version": version}, headers=as_user("worker")
    )
    assert r.status_code == 409


def test_outsiders_activities_and_hours(api, as_user, world, database_url) -> None:
    tid = api.post(
        "/volunteers/teams", json={"name": "夕阳红", "scope": world["a"]}, headers=as_user("admin")
    ).json()["id"]
    outsider = api.post(
        f"/volunteers/teams/{tid}/members",
        json={"name": "王志愿", "phone": "13800000000"},
        headers=as_user("admin"),
    )
    assert outsider.status_code == 201 and outsider.json()["outsider"] is True
    resident = api.post(
        f"/volunteers/teams/{tid}/members",
        json={"person_id": world["persons"][world["g2"]][0]},
        headers=as_user("admin"),
    ).json()
    r = api.post(
        f"/volunteers/teams/{tid}/activities",
        headers=as_user("admin"),
        json={
            "held_on": date.today().isoformat(),
            "title": "每月15日交通文明劝导",
            "hours": [
                {"member_id": outsider.json()["id"], "hours": "2.5"},
                {"member_id": resident["id"], "hours": 3},
            ],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["recorder"] == world["users"]["admin"]
    team = api.get(f"/volunteers/teams/{tid}", headers=as_user("admin")).json()
    assert float(team["hours"]) == 5.5 and team["active_members"] == 2
    # a grid worker of g1 reads the outsider, not the resident of g2 (the register's rules)
    names = {m["name"] for m in api.get(f"/volunteers/teams/{tid}/members", headers=as_user("worker")).json()}
    assert names == {"王志愿"}
    assert len(api.get(f"/volunteers/teams/{tid}/members", headers=as_user("other_worker")).json()) == 2
    # hours of a member of another team: refused naming the field
    other = api.post(
        "/volunteers/teams", json={"name": "另一队", "scope": world["a"]}, headers=as_user("admin")
    ).json()
    r = api.post(
        f"/volunteers/teams/{other['id']}/activities",
        headers=as_user("admin"),
        json={
            "held_on": date.today().isoformat(),
            "title": "x",
            "hours": [{"member_id": resident["id"], "hours": 1}],
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "hours"
    r = api.post(
        f"/volunteers/teams/{tid}/members", json={"person_id": 1, "name": "两者"}, headers=as_user("admin")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "person_id"
    assert (
        api.post(
            "/volunteers/teams", json={"name": "越界", "scope": world["b"]}, headers=as_user("admin")
        ).status_code
        == 403
    )
