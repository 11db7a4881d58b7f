"""gis.perimeter.places and the rule preview without the web: a campus's problems named by ring and
point, swapped lat/lon and GCJ-02 on the way in, a stale version refused, and a preview that leaves
the rules as they were."""

from __future__ import annotations

import prcoords
import pytest
import shapely

from gis.errors import Conflict, InvalidInput
from gis.perimeter import places, rules
from gis.settings import CHINA_BBOX
from tests.perimeter.conftest import CHENZHOU, campus, offset


def test_a_bowtie_names_its_ring_and_the_crossing():
    x, y = CHENZHOU
    bowtie = f"POLYGON(({x} {y}, {x + 0.001} {y + 0.001}, {x + 0.001} {y}, {x} {y + 0.001}, {x} {y}))"
    with pytest.raises(InvalidInput) as err:
        places.campus(bowtie, None, CHINA_BBOX)
    reason = err.value.problems[0].reason
    assert "outer boundary crosses itself" in reason and f"({x + 0.0005:.7f}, {y + 0.0005:.7f})" in reason


def test_a_hole_that_crosses_itself_is_named():
    outer = campus(*CHENZHOU, 300, 300)
    x, y = CHENZHOU
    d = 0.0003
    hole = [(x, y), (x + d, y + d), (x + d, y), (x, y + d), (x, y)]
    polygon = shapely.Polygon(outer.exterior.coords, [hole])
    assert places.polygon_problem(polygon).startswith("hole 1 crosses itself")


def test_swapped_coordinates_are_said_to_be_swapped():
    x, y = CHENZHOU
    with pytest.raises(InvalidInput, match="lat/lon look swapped"):
        places.position(y, x, None, CHINA_BBOX)
    with pytest.raises(InvalidInput, match="outside the region"):
        places.campus(shapely.to_geojson(campus(10.0, 10.0)), None, CHINA_BBOX)


def test_gcj02_is_converted_to_wgs84():
    x, y = CHENZHOU
    gcj = prcoords.wgs_gcj(prcoords.Coords(y, x))
    point = places.position(gcj.lon, gcj.lat, "gcj02", CHINA_BBOX)
    assert abs(point.x - x) < 1e-7 and abs(point.y - y) < 1e-7


def test_a_school_is_saved_and_a_stale_save_refused(conn):
    geometry = shapely.geometry.mapping(campus(*CHENZHOU))
    gate = offset(*CHENZHOU, 180, 80)
    school = places.save_school(conn, {"name": "一小", "level": "小学", "ref": "P-S1", "geometry": geometry,
                                       "gates": f"{gate[0]},{gate[1]}"})
    assert school["level"] == "primary" and school["gate_count"] == 1 and 31_000 < school["area_m2"] < 33_000
    renamed = {"name": "第一小学", "level": "primary", "ref": "P-S1", "geometry": geometry}
    again = places.save_school(conn, renamed, key="P-S1", version=school["version"])
    assert again["name"] == "第一小学" and again["gate_count"] == 0 and again["version"] != school["version"]
    with pytest.raises(Conflict):
        places.save_school(conn, {"name": "x", "level": "primary", "geometry": geometry}, key="P-S1",
                           version=school["version"])
    with pytest.raises(places.OutOfScope):  # no community holds it: not a scoped writer's
        places.save_school(conn, {"name": "y", "level": "primary", "geometry": geometry}, scopes=["4310"])


def test_the_preview_saves_nothing_and_counts_the_change(conn, world):
    x, y = CHENZHOU
    world.school("P-S2", campus(x, y), "primary")
    north = campus(x, y).bounds[3]
    world.place("P-C1", "game_hall", x, north + 150 / 110_574)  # no rule names game halls yet
    count = conn.execute("SELECT count(*) FROM perimeter_rule").fetchone()
    preview = rules.preview_rule(conn, {"region": "national", "category": "game_hall",
                                        "school_levels": ["primary"], "distance_m": 200, "kind": "forbidden"})
    assert [v["place_ref"] for v in preview["appear"]] == ["P-C1"] and preview["disappear"] == []
    assert [s["school_ref"] for s in preview["schools"]] == ["P-S2"]
    assert conn.execute("SELECT count(*) FROM perimeter_rule").fetchone() == count
    assert conn.execute("SELECT count(*) FROM ruled_place WHERE ref = 'P-C1'").fetchone() == (0,)
