"""The reports map (不文明行为地图, /maps/reports): the reports drawn are exactly those the account reads
(row-level security as gridmap_app: a unit's account its unit's, a reporter her own, an admin her
area's), coloured by state; sections shaded by open reports per 100 m, against an independent count."""

from __future__ import annotations

import json
import re
import uuid

import psycopg
import pytest

from tests.reports.conftest import ROAD_Y, X0, Y0
from tests.reports.isolation import forget_world

NEAR = (X0 + 0.004, ROAD_Y + 8 / 110_700)  # on the section: unit B's today
IN_G2 = (X0 + 0.015, Y0 + 0.002)  # a grid matter in g2 (no worker): the community's queue
DATA = re.compile(r"var data = (\{\"reportLayer\".*?\});\n", re.S)


@pytest.fixture(scope="module", autouse=True)
def alone(world, database_url):
    """This module's community and road are removed when it ends (tests/reports/isolation.py)."""
    yield
    forget_world(database_url, world)


def layer(api, headers, **params) -> dict:
    r = api.get("/maps/reports", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    found = DATA.search(r.text)
    assert found, "the page embeds the layer's data"
    return json.loads(found.group(1))


def visible(api, headers) -> set[int]:
    r = api.get("/reports", params={"limit": 1000}, headers=headers)
    assert r.status_code == 200, r.text
    return {row["id"] for row in r.json()["items"]}


def file(api, as_user, who, category, where) -> int:
    r = api.post(
        "/reports",
        json={"category": category, "lon": where[0], "lat": where[1], "client_id": uuid.uuid4().hex},
        headers=as_user(who),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_the_map_draws_the_reports_each_account_reads(api, as_user, world) -> None:
    on_road = [file(api, as_user, "reporter", "street_vending", NEAR) for _ in range(3)]
    in_g2 = file(api, as_user, "reporter2", "noise", IN_G2)
    drawn = {}
    for who in ("unit_a", "unit_b", "reporter", "reporter2", "admin", "viewer", "worker"):
        data = layer(api, as_user(who))
        ids = {r[0] for r in data["reports"]}
        assert ids == visible(api, as_user(who)), who
        drawn[who] = ids
    assert set(on_road) <= drawn["unit_b"] and in_g2 not in drawn["unit_b"]
    assert not set(on_road) & drawn["unit_a"]  # unit A held the section before CHANGE only
    assert set(on_road) <= drawn["reporter"] and in_g2 not in drawn["reporter"]
    assert in_g2 in drawn["reporter2"] and not set(on_road) & drawn["reporter2"]
    assert {*on_road, in_g2} <= drawn["admin"] and {*on_road, in_g2} <= drawn["viewer"]
    assert set(on_road) <= drawn["worker"] and in_g2 not in drawn["worker"]  # g1's worker: g1 only


def test_as_gridmap_app_a_unit_reads_only_its_own(database_url, world) -> None:
    """The layer's query itself, run as the service's role for unit B's and unit A's accounts."""
    from gis.maps.reports import report_layer_data

    with psycopg.connect(database_url) as conn:
        every = {
            r[0]
            for r in conn.execute(
                "SELECT id FROM report WHERE unit_id = %s AND owner_kind = 'unit'", [world["units"]["b"]]
            )
        }
        for who, expect in (("unit_b", every), ("unit_a", set())):
            conn.execute("SET LOCAL ROLE gridmap_app")
            conn.execute("SELECT set_config('gridmap.user_id', %s, true)", [str(world["ids"][who])])
            data = report_layer_data(conn)
            mine = {r[0] for r in data.reports}
            conn.rollback()
            assert mine == expect, who


def test_states_and_section_density_against_an_independent_count(api, as_user, world, database_url) -> None:
    data = layer(api, as_user("admin"), community=world["community"])
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT r.id, r.state, st.open, r.routed_section FROM report r"
            " JOIN report_state st ON st.code = r.state WHERE r.area_code = %s",
            [world["community"]],
        ).fetchall()
        length = conn.execute(
            "SELECT length_m FROM road_section WHERE id = %s", [world["section"]]
        ).fetchone()[0]
    assert {r[0]: r[3] for r in data["reports"]} == {r[0]: r[1] for r in rows}
    open_on_section = sum(1 for r in rows if r[2] and r[3] == world["section"])
    sections = {f["properties"]["id"]: f["properties"] for f in data["sections"]}
    assert open_on_section > 0
    assert sections[world["section"]]["open_reports"] == open_on_section
    assert abs(sections[world["section"]]["per_100m"] - open_on_section * 100 / length) < 0.01
    assert set(data["stateClass"]) >= {r[1] for r in rows}  # every state has its colour


def test_one_area_at_a_time_and_codes_checked(api, as_user, world) -> None:
    headers = as_user("admin")
    g1 = layer(api, headers, grid=world["g1"])
    assert all(r[1] < 26.0 + 0.01 for r in g1["reports"])
    r = api.get(
        "/maps/reports", params={"grid": world["g1"], "community": world["community"]}, headers=headers
    )
    assert r.status_code == 422 and "community" in r.text
    assert api.get("/maps/reports", params={"grid": "12"}, headers=headers).status_code == 422
    assert api.get("/maps/reports").status_code == 401
