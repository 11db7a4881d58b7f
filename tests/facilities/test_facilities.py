"""Facilities (阵地): the community derived from the point (GCJ-02 accepted), the check against an
independent count, sessions stamped with the recorder, scope and bad input."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import psycopg

from gis.crs import wgs84_to_gcj02


def _add(api, headers, **body):
    return api.post(
        "/facilities", json={"kind": "moral_lecture_hall", "name": "讲堂", **body}, headers=headers
    )


def test_community_is_derived_from_the_point_also_in_gcj02(api, as_user, world) -> None:
    r = _add(
        api, as_user("admin"), lon=world["x0"] + 0.003, lat=world["y0"] + 0.004, owner_community=world["a"]
    )
    assert r.status_code == 201, r.text
    assert r.json()["community_code"] == world["a"] and r.json()["position_crs"] == "EPSG:4326"
    lon, lat = wgs84_to_gcj02(np.array([world["x0"] + 0.012]), np.array([world["y0"] + 0.004]))
    r = _add(
        api,
        as_user("admin"),
        lon=float(lon[0]),
        lat=float(lat[0]),
        crs="GCJ-02",
        owner_community=world["a"],
        kind="volunteer_station",
        name="站",
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["community_code"] == world["a"] and body["position_crs"] == "GCJ-02"
    assert abs(body["lon"] - (world["x0"] + 0.012)) < 1e-6 and abs(body["lat"] - (world["y0"] + 0.004)) < 1e-6


def test_outside_the_admins_community_is_refused_and_bad_input_names_the_field(api, as_user, world) -> None:
    # community B: not admin A's
    r = _add(
        api, as_user("admin"), lon=world["x0"] + 0.03, lat=world["y0"] + 0.004, owner_community=world["a"]
    )
    assert r.status_code == 403, r.text
    r = _add(api, as_user("admin"), lon=world["x0"] + 0.003, lat=world["y0"] + 0.004)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "owner_community"
    r = _add(
        api,
        as_user("admin"),
        lon=world["x0"] + 0.003,
        lat=world["y0"] + 0.004,
        owner_community=world["a"],
        kind="nope",
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = _add(api, as_user("admin"), lon=500, lat=world["y0"], owner_community=world["a"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lon"
    assert (
        _add(
            api,
            as_user("worker"),
            lon=world["x0"] + 0.003,
            lat=world["y0"] + 0.004,
            owner_community=world["a"],
        ).status_code
        == 403
    )


def test_the_check_equals_an_independent_count(api, as_user, world, database_url) -> None:
    # B: three 道德讲堂 (too many), no station (too few)
    for i in range(3):
        assert (
            _add(
                api,
                as_user("admin_b"),
                lon=world["x0"] + 0.025 + i * 0.002,
                lat=world["y0"] + 0.005,
                owner_community=world["b"],
            ).status_code
            == 201
        )
    r = api.get("/facilities/check", params={"area": world["street"]}, headers=as_user("viewer"))
    assert r.status_code == 200, r.text
    got = {(f["community_code"], f["kind"]): (f["count"], f["failure"]) for f in r.json()}
    # independently: every facility's point tested against every community polygon in Python
    with psycopg.connect(database_url) as conn:
        boxes = conn.execute(
            "SELECT code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)"
            " FROM community WHERE starts_with(code, %s)",
            [world["street"]],
        ).fetchall()
        points = conn.execute("SELECT kind, ST_X(geom), ST_Y(geom) FROM facility WHERE active").fetchall()
        bounds = {
            k: (lo, hi)
            for k, _, lo, hi in conn.execute(
                "SELECT kind, scope, min_count, max_count FROM facility_target WHERE scope = ''"
            ).fetchall()
        }
    counted = Counter(
        (code, kind)
        for kind, x, y in points
        for code, x0, y0, x1, y1 in boxes
        if x0 <= x <= x1 and y0 <= y <= y1 and not (x == x1 and any(b[1] == x for b in boxes))
    )
    expected = {}
    for code, *_ in boxes:
        for kind, (lo, hi) in bounds.items():
            n = counted[(code, kind)]
            if n < lo or (hi is not None and n > hi):
                expected[(code, kind)] = (n, "too_few" if n < lo else "too_many")
    assert got == expected
    assert got[(world["b"], "moral_lecture_hall")] == (3, "too_many")
    assert got[(world["b"], "volunteer_station")] == (0, "too_few")


def test_sessions_are_stamped_with_the_recorder_and_never_changed(api, as_user, world, database_url) -> None:
    made = _add(
        api, as_user("admin"), lon=world["x0"] + 0.004, lat=world["y0"] + 0.006, owner_community=world["a"]
    ).json()
    r = api.post(
        f"/facilities/{made['id']}/sessions",
        headers=as_user("admin"),
        json={"held_on": date.today().isoformat(), "topic": "孝老爱亲", "attendance": 40},
    )
    assert r.status_code == 201, r.text
    assert r.json()["recorder"] == world["users"]["admin"]
    r = api.post(
        f"/facilities/{made['id']}/sessions",
        headers=as_user("admin"),
        json={"held_on": "2999-01-01", "topic": "x", "attendance": 1},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "held_on"
    assert (
        api.post(
            f"/facilities/{made['id']}/sessions",
            headers=as_user("admin_b"),
            json={"held_on": "2026-01-01", "topic": "x", "attendance": 1},
        ).status_code
        == 403
    )
    got = api.get(f"/facilities/{made['id']}/sessions", headers=as_user("viewer")).json()
    assert [s["topic"] for s in got] == ["孝老爱亲"]
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE gridmap_app")
        for statement in ("UPDATE facility_session SET attendance = 1", "DELETE FROM facility_session"):
            try:
                with conn.transaction():
                    conn.execute(statement)
            except psycopg.errors.InsufficientPrivilege:
                continue
            raise AssertionError(f"{statement} was allowed")


def test_closing_a_facility_takes_it_out_of_the_count(api, as_user, world) -> None:
    made = _add(
        api,
        as_user("admin"),
        lon=world["x0"] + 0.006,
        lat=world["y0"] + 0.006,
        owner_community=world["a"],
        kind="civic_school",
    ).json()
    r = api.patch(f"/facilities/{made['id']}", json={"active": False}, headers=as_user("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    assert (
        api.patch(f"/facilities/{made['id']}", json={"active": True}, headers=as_user("admin_b")).status_code
        == 403
    )


def test_session_photos_go_through_the_media_store(api, as_user, world) -> None:
    from tests.access.matrix_cases import PNG, PNG_SHA256

    made = _add(
        api, as_user("admin"), lon=world["x0"] + 0.008, lat=world["y0"] + 0.002, owner_community=world["a"]
    ).json()
    held = api.post(
        f"/facilities/{made['id']}/sessions",
        headers=as_user("admin"),
        json={"held_on": date.today().isoformat(), "topic": "讲座", "attendance": 12},
    ).json()
    r = api.post(
        f"/facility-sessions/{held['id']}/photos",
        headers=as_user("admin"),
        files={"photos": ("hall.png", PNG, "image/png")},
    )
    assert r.status_code == 201, r.text
    assert [(p["sha256"], p["file_name"]) for p in r.json()["photos"]] == [(PNG_SHA256, "hall.png")]
    r = api.post(
        f"/facility-sessions/{held['id']}/photos",
        headers=as_user("admin_b"),
        files={"photos": ("hall.png", PNG, "image/png")},
    )
    assert r.status_code == 403
    r = api.post(
        f"/facility-sessions/{held['id']}/photos",
        headers=as_user("admin"),
        files={"photos": ("x.png", b"not an image", "image/png")},
    )
    assert r.status_code == 422
