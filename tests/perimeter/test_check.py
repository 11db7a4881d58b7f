"""The perimeter check on hand-built cases: the 200 m line, inside a campus, nearest of several
schools, licence states, school levels, regional rules, door-to-door measuring and scopes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import shapely

from gis.errors import InvalidInput, NotFound
from gis.perimeter.check import Scope, perimeter_violations
from tests.perimeter.conftest import CHENZHOU, DAY, GEOD, campus, offset


def _north_of(poly: shapely.Polygon, metres: float) -> tuple[float, float]:
    """A point due north of the middle of the campus's north edge, ``metres`` away on the ellipsoid."""
    minx, _, maxx, maxy = poly.bounds
    return offset((minx + maxx) / 2, maxy, 0, metres)


def _by_ref(rows):
    return {r["place_ref"]: r for r in rows}


def _schools_a_and_b(world, azimuth: float, metres: float) -> tuple[shapely.Polygon, shapely.Polygon]:
    """School A at Chenzhou and school B ``metres`` away (centre to centre) in direction ``azimuth``."""
    a, b = campus(*CHENZHOU), campus(*offset(*CHENZHOU, azimuth, metres))
    world.school("A", a)
    world.school("B", b)
    return a, b


def test_199_9_violates_200_1_does_not(conn, world):
    poly = campus(*CHENZHOU)
    world.school("S1", poly)
    world.places([
        {"ref": "in", "category": "internet_cafe", "lon": CHENZHOU[0], "lat": CHENZHOU[1]},
        {"ref": "near", "category": "internet_cafe", "lon": _north_of(poly, 199.9)[0],
         "lat": _north_of(poly, 199.9)[1]},
        {"ref": "far", "category": "internet_cafe", "lon": _north_of(poly, 200.1)[0],
         "lat": _north_of(poly, 200.1)[1]},
        {"ref": "shop", "category": "restaurant", "lon": _north_of(poly, 10)[0],
         "lat": _north_of(poly, 10)[1]},
    ])
    rows = _by_ref(perimeter_violations(conn, DAY))
    assert set(rows) == {"in", "near"}
    assert rows["in"]["distance_m"] == 0
    assert rows["near"]["distance_m"] == pytest.approx(199.9, abs=0.01)
    assert rows["near"]["school_ref"] == "S1"
    assert rows["near"]["kind"] == "forbidden" and rows["near"]["method"] == "boundary"
    assert rows["near"]["rule"] == "internet_cafe forbidden within 200 m (boundary, national)"


def test_listed_once_with_the_nearest_school(conn, world):
    a, _ = _schools_a_and_b(world, 0, 400)
    # 150 m north of A's north edge is 90 m south of B's south edge (centres 400 m apart, 160 m tall).
    lon, lat = _north_of(a, 150)
    world.place("between", "internet_cafe", lon, lat)
    rows = perimeter_violations(conn, DAY)
    assert [r["place_ref"] for r in rows] == ["between"]
    assert rows[0]["school_ref"] == "B"
    assert rows[0]["distance_m"] == pytest.approx(90, abs=0.05)


def test_licence_required_places(conn, world):
    poly = campus(*CHENZHOU)
    world.school("S1", poly)
    lon, lat = _north_of(poly, 50)
    yesterday = DAY - timedelta(days=1)
    world.places([
        {"ref": "none", "category": "food_shop", "lon": lon, "lat": lat},
        {"ref": "expired", "category": "food_shop", "lon": lon, "lat": lat, "licences": [(yesterday, True)]},
        {"ref": "hidden", "category": "small_shop", "lon": lon, "lat": lat, "licences": [(DAY, False)]},
        {"ref": "ok", "category": "publication_shop", "lon": lon, "lat": lat, "licences": [(DAY, True)]},
        {"ref": "forever", "category": "food_shop", "lon": lon, "lat": lat, "licences": [(None, True)]},
        {"ref": "one_good", "category": "food_shop", "lon": lon, "lat": lat,
         "licences": [(yesterday, True), (DAY + timedelta(days=30), True)]},
    ])
    rows = _by_ref(perimeter_violations(conn, DAY))
    assert {k: v["licence_state"] for k, v in rows.items()} == {
        "none": "missing", "expired": "expired", "hidden": "not_displayed"}
    assert all(v["kind"] == "licence_required" for v in rows.values())
    # the day after, the licence valid until DAY has expired too
    later = _by_ref(perimeter_violations(conn, DAY + timedelta(days=1)))
    assert later["ok"]["licence_state"] == "expired"
    assert "forever" not in later and "one_good" not in later


def test_school_levels_without_rules_protect_nothing(conn, world):
    world.school("K", campus(*CHENZHOU), level="kindergarten")
    high_centre = offset(*CHENZHOU, 90, 3000)
    world.school("H", campus(*high_centre), level="high")
    world.places([
        {"ref": "k", "category": "internet_cafe", "lon": CHENZHOU[0], "lat": CHENZHOU[1]},
        {"ref": "h", "category": "internet_cafe", "lon": high_centre[0], "lat": high_centre[1]},
    ])
    assert perimeter_violations(conn, DAY) == []


def test_a_province_rule_replaces_the_national_one(conn, world):
    """Hunan (43) measures door to door, 100 m, for primary schools; kindergartens get 100 m too."""
    poly = campus(*CHENZHOU)
    gate = _north_of(poly, 0)  # the gate in the middle of the north wall
    world.community("431002001001", poly.buffer(0.05))
    world.school("P", poly, gates=[gate])
    k_centre = offset(*CHENZHOU, 90, 3000)
    world.community("431002001002", campus(*k_centre).buffer(0.01))
    k = campus(*k_centre)
    world.school("K", k, level="kindergarten")
    conn.execute("INSERT INTO perimeter_rule (region, category, school_levels, distance_m, kind, method)"
                 " VALUES ('43', 'internet_cafe', '{primary}', 100, 'forbidden', 'entrance'),"
                 " ('4310', 'internet_cafe', '{kindergarten}', 100, 'forbidden', 'boundary')")
    minx, miny, maxx, maxy = poly.bounds
    east_wall = offset(maxx, (miny + maxy) / 2, 90, 60)  # 60 m from the wall, ~117 m from the gate
    gate_near = offset(*gate, 0, 99.5)
    world.places([
        {"ref": "east", "category": "internet_cafe", "lon": east_wall[0], "lat": east_wall[1]},
        {"ref": "gate", "category": "internet_cafe", "lon": gate_near[0], "lat": gate_near[1]},
        {"ref": "kg", "category": "internet_cafe", "lon": _north_of(k, 99)[0], "lat": _north_of(k, 99)[1]},
        {"ref": "kg_far", "category": "internet_cafe", "lon": _north_of(k, 101)[0],
         "lat": _north_of(k, 101)[1]},
    ])
    rows = _by_ref(perimeter_violations(conn, DAY))
    assert set(rows) == {"gate", "kg"}
    assert rows["gate"]["method"] == "entrance" and rows["gate"]["region"] == "43"
    expected = GEOD.inv(*gate, *gate_near)[2]
    assert rows["gate"]["distance_m"] == pytest.approx(expected, abs=0.01)
    assert rows["kg"]["school_ref"] == "K" and rows["kg"]["rule_distance"] == 100


def test_scopes(conn, world):
    a, b = _schools_a_and_b(world, 90, 2000)
    world.community("431002001001", a.buffer(0.004))
    world.grid("431002001001001", a.buffer(0.004))
    world.places([
        {"ref": "a", "category": "internet_cafe", "lon": _north_of(a, 20)[0], "lat": _north_of(a, 20)[1]},
        {"ref": "b", "category": "internet_cafe", "lon": _north_of(b, 20)[0], "lat": _north_of(b, 20)[1]},
    ])
    assert {r["place_ref"] for r in perimeter_violations(conn, DAY)} == {"a", "b"}
    assert [r["place_ref"] for r in perimeter_violations(conn, DAY, Scope(school="B"))] == ["b"]
    assert [r["place_ref"] for r in perimeter_violations(conn, DAY, Scope(community="431002001001"))] == ["a"]
    assert [r["place_ref"] for r in perimeter_violations(conn, DAY, Scope(grid="431002001001001"))] == ["a"]
    with pytest.raises(NotFound):
        perimeter_violations(conn, DAY, Scope(school="nope"))
    with pytest.raises(NotFound):
        perimeter_violations(conn, DAY, Scope(community="431002001999"))
    with pytest.raises(InvalidInput):
        Scope(school="A", grid="431002001001001")


def test_a_point_school_is_measured_from_the_point(conn, world):
    world.school("P", shapely.Point(*CHENZHOU))
    lon, lat = offset(*CHENZHOU, 37, 150)
    world.place("x", "internet_cafe", lon, lat)
    rows = perimeter_violations(conn, date(2026, 1, 1))
    assert rows[0]["distance_m"] == pytest.approx(150, abs=0.01)


def test_edits_are_seen_at_once(conn, world):
    """ruled_place follows inserts, updates and deletes of places, licences and rules."""
    poly = campus(*CHENZHOU)
    world.school("S1", poly)
    lon, lat = _north_of(poly, 30)
    world.places([{"ref": "shop", "category": "food_shop", "lon": lon, "lat": lat},
                  {"ref": "cigs", "category": "tobacco", "lon": lon, "lat": lat}])

    def refs():
        return {r["place_ref"] for r in perimeter_violations(conn, DAY)}

    assert refs() == {"shop"}
    conn.execute("INSERT INTO licence (place_id, kind, valid_until, displayed)"
                 " SELECT id, 'food', %s, true FROM place WHERE ref = 'shop'", [DAY])
    assert refs() == set()
    conn.execute("UPDATE licence SET displayed = false")
    assert refs() == {"shop"}
    conn.execute("INSERT INTO perimeter_rule (region, category, school_levels, distance_m, kind)"
                 " VALUES ('national', 'tobacco', '{primary}', 50, 'forbidden')")
    assert refs() == {"shop", "cigs"}
    conn.execute("UPDATE place SET category = 'restaurant' WHERE ref = 'shop'")
    assert refs() == {"cigs"}
    conn.execute("DELETE FROM place WHERE ref = 'cigs'")
    assert refs() == set()
