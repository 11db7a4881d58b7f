"""Honour and red/black lists: drafted -> approved -> published, a published version immutable as
gridmap_app (and the owner), a new version superseding it, black entries only with evidence, the
register's rules on household entries, the public page without residents' names, the participation
share against its target."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest


@pytest.fixture(scope="module")
def place(world, database_url) -> dict:
    """A place in community A with a closed violation, an open one elsewhere, and inspections."""
    with psycopg.connect(database_url) as conn:
        one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
        pid = one(
            "INSERT INTO place (ref, name, category, address, geom) VALUES (%s, '好味餐馆', 'bar',"
            " '幸福路1号', ST_Point(%s, %s, 4326)) RETURNING id",
            [f"{world['tag']}-p", world["x0"] + 0.002, world["y0"] + 0.002],
        )
        other = one(
            "INSERT INTO place (ref, name, category, geom) VALUES (%s, 'other', 'bar',"
            " ST_Point(%s, %s, 4326)) RETURNING id",
            [f"{world['tag']}-q", world["x0"] + 0.003, world["y0"] + 0.002],
        )
        closed = one(
            "INSERT INTO violation (place_id, distance_m, reason, status, found_on)"
            " VALUES (%s, 10, 'r', 'closed', current_date) RETURNING id",
            [pid],
        )
        open_ = one(
            "INSERT INTO violation (place_id, distance_m, reason, status, found_on)"
            " VALUES (%s, 10, 'r', 'open', current_date) RETURNING id",
            [pid],
        )
        found = one(
            "INSERT INTO inspection (place_id, inspector, result) VALUES (%s, 'i', 'violation') RETURNING id",
            [pid],
        )
        fine = one(
            "INSERT INTO inspection (place_id, inspector, result) VALUES (%s, 'i', 'compliant') RETURNING id",
            [pid],
        )
        conn.commit()
    return {"id": pid, "other": other, "closed": closed, "open": open_, "found": found, "fine": fine}


def _draft(api, headers, world, kind="civilised_household", series=None, public=False):
    r = api.post(
        "/honours/lists",
        headers=headers,
        json={
            "kind": kind,
            "scope": world["a"],
            "series": series or f"{kind}-{date.today()}",
            "title": "榜",
            "public": public,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_black_entries_need_evidence(api, as_user, world, place) -> None:
    lst = _draft(api, as_user("admin"), world, kind="food_trade")
    url = f"/honours/lists/{lst['id']}/entries"
    r = api.post(url, json={"colour": "black", "place_id": place["id"]}, headers=as_user("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "violation_id"
    for evidence, field in (
        ({"violation_id": place["open"]}, "violation_id"),
        ({"inspection_id": place["fine"]}, "inspection_id"),
        ({"report_id": 1}, "report_id"),
    ):
        r = api.post(
            url, json={"colour": "black", "place_id": place["id"], **evidence}, headers=as_user("admin")
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    # the evidence must be about the same place
    r = api.post(
        url,
        json={"colour": "black", "place_id": place["other"], "violation_id": place["closed"]},
        headers=as_user("admin"),
    )
    assert r.status_code == 422
    for evidence in ({"violation_id": place["closed"]}, {"inspection_id": place["found"]}):
        r = api.post(
            url, json={"colour": "black", "place_id": place["id"], **evidence}, headers=as_user("admin")
        )
        assert r.status_code == 201, r.text
    # and the database refuses it too, whoever writes
    with psycopg.connect(database_url_of(api)) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO honour_entry (list_id, colour, place_id, label, public_label)"
            " VALUES (%s, 'black', %s, '', '')",
            [lst["id"], place["id"]],
        )


def database_url_of(api) -> str:
    return api.app.state.settings.database_url


def test_published_never_changes_and_a_new_version_supersedes_it(api, as_user, world, database_url) -> None:
    h = world["households"][world["g1"]]
    lst = _draft(api, as_user("admin"), world, series="2026年第二季度")
    for hid in h[:2]:
        assert (
            api.post(
                f"/honours/lists/{lst['id']}/entries",
                json={"colour": "red", "household_id": hid},
                headers=as_user("admin"),
            ).status_code
            == 201
        )
    assert (
        api.post(
            f"/honours/lists/{lst['id']}/state", json={"action": "publish"}, headers=as_user("admin")
        ).status_code
        == 409
    )  # not approved yet
    r = api.post(
        f"/honours/lists/{lst['id']}/state",
        json={"action": "approve", "public": True},
        headers=as_user("admin"),
    )
    assert r.status_code == 200 and r.json()["approved_by"] == world["users"]["admin"]
    assert (
        api.post(
            f"/honours/lists/{lst['id']}/entries",
            json={"colour": "red", "household_id": h[2]},
            headers=as_user("admin"),
        ).status_code
        == 409
    )
    r = api.post(f"/honours/lists/{lst['id']}/state", json={"action": "publish"}, headers=as_user("admin"))
    assert r.status_code == 200 and r.json()["state"] == "published"
    entry = r.json()["entries"][0]["id"]
    with psycopg.connect(database_url) as conn:
        uid = conn.execute(
            "SELECT id FROM app_user WHERE username = %s", [world["users"]["admin"]]
        ).fetchone()[0]
        for role in ("gridmap_app", None):  # the service, and the owner: refused alike
            for statement, params in (
                ("UPDATE honour_list SET title = 'x' WHERE id = %s", [lst["id"]]),
                ("DELETE FROM honour_list WHERE id = %s", [lst["id"]]),
                ("UPDATE honour_entry SET reason = 'x' WHERE id = %s", [entry]),
                ("DELETE FROM honour_entry WHERE id = %s", [entry]),
                (
                    "INSERT INTO honour_entry (list_id, colour, household_id, label, public_label)"
                    " VALUES (%s, 'red', " + str(h[3]) + ", '', '')",
                    [lst["id"]],
                ),
            ):
                with conn.transaction():
                    if role:
                        conn.execute("SET LOCAL ROLE gridmap_app")
                        conn.execute("SELECT set_config('gridmap.user_id', %s, true)", [str(uid)])
                    with pytest.raises(psycopg.errors.RestrictViolation), conn.transaction():
                        conn.execute(statement, params)
    # the next version: a drafted copy, superseding the published one once published
    r = api.post(
        f"/honours/lists/{lst['id']}/versions", json={"title": "榜（更正）"}, headers=as_user("admin")
    )
    assert r.status_code == 201, r.text
    nxt = r.json()
    assert nxt["version"] == 2 and nxt["supersedes"] == lst["id"] and len(nxt["entries"]) == 2
    assert (
        api.post(f"/honours/lists/{lst['id']}/versions", json={}, headers=as_user("admin")).status_code == 409
    )
    api.delete(f"/honours/lists/{nxt['id']}/entries/{nxt['entries'][1]['id']}", headers=as_user("admin"))
    public = api.get("/public/honours", params={"area": world["a"]}).json()
    assert [p["list_id"] for p in public if p["series"] == "2026年第二季度"] == [lst["id"]]
    for action in ("approve", "publish"):
        assert (
            api.post(
                f"/honours/lists/{nxt['id']}/state", json={"action": action}, headers=as_user("admin")
            ).status_code
            == 200
        )
    public = [
        p
        for p in api.get("/public/honours", params={"area": world["a"]}).json()
        if p["series"] == "2026年第二季度"
    ]
    assert [p["list_id"] for p in public] == [nxt["id"]] and len(public[0]["entries"]) == 1
    old = api.get(f"/honours/lists/{lst['id']}", headers=as_user("admin")).json()
    assert old["superseded"] is True and len(old["entries"]) == 2  # kept as it was


def test_public_output_holds_no_residents_name(api, as_user, world, database_url) -> None:
    h = world["households"][world["g2"]]
    lst = _draft(api, as_user("admin"), world, kind="beautiful_family", public=True)
    for hid in h[:3]:
        api.post(
            f"/honours/lists/{lst['id']}/entries",
            json={"colour": "red", "household_id": hid, "reason": "孝老爱亲"},
            headers=as_user("admin"),
        )
    private = _draft(api, as_user("admin"), world, kind="beautiful_family", series="内部")
    api.post(
        f"/honours/lists/{private['id']}/entries",
        json={"colour": "red", "household_id": h[4]},
        headers=as_user("admin"),
    )
    for lid in (lst["id"], private["id"]):
        for action in ("approve", "publish"):
            assert (
                api.post(
                    f"/honours/lists/{lid}/state", json={"action": action}, headers=as_user("admin")
                ).status_code
                == 200
            )
    r = api.get("/public/honours", params={"area": world["street"]})
    assert r.status_code == 200
    with psycopg.connect(database_url) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM person")]
        addresses = [a for (a,) in conn.execute("SELECT address FROM household")]
    text = r.text
    assert not [n for n in names if n in text] and not [a for a in addresses if a in text]
    ours = [p for p in r.json() if p["list_id"] == lst["id"]]
    assert len(ours) == 1 and all(
        e["label"].endswith("**家") and e["reason"] is None for e in ours[0]["entries"]
    )
    assert {e["place"] for e in ours[0]["entries"]} <= {"1号楼", "2号楼", "3号楼"}
    assert not [p for p in r.json() if p["list_id"] == private["id"]]  # not approved as public
    # the public page (no sign-in) says the same, redacted
    html = api.get("/public/honours", headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "**家" in html.text and not [n for n in names if n in html.text]
    # inside: the admin reads the names; the grid worker of g1 not the entries about g2's households
    assert api.get(f"/honours/lists/{lst['id']}", headers=as_user("admin")).json()["entries"][0]["label"] in {
        n + "家" for n in names
    }
    assert api.get(f"/honours/lists/{lst['id']}", headers=as_user("worker")).json()["entries"] == []


def test_household_entries_stay_under_the_register_rules(api, as_user, world) -> None:
    lst = _draft(api, as_user("admin"), world, kind="civilised_household", series="规则")
    r = api.post(
        f"/honours/lists/{lst['id']}/entries",
        json={"colour": "red", "household_id": world["households"][world["g1"]][0], "unit_id": 1},
        headers=as_user("admin"),
    )
    assert r.status_code == 422
    r = api.post(
        f"/honours/lists/{lst['id']}/entries", json={"colour": "red", "place_id": 1}, headers=as_user("admin")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "household_id"
    assert api.post(
        f"/honours/lists/{lst['id']}/entries",
        json={"colour": "red", "household_id": 1},
        headers=as_user("admin_b"),
    ).status_code in (403, 404)


def test_participation_share_against_its_target(api, as_user, world) -> None:
    year = date.today().year
    h1, h2 = world["households"][world["g1"]], world["households"][world["g2"]]
    r = api.post(
        "/honours/participation", json={"year": year, "household_ids": h1}, headers=as_user("worker")
    )
    assert r.status_code == 200 and r.json() == {"recorded": 5}
    assert (
        api.post(
            "/honours/participation", json={"year": year, "household_ids": h2[:1]}, headers=as_user("worker")
        ).status_code
        == 422
    )  # g2 is not hers
    api.post("/honours/participation", json={"year": year, "household_ids": h2[:3]}, headers=as_user("admin"))
    rows = {
        r["community_code"]: r
        for r in api.get(
            "/honours/participation",
            params={"area": world["street"], "year": year},
            headers=as_user("viewer"),
        ).json()
    }
    a = rows[world["a"]]
    assert (a["households"], a["taking_part"], float(a["share"]), float(a["target"]), a["met"]) == (
        10,
        8,
        0.8,
        0.8,
        True,
    )
