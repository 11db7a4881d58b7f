"""Grids and household assignment (一户一格) at the gis level, in a rolled-back transaction."""

from __future__ import annotations

import pytest

from gis.division import communities, grids, workers
from gis.errors import Conflict, InvalidInput, NotFound
from gis.register import households as register
from gis.settings import CHINA_BBOX


def box(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def division(conn, h):
    """(code, lon, lat): a community with grids west (001) and east (002), and its south-west corner."""
    code = h.new_community_code()
    LON0, LAT0 = h.spot(code)
    communities.create_community(conn, code, "测试社区", box(LON0, LAT0, LON0 + 0.02, LAT0 + 0.02))
    grids.create_grid(conn, code + "001", code, "西", box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.02))
    grids.create_grid(conn, code + "002", code, "东", box(LON0 + 0.01, LAT0, LON0 + 0.02, LAT0 + 0.02))
    return code, LON0, LAT0


def _households(conn, lon0, lat0, *places):
    """Insert households given as (address, dx, dy) from the division's south-west corner."""
    return register.insert_households(
        conn, [{"address": a, "lon": lon0 + dx, "lat": lat0 + dy} for a, dx, dy in places], CHINA_BBOX)


def _place(conn, ids):
    rows = conn.execute("SELECT id, grid_code, placement::text FROM household WHERE id = ANY(%s)", [ids])
    return {r[0]: (r[1], r[2]) for r in rows}


def test_households_are_placed_set_based(conn, division):
    division, LON0, LAT0 = division
    ids = _households(conn, LON0, LAT0, ("西 1", 0.005, 0.01), ("东 1", 0.015, 0.01), ("边界", 0.01, 0.01),
                      ("外面", 0.03, 0.01))
    w, e = division + "001", division + "002"
    assert _place(conn, ids) == {
        ids[0]: (w, "inside"),
        ids[1]: (e, "inside"),
        ids[2]: (w, "border"),
        ids[3]: (None, "outside"),
    }
    unplaced = grids.unplaced_households(conn, division)
    assert [h["id"] for h in unplaced if h["id"] in ids] == [ids[2]]  # outside is not in the community
    assert {h["id"] for h in grids.unplaced_households(conn)} >= {ids[2], ids[3]}


def test_grid_changes_reassign_households(conn, division):
    division, LON0, LAT0 = division
    ids = _households(conn, LON0, LAT0, ("西 1", 0.002, 0.01), ("西 2", 0.008, 0.01), ("外面", 0.025, 0.01))
    w, e = division + "001", division + "002"
    # West shrinks: its second household is left outside every grid.
    grids.update_grid(conn, w, "西", box(LON0, LAT0, LON0 + 0.005, LAT0 + 0.02))
    assert _place(conn, ids)[ids[1]] == (None, "outside")
    assert _place(conn, ids)[ids[0]] == (w, "inside")
    # East cannot grow beyond the community (the household outside it stays outside)...
    with pytest.raises(InvalidInput) as err:
        grids.update_grid(conn, e, "东", box(LON0 + 0.005, LAT0, LON0 + 0.03, LAT0 + 0.02))
    assert err.value.problems[0].field == "geom" and "outside its community" in err.value.problems[0].reason
    assert _place(conn, ids)[ids[2]] == (None, "outside")
    # ...but it can take in the household west lost.
    grids.update_grid(conn, e, "东", box(LON0 + 0.005, LAT0, LON0 + 0.02, LAT0 + 0.02))
    assert _place(conn, ids)[ids[1]] == (e, "inside")
    # Deleting the east grid leaves its households outside, not pointing at nothing.
    grids.delete_grid(conn, e)
    assert _place(conn, ids)[ids[1]] == (None, "outside")
    # A new grid takes them in again.
    grids.create_grid(
        conn, division + "003", division, "新", box(LON0 + 0.005, LAT0, LON0 + 0.02, LAT0 + 0.02)
    )
    assert _place(conn, ids)[ids[1]] == (division + "003", "inside")


def test_households_left_by_an_overlapping_grid_are_placed_again(conn, division):
    """Only the old boundary finds them: they keep their grid (lower code) but stop being on a border."""
    division, LON0, LAT0 = division
    west, east = division + "001", division + "002"
    grids.update_grid(conn, east, "东", box(LON0 + 0.005, LAT0, LON0 + 0.02, LAT0 + 0.02))  # overlaps west
    (hid,) = _households(conn, LON0, LAT0, ("重叠", 0.007, 0.01))
    assert _place(conn, [hid])[hid] == (west, "border")  # in two grids at once
    grids.update_grid(conn, east, "东", box(LON0 + 0.01, LAT0, LON0 + 0.02, LAT0 + 0.02))
    assert _place(conn, [hid])[hid] == (west, "inside")


def test_grid_input_problems(conn, division):
    division, LON0, LAT0 = division
    with pytest.raises(InvalidInput) as err:
        grids.create_grid(conn, "431002001001001", division, "x", box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01))
    assert err.value.problems[0].field == "code"
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[LON0, LAT0], [LON0 + 0.01, LAT0 + 0.01], [LON0 + 0.01, LAT0], [LON0, LAT0 + 0.01], [LON0, LAT0]]
        ],
    }
    with pytest.raises(InvalidInput) as err:
        grids.create_grid(conn, division + "009", division, "x", bowtie)
    assert "Self-intersection" in err.value.problems[0].reason
    with pytest.raises(InvalidInput):
        grids.create_grid(conn, division + "009", division, "x", {"type": "Point", "coordinates": [1, 2]})
    with pytest.raises(InvalidInput):
        grids.create_grid(conn, division + "009", division, "x", {"type": "Polygon", "coordinates": "x"})
    with pytest.raises(InvalidInput):  # lat/lon swapped polygon leaves the region
        grids.create_grid(
            conn, division + "009", division, "x", box(LAT0, LON0, LAT0 + 0.01, LON0 + 0.01), bbox=CHINA_BBOX
        )
    with pytest.raises(Conflict):
        grids.create_grid(conn, division + "001", division, "x", box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01))
    with pytest.raises(Conflict):
        communities.delete_community(conn, division)
    with pytest.raises(NotFound):
        grids.get_grid(conn, division + "099")


def test_workers_listed_with_masked_phone(conn, division):
    division, LON0, LAT0 = division
    worker = workers.create_worker(conn, "张网格", phone="13812345678", grids=[division + "001"])
    assert worker["phone"] == "138****5678"
    workers.assign_worker(conn, worker["id"], division + "002", role="team")
    archive = grids.get_grid(conn, division + "002")
    assert [(w["name"], w["role"], w["phone"]) for w in archive["workers"]] == [
        ("张网格", "team", "138****5678")
    ]
    assert len(workers.list_workers(conn, grid=division + "001")) == 1
    with pytest.raises(NotFound):
        workers.assign_worker(conn, worker["id"], division + "099")
