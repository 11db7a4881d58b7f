"""The rules in force (perimeter_rules_in_force): the most specific region wins per category, and the
check and the perimeter map read the same answer."""

from __future__ import annotations

from gis.perimeter.check import perimeter_violations
from gis.perimeter.mapdata import perimeter_map_data
from tests.perimeter.conftest import CHENZHOU, DAY, campus


def _in_force(conn, level: str, region_code: str | None) -> set[tuple[str, str, str, float]]:
    rows = conn.execute("SELECT category, region, kind, distance_m FROM perimeter_rules_in_force(%s, %s)",
                        [level, region_code]).fetchall()
    return set(rows)


def _regional_rules(conn) -> None:
    conn.execute("DELETE FROM perimeter_rule")
    conn.execute("INSERT INTO perimeter_rule (region, category, school_levels, distance_m, kind) VALUES"
                 " ('national', 'internet_cafe', '{primary,middle}', 200, 'forbidden'),"
                 " ('national', 'food_shop', '{primary}', 50, 'licence_required'),"
                 " ('43', 'internet_cafe', '{primary}', 100, 'forbidden'),"
                 " ('43', 'internet_cafe', '{primary}', 120, 'licence_required'),"
                 " ('4311', 'internet_cafe', '{primary}', 300, 'forbidden')")


def test_the_most_specific_region_with_rules_wins_per_category(conn):
    _regional_rules(conn)
    assert _in_force(conn, "primary", "431002001001") == {
        ("internet_cafe", "43", "forbidden", 100), ("internet_cafe", "43", "licence_required", 120),
        ("food_shop", "national", "licence_required", 50)}
    assert _in_force(conn, "primary", "431102001001") == {
        ("internet_cafe", "4311", "forbidden", 300), ("food_shop", "national", "licence_required", 50)}
    assert _in_force(conn, "primary", "440102001001") == _in_force(conn, "primary", None) == {
        ("internet_cafe", "national", "forbidden", 200), ("food_shop", "national", "licence_required", 50)}
    assert _in_force(conn, "middle", "431002001001") == {("internet_cafe", "national", "forbidden", 200)}
    assert _in_force(conn, "kindergarten", "431002001001") == set()


def test_the_map_zone_is_the_farthest_rule_the_check_applies(conn, world):
    _regional_rules(conn)
    poly = campus(*CHENZHOU)
    world.community("431002001001", poly.buffer(0.05))
    world.school("P", poly)
    data = perimeter_map_data(conn, DAY, school="P")
    assert [f["properties"]["zone_m"] for f in data["zones"]["features"]] == [120]
    assert perimeter_violations(conn, DAY) == []
