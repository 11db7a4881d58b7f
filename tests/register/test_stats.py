"""四清 statistics: known figures, and every figure equals the total of the list its href opens."""

from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import box

from gis.register.stats import flatten


@pytest.fixture
def populated(client, two_grids, h):
    """West: two households (one poor); east: one household; border: one; one outside every grid."""
    d = two_grids()
    x, y = d["x0"], d["y0"]

    def household(dx: float) -> int:
        r = client.post("/households", json={"address": f"统计路{dx}", "lon": x + dx, "lat": y + 0.01})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    w1, w2, e1, border, outside = (household(dx) for dx in (0.002, 0.004, 0.015, 0.01, 0.03))
    people = [
        (w1, {"relation": "head", "employment": "employed", "id_number": h.id_number()}),
        (w1, {"relation": "spouse", "residence": "floating", "employment": "unemployed", "poverty": "dibao"}),
        (w1, {"relation": "child", "employment": "student", "poverty": "dibao"}),
        (w2, {"relation": "head", "key_person": "community_correction", "residence": "floating"}),
        (
            w2,
            {
                "relation": "parent",
                "elderly_alone": True,
                "disabled": True,
                "employment": "retired",
                "poverty": "tekun",
            },
        ),
        (e1, {"relation": "head", "activist": True, "volunteer": True, "key_person": "petitioner"}),
        (border, {"relation": "head", "volunteer": True}),
        (outside, {"relation": "head", "residence": "floating", "key_person": "petitioner"}),
    ]
    for hid, fields in people:
        r = client.post("/persons", json={"household_id": hid, "name": "统计", **fields})
        assert r.status_code == 201, r.text
    return d


def _count_behind(client, href: str) -> int:
    r = client.get(href + ("&" if "?" in href else "?") + "limit=1")
    assert r.status_code == 200, (href, r.text)
    return r.json()["total"]


def test_known_figures(client, populated):
    d = populated
    r = client.get("/stats", params={"community": d["community"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["all"] is None and [c["code"] for c in body["communities"]] == [d["community"]]
    c = body["communities"][0]["figures"]
    assert c["households"]["count"] == 4 and c["persons"]["count"] == 7  # outside not in the community
    assert c["floating"]["count"] == 2 and c["registered"]["count"] == 5
    assert c["employment"]["employed"]["count"] == 1 and c["employment"]["unknown"]["count"] == 3
    assert c["key_persons"]["count"] == 2
    assert c["key_persons_by_category"]["petitioner"]["count"] == 1
    assert c["key_persons_by_category"]["released_prisoner"]["count"] == 0
    assert c["poverty_persons"]["count"] == 3 and c["poverty_households"]["count"] == 2
    assert c["poverty_by_status"]["dibao"] == {
        "persons": {"count": 2, "href": f"/persons?community={d['community']}&poverty=dibao"},
        "households": {"count": 1, "href": f"/households?community={d['community']}&poverty=dibao"},
    }
    assert c["elderly_alone"]["count"] == 1 and c["volunteers"]["count"] == 2
    assert c["border_households"]["count"] == 1
    grids = {g["code"]: g["figures"] for g in body["grids"]}
    assert grids[d["west"]]["households"]["count"] == 3  # the border household goes to the lower code
    assert grids[d["east"]]["persons"]["count"] == 1
    assert grids[d["west"]]["floating"]["href"] == f"/persons?grid={d['west']}&residence=floating"


def test_every_figure_drills_down_to_exactly_its_rows(client, populated):
    d = populated
    for params in ({}, {"community": d["community"]}, {"grid": d["east"]}):
        body = client.get("/stats", params=params).json()
        entries = ([body["all"]] if body["all"] else []) + body["communities"] + body["grids"]
        assert entries
        checked = 0
        for entry in entries:
            if entry["level"] == "grid" and entry["code"] not in (d["west"], d["east"]):
                continue  # other tests' grids: the all/community levels already cover them
            for name, figure in flatten(entry["figures"]).items():
                assert _count_behind(client, figure["href"]) == figure["count"], (entry.get("code"), name)
                checked += 1
        assert checked > 30


def test_grid_archive_carries_statistics(client, populated):
    d = populated
    r = client.get(f"/grids/{d['west']}")
    assert r.status_code == 200, r.text
    archive = r.json()
    assert archive["code"] == d["west"] and archive["geometry"]["type"] == "MultiPolygon"
    x, y = d["x0"], d["y0"]
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(box(x, y, x + 0.01, y + 0.02))
    assert archive["area_m2"] == pytest.approx(abs(area), rel=0.001)
    assert archive["statistics"]["persons"]["count"] == 6


def test_stats_bad_input(client, populated):
    assert client.get("/stats", params={"grid": "430102999999999"}).status_code == 404
    assert client.get("/stats", params={"grid": "43"}).status_code == 422
    assert (
        client.get(
            "/stats", params={"grid": populated["west"], "community": populated["community"]}
        ).status_code
        == 422
    )
