"""Cutting roads into sections: at intersections, at a maximum length, by hand at a point."""

from __future__ import annotations

import pytest
from pyproj import Geod

from gis.errors import InvalidInput, NotFound
from gis.roads.assignments import assign_section, section_history
from gis.roads.cutting import cut_roads, split_section
from tests.roads.conftest import GRID_EAST, GRID_WEST, add_unit, section_id

GEOD = Geod(ellps="WGS84")


def codes(conn, road=None):
    return [r[0] for r in conn.execute(
        "SELECT s.code FROM road_section s JOIN road r ON r.id = s.road_id WHERE s.retired_on IS NULL"
        " AND (%s::text IS NULL OR r.ref = %s) ORDER BY s.code", [road, road])]


def test_cut_at_intersections(network):
    result = cut_roads(network, "intersections")
    assert result.sources == 4 and result.created == 9
    # 人民路 is crossed by 建设路 and 朝阳路 and met by 解放路: four sections west to east.
    assert codes(network, "R1") == ["R1-001", "R1-002", "R1-003", "R1-004"]
    assert codes(network, "R2") == ["R2-001", "R2-002"]
    assert codes(network, "R4") == ["R4-001"]  # touching at its own end does not cut it
    rows = network.execute(
        "SELECT code, from_desc, to_desc, length_m, grid_code, grid_codes, community_code, street_name"
        " FROM road_section WHERE code LIKE 'R1-%' ORDER BY code").fetchall()
    first, second = rows[0], rows[1]
    assert first[1] == "K0+000" and first[2].startswith("建设路 / K0+")
    assert second[1].startswith("建设路") and second[2].startswith("朝阳路")
    # lengths in metres on the ellipsoid
    expected = GEOD.line_length([111.700, 111.705], [29.0, 29.0])
    assert first[3] == pytest.approx(expected, abs=0.01)
    whole = GEOD.line_length([111.70, 111.72], [29.0, 29.0])
    assert sum(r[3] for r in rows) == pytest.approx(whole, abs=0.05)
    # 111.705-111.712 straddles the grid border at 111.71: two grids, the longer share first
    assert second[5] == [GRID_WEST, GRID_EAST] and second[4] == GRID_WEST  # 500 m west, 200 m east
    assert first[6] == "430702001001" and first[7] == "武陵街道"


def test_cut_is_idempotent_and_keeps_untouched_sections(network):
    cut_roads(network, "intersections")
    before = network.execute("SELECT id, code FROM road_section ORDER BY id").fetchall()
    again = cut_roads(network, "intersections")
    assert again.replaced == 0 and again.created == 0
    assert network.execute("SELECT id, code FROM road_section ORDER BY id").fetchall() == before


def test_cut_at_max_length(network):
    cut_roads(network, "intersections")
    result = cut_roads(network, "max_length", max_length_m=300, roads=["R1"])
    lengths = network.execute(
        "SELECT code, length_m FROM road_section s WHERE retired_on IS NULL AND code LIKE 'R1-%'").fetchall()
    assert all(length <= 300.01 for _, length in lengths)
    assert "R1-001-1" in dict(lengths) and "R1-001-2" in dict(lengths)  # 487 m -> 2 parts
    assert result.created == len(lengths)
    assert codes(network, "R2") == ["R2-001", "R2-002"]  # other roads not touched
    with pytest.raises(InvalidInput) as err:
        cut_roads(network, "max_length", max_length_m=None)
    assert err.value.problems[0].field == "max_length_m"
    with pytest.raises(InvalidInput) as err:
        cut_roads(network, "intersections", roads=["R1", "NOPE"])
    assert err.value.problems[0].field == "roads" and "NOPE" in err.value.problems[0].reason


def test_split_by_hand_moves_current_assignment(network):
    cut_roads(network, "intersections")
    sid = section_id(network, "R1-001")
    unit = add_unit(network, "市城管局")
    from datetime import date, timedelta
    start = date.today() - timedelta(days=30)
    assign_section(network, sid, unit, start)
    left, right = split_section(network, sid, 111.7025, 29.00002)
    assert codes(network, "R1")[:2] == ["R1-001-1", "R1-001-2"]
    # the parent is retired with its history capped at yesterday; each child holds it from today
    parent = network.execute("SELECT retired_on FROM road_section WHERE id = %s", [sid]).fetchone()
    assert parent[0] == date.today()
    history = section_history(network, left)
    assert [(h["section_id"], h["valid_from"], h["valid_to"]) for h in history] == [
        (sid, start, date.today() - timedelta(days=1)), (left, date.today(), None)]
    assert section_history(network, right)[-1]["unit_id"] == unit


def test_split_refuses_a_point_off_the_line(network):
    cut_roads(network, "intersections")
    sid = section_id(network, "R1-001")
    with pytest.raises(InvalidInput) as err:
        split_section(network, sid, 111.7025, 29.001)  # ~111 m north
    assert err.value.problems[0].field == "point" and "m from section" in err.value.problems[0].reason
    with pytest.raises(InvalidInput) as err:
        split_section(network, sid, 111.70, 29.0)  # its very start
    assert "end" in err.value.problems[0].reason
    with pytest.raises(NotFound):
        split_section(network, 10**9, 111.7, 29.0)
