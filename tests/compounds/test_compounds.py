"""Unmanaged compounds (无人管理小区): polygons judged before they are stored (an invalid ring, a point,
bad management: 422 naming the field and row), a GeoJSON import all or nothing, overlaps reported like
the division check; one lead helper per compound at any time (two concurrent pairings: exactly one
wins, the other 409; history kept when a pairing ends); tasks with photos before and after recorded
only by the helper's own accounts; coverage per street, community and grid equal to the lists."""

from __future__ import annotations

import io
import json
import threading
from datetime import date, timedelta

import psycopg
import pytest
from PIL import Image

from gis.access import accounts
from gis.compounds import helpers
from gis.errors import Conflict
from tests.duties.campaign_world import X0, Y0, square


def photo(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "PNG")
    return out.getvalue()


def new_compound(api, headers, name: str, x: float, y: float, size: float = 0.002, **fields) -> dict:
    r = api.post(
        "/compounds",
        headers=headers,
        json={"name": name, "geometry": square(x, y, size), "management": "none", **fields},
    )
    assert r.status_code == 201, r.text
    return r.json()


def pair(api, headers, compound: int, unit: int, start: str, end: str | None = None):
    return api.post(
        f"/compounds/{compound}/helpers",
        headers=headers,
        json={"unit_id": unit, "valid_from": start, "valid_to": end},
    )


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[X0, Y0], [X0 + 0.001, Y0 + 0.001], [X0 + 0.001, Y0], [X0, Y0 + 0.001], [X0, Y0]]],
}


def test_bad_polygons_and_fields_are_named(api, as_user, world):
    planner = as_user("planner")

    def refused(body: dict) -> set[str]:
        r = api.post(
            "/compounds", headers=planner, json={"name": "x", "geometry": square(X0, Y0, 0.001), **body}
        )
        assert r.status_code == 422, r.text
        return {e["field"] for e in r.json()["errors"]}

    assert refused({"geometry": BOWTIE}) == {"geometry"}
    assert refused({"geometry": {"type": "Point", "coordinates": [X0, Y0]}}) == {"geometry"}
    assert refused({"geometry": {"type": "Polygon", "coordinates": [[[1, 2], [3]]]}}) == {"geometry"}
    assert refused({"geometry": square(500, 25, 1)}) == {"geometry"}
    assert refused({"management": "castle"}) == {"management"}
    assert refused({"name": ""}) == {"name"}
    r = api.post("/compounds", headers=planner, json={"name": "x", "geometry": BOWTIE})
    assert "Self-intersection" in r.json()["errors"][0]["reason"]


def test_import_is_all_or_nothing_and_reports_overlaps(api, as_user, world, database_url):
    planner = as_user("planner")
    tag = world["tag"]

    def feature(ref: str, geometry: dict, **props) -> dict:
        return {"type": "Feature", "geometry": geometry, "properties": {"name": ref, "ref": ref, **props}}

    bad = {
        "type": "FeatureCollection",
        "features": [
            feature(f"{tag}-i1", square(X0 + 0.011, Y0 + 0.001, 0.002)),
            feature(f"{tag}-i2", BOWTIE),
            feature(f"{tag}-i3", square(X0 + 0.012, Y0 + 0.001, 0.002), management="nobody"),
        ],
    }
    r = api.post(
        "/compounds/import",
        headers=planner,
        files={"file": ("c.geojson", json.dumps(bad).encode(), "application/geo+json")},
    )
    assert r.status_code == 422, r.text
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(2, "geometry"), (3, "management")}
    with psycopg.connect(database_url) as c:
        assert c.execute("SELECT count(*) FROM compound WHERE ref LIKE %s", [f"{tag}-i%"]).fetchone()[0] == 0
    good = {
        "type": "FeatureCollection",
        "features": [
            feature(f"{tag}-i1", square(X0 + 0.011, Y0 + 0.001, 0.002), households=40),
            feature(f"{tag}-i3", square(X0 + 0.012, Y0 + 0.001, 0.002), management="self"),
        ],
    }
    r = api.post(
        "/compounds/import",
        headers=planner,
        files={"file": ("c.geojson", json.dumps(good).encode(), "application/geo+json")},
    )
    assert r.status_code == 201, r.text
    result = r.json()
    assert result["imported"] == 2
    assert [(o["compound_id"], o["other_id"]) for o in result["overlaps"]] == [tuple(result["ids"])]
    # 0.001° x 0.002° shared: about 100 m x 200 m at 26° N
    assert 15_000 < result["overlaps"][0]["overlap_m2"] < 25_000
    overlaps = api.get("/compounds/overlaps", headers=as_user("viewer")).json()
    assert tuple(result["ids"]) in {(o["compound_id"], o["other_id"]) for o in overlaps}
    again = api.post(
        "/compounds/import",
        headers=planner,
        files={"file": ("c.geojson", json.dumps(good).encode(), "application/geo+json")},
    )
    assert again.status_code == 422 and {e["field"] for e in again.json()["errors"]} == {"ref"}
    junk = api.post(
        "/compounds/import", headers=planner, files={"file": ("c.geojson", b"{", "application/json")}
    )
    assert junk.status_code == 422 and junk.json()["errors"][0]["field"] == "file"


def test_two_concurrent_pairings_of_one_compound_exactly_one_wins(api, as_user, world):
    compound = new_compound(api, as_user("planner"), "并发", X0 + 0.001, Y0 + 0.006, 0.001)
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def attempt(who: str, unit: int) -> None:
        barrier.wait()
        answers[who] = pair(api, as_user(who), compound["id"], unit, "2025-01-01").status_code

    threads = [
        threading.Thread(target=attempt, args=(who, world["units"][u]))
        for who, u in (("planner", "a"), ("admin", "b"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers.values()) == [201, 409], answers
    history = api.get(f"/compounds/{compound['id']}/helpers", headers=as_user("viewer")).json()
    assert len(history) == 1
    print(f"\nFIGURES pairing: two concurrent pairings of one compound through the API -> {answers}")


def test_the_second_pairing_waits_for_the_first_then_conflicts(world, database_url, settings):
    """Two real connections: the first holds its uncommitted pairing; the second queues on the compound's
    row and, once the first commits, is refused with the holder named."""
    with psycopg.connect(database_url) as c:
        compound = c.execute(
            "INSERT INTO compound (name, geom) VALUES ('锁', ST_Multi(ST_MakeEnvelope("
            "%s, %s, %s, %s, 4326))) RETURNING id",
            [X0 + 0.003, Y0 + 0.006, X0 + 0.004, Y0 + 0.007],
        ).fetchone()[0]
        c.commit()
    first = psycopg.connect(database_url)
    helpers.pair(first, compound, world["units"]["a"], date(2025, 1, 1))
    outcome: dict[str, object] = {}

    def second() -> None:
        with psycopg.connect(database_url) as c2:
            try:
                helpers.pair(c2, compound, world["units"]["b"], date(2025, 6, 1), date(2025, 6, 30))
                outcome["result"] = "paired"
            except Conflict as exc:
                outcome["result"] = exc

    t = threading.Thread(target=second)
    t.start()
    t.join(timeout=1.0)
    assert t.is_alive(), "the second pairing must wait for the first"
    first.commit()
    first.close()
    t.join(timeout=10)
    assert isinstance(outcome["result"], helpers.HelperConflict)
    assert outcome["result"].holders[0]["unit_id"] == world["units"]["a"]


def test_ending_keeps_history_and_frees_the_compound(api, as_user, world):
    planner = as_user("planner")
    compound = new_compound(api, planner, "历史", X0 + 0.005, Y0 + 0.006, 0.001)
    first = pair(api, planner, compound["id"], world["units"]["a"], "2025-01-01")
    assert first.status_code == 201
    clash = pair(api, planner, compound["id"], world["units"]["b"], "2025-03-01")
    assert clash.status_code == 409 and "unit a" in clash.json()["detail"]
    ended = api.post(
        f"/compound-helpers/{first.json()['id']}/end", headers=planner, json={"valid_to": "2025-02-28"}
    )
    assert ended.status_code == 200 and ended.json()["valid_to"] == "2025-02-28"
    assert pair(api, planner, compound["id"], world["units"]["b"], "2025-03-01").status_code == 201
    history = api.get(f"/compounds/{compound['id']}/helpers", headers=as_user("unit_a")).json()
    assert [(h["unit_id"], h["valid_from"], h["valid_to"]) for h in history] == [
        (world["units"]["a"], "2025-01-01", "2025-02-28"),
        (world["units"]["b"], "2025-03-01", None),
    ]
    bad = pair(api, planner, compound["id"], world["units"]["a"], "2024-05-01", "2024-04-01")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "valid_to"
    assert pair(api, as_user("unit_a"), compound["id"], world["units"]["a"], "2020-01-01").status_code == 403
    assert pair(api, as_user("viewer"), compound["id"], world["units"]["a"], "2020-01-01").status_code == 403


def test_tasks_with_photos_before_and_after_by_the_helpers_own_accounts(api, as_user, world):
    compound = new_compound(api, as_user("planner"), "任务", X0 + 0.007, Y0 + 0.006, 0.001)
    assert pair(api, as_user("planner"), compound["id"], world["units"]["a"], "2025-01-01").status_code == 201
    r = api.post(
        f"/compounds/{compound['id']}/tasks",
        headers=as_user("unit_a"),
        data={"kind": "greening", "title": "补种绿篱", "done_on": "2025-04-01"},
        files=[
            ("before", ("b.png", photo("gray"), "image/png")),
            ("after", ("a.png", photo("green"), "image/png")),
        ],
    )
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["recorder"] == world["users"]["unit_a"] and task["unit_id"] == world["units"]["a"]
    assert sorted(p["stage"] for p in task["photos"]) == ["after", "before"]
    other = api.post(
        f"/compounds/{compound['id']}/tasks",
        headers=as_user("unit_b"),
        json={"kind": "lighting", "title": "x", "done_on": "2025-04-01"},
    )
    assert other.status_code == 403, other.text
    early = api.post(
        f"/compounds/{compound['id']}/tasks",
        headers=as_user("unit_a"),
        json={"kind": "lighting", "title": "x", "done_on": "2024-04-01"},
    )
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "done_on"
    bad_kind = api.post(
        f"/compounds/{compound['id']}/tasks",
        headers=as_user("unit_a"),
        json={"kind": "painting", "title": "x", "done_on": "2025-04-01"},
    )
    assert bad_kind.status_code == 422 and bad_kind.json()["errors"][0]["field"] == "kind"
    assert [
        t["id"] for t in api.get(f"/compounds/{compound['id']}/tasks", headers=as_user("unit_a")).json()
    ] == [task["id"]]
    assert api.get(f"/compounds/{compound['id']}/tasks", headers=as_user("unit_b")).json() == []


@pytest.mark.parametrize("level", ["street", "community", "grid"])
def test_coverage_equals_its_drill_down_lists(api, as_user, world, database_url, level):
    planner = as_user("planner")
    # g1 (x < X0 + 0.01) and g2, one outside the community
    made = [
        new_compound(api, planner, f"覆盖{i}", x, Y0 + 0.0085, 0.0005)
        for i, x in enumerate((X0 + 0.002, X0 + 0.004, X0 + 0.013, X0 + 0.05))
    ]
    today = date.today()
    for c in made[:1] + made[2:]:
        pair(api, planner, c["id"], world["units"]["b"], (today - timedelta(days=3)).isoformat())
    figures = api.get("/compounds/coverage", headers=as_user("viewer"), params={"level": level}).json()
    assert (
        figures["total"]["compounds"]
        == sum(r["compounds"] for r in figures["rows"]) + figures["outside"]["compounds"]
    )
    assert (
        figures["total"]["helped"] == sum(r["helped"] for r in figures["rows"]) + figures["outside"]["helped"]
    )
    mine = [r for r in figures["rows"] if r["code"].startswith(world["street"])]
    assert mine
    for row in mine:
        every = api.get("/compounds", headers=as_user("viewer"), params={"area": row["code"]}).json()
        helped = api.get(
            "/compounds", headers=as_user("viewer"), params={"area": row["code"], "helped": "true"}
        ).json()
        assert (row["compounds"], row["helped"]) == (len(every), len(helped)), row
        assert row["share"] == round(len(helped) / len(every), 4)
    placed = {c["id"]: c for c in api.get("/compounds", headers=as_user("viewer")).json()}
    assert (
        placed[made[0]["id"]]["grid_code"] == world["g1"]
        and placed[made[2]["id"]]["grid_code"] == world["g2"]
    )
    assert placed[made[3]["id"]]["community_code"] is None
    bad = api.get("/compounds/coverage", headers=as_user("viewer"), params={"level": "county"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "level"


def test_a_unit_account_without_a_unit_sees_no_duty_and_records_no_task(api, world, database_url, settings):
    """An account holding the unit role but linked to no unit: row-level security gives it nothing."""
    import uuid

    with psycopg.connect(database_url) as c:
        name, password = f"c-{world['tag']}-lonely", uuid.uuid4().hex
        accounts.create_user(c, name, password)
        accounts.grant(c, name, "unit", world["street"])
        token, _ = accounts.issue_token(c, name, password, settings.secret_key, timedelta(hours=1))
        c.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/duties", headers=headers).json() == []
    helped = api.get("/compounds", headers=headers, params={"helped": "true"}).json()
    assert helped, "the other tests paired compounds"
    r = api.post(
        f"/compounds/{helped[0]['id']}/tasks",
        headers=headers,
        json={"kind": "lighting", "title": "x", "done_on": helped[0]["helper_from"]},
    )
    assert r.status_code == 403, r.text


def test_the_coverage_page_figures_link_the_lists_they_count(api, as_user, world):
    planner = as_user("planner")
    made = new_compound(api, planner, "页面小区", X0 + 0.009, Y0 + 0.0002, 0.0005)
    html = {**as_user("viewer"), "Accept": "text/html"}
    r = api.get("/compounds/coverage", headers=html, params={"level": "grid"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    figures = api.get("/compounds/coverage", headers=as_user("viewer"), params={"level": "grid"}).json()
    row = next(x for x in figures["rows"] if x["code"] == world["g1"])
    assert f'href="/compounds?area={world["g1"]}&amp;on=' in r.text
    listed = api.get("/compounds", headers=html, params={"area": world["g1"]})
    assert f'data-total="{row["compounds"]}"' in listed.text and "页面小区" in listed.text
    assert f'data-compound="{made["id"]}"' in listed.text
    # a unit's account may list compounds but not open the coverage: no link to it
    unit_page = api.get("/compounds", headers={**as_user("unit_a"), "Accept": "text/html"}).text
    assert 'href="/compounds/coverage"' not in unit_page
