"""Coverage per street, community and grid; overlapping sections; frontage of shops (门前三包)."""

from __future__ import annotations

from datetime import date

import pytest
from pyproj import Geod

from gis.errors import InvalidInput
from gis.roads.assignments import assign_section
from gis.roads.coverage import coverage, overlapping_sections, unassigned_sections
from gis.roads.cutting import cut_roads
from gis.roads.frontage import frontage, frontage_by_section
from tests.roads.conftest import COMMUNITY, GRID_EAST, GRID_WEST, add_roads, add_unit, section_id

GEOD = Geod(ellps="WGS84")
D = date(2026, 3, 1)


def test_coverage_by_length_share(network):
    cut_roads(network, "intersections")
    unit = add_unit(network, "市城管局")
    assign_section(network, section_id(network, "R1-002"), unit, date(2026, 1, 1))  # 111.705-111.712
    report = coverage(network, D)
    total = network.execute("SELECT sum(length_m) FROM road_section WHERE retired_on IS NULL").fetchone()[0]
    assigned = GEOD.line_length([111.705, 111.712], [29, 29])
    assert report["total"]["total_m"] == pytest.approx(total, abs=0.1)
    assert report["total"]["assigned_m"] == pytest.approx(assigned, abs=0.1)
    assert report["total"]["assigned_pct"] == pytest.approx(100 * assigned / total, abs=0.01)
    assert report["total"]["sections"] == 9 and report["total"]["unassigned_sections"] == 8
    grids = {g["key"]: g for g in report["grid"]}
    # R1-002 lies 500 m in the west grid and 200 m in the east grid: split by length, not by section
    west, east = GEOD.line_length([111.705, 111.71], [29, 29]), GEOD.line_length([111.71, 111.712], [29, 29])
    assert grids[GRID_WEST]["assigned_m"] == pytest.approx(west, abs=0.1)
    assert grids[GRID_EAST]["assigned_m"] == pytest.approx(east, abs=0.1)
    assert sum(g["total_m"] for g in report["grid"]) == pytest.approx(total, abs=0.1)
    assert report["community"][0]["key"] == COMMUNITY and report["street"][0]["key"] == "武陵街道"
    # before the assignment started nothing was covered
    assert coverage(network, date(2025, 12, 31))["total"]["assigned_m"] == 0
    gaps = unassigned_sections(network, D)
    assert len(gaps) == 8 and "R1-002" not in {g["code"] for g in gaps}


def test_overlapping_sections(network):
    add_roads(network, [("R5", "人民路辅道", "LINESTRING(111.7010 29.000, 111.7030 29.000)")])
    cut_roads(network, "intersections")
    pairs = overlapping_sections(network)
    assert len(pairs) == 1
    pair = pairs[0]
    assert {pair["road_a"], pair["road_b"]} == {"人民路", "人民路辅道"}
    assert pair["overlap_m"] == pytest.approx(GEOD.line_length([111.701, 111.703], [29, 29]), abs=0.1)
    # crossings are not overlaps
    assert all("建设路" not in (p["road_a"], p["road_b"]) for p in pairs)


@pytest.fixture
def shops(network):
    network.execute("CREATE TEMP TABLE shop (ref text, name text, category text, geom geometry(Point, 4326))")
    network.execute(
        """INSERT INTO shop VALUES
           ('S1', '好又多超市', 'shop', ST_SetSRID(ST_MakePoint(111.701, 29.0001), 4326)),
           ('S2', '兰州拉面', 'food', ST_SetSRID(ST_MakePoint(111.702, 29.0001), 4326)),
           ('S3', '新华书店', 'book', ST_SetSRID(ST_MakePoint(111.704, 28.9999), 4326)),
           ('FAR', '远处小卖部', 'shop', ST_SetSRID(ST_MakePoint(111.702, 29.002), 4326))""")
    cut_roads(network, "intersections")
    return network


def test_frontage_splits_at_halfway_points(shops):
    rows = frontage(shops, "shop", section_id=section_id(shops, "R1-001"))
    assert [r["place_ref"] for r in rows] == ["S1", "S2", "S3"]
    length = GEOD.line_length([111.700, 111.705], [29, 29])
    expected = [0.3 * length, 0.3 * length, 0.4 * length]
    assert [r["frontage_m"] for r in rows] == pytest.approx(expected, abs=0.2)
    assert rows[0]["from_m"] == 0 and rows[-1]["to_m"] == pytest.approx(length, abs=0.1)
    assert rows[0]["distance_m"] == pytest.approx(11.1, abs=0.2)
    everything = frontage(shops, "shop")
    assert "FAR" not in {r["place_ref"] for r in everything}  # 222 m from every road
    assert len(frontage(shops, "shop", categories=["food"])) == 1
    grouped = frontage_by_section(everything)
    assert grouped[0]["section_code"] == "R1-001" and len(grouped[0]["shops"]) == 3


def test_frontage_refuses_bad_input_and_reads_place(shops):
    with pytest.raises(InvalidInput) as err:
        frontage(shops, "no_such_table")
    assert err.value.problems[0].field == "places"
    with pytest.raises(InvalidInput):
        frontage(shops, "shop", max_distance_m=0)
    # an injection attempt is only ever a (missing) table name
    with pytest.raises(InvalidInput):
        frontage(shops, 'shop"; DROP TABLE road; --')
    shops.execute("INSERT INTO place (ref, name, category, geom) VALUES "
                  "('P1', '烟酒店', 'tobacco', ST_SetSRID(ST_MakePoint(111.715, 29.0002), 4326))")
    rows = frontage(shops, "place", categories=["tobacco"])
    assert [(r["place_ref"], r["section_code"]) for r in rows] == [("P1", "R1-003")]
