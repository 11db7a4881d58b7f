"""`gridmap rules list|categories|add|change|remove`, run as documented (the installed script), and
what the check then finds: a province (Hunan, 43) forbids game halls (游戏厅) and a category of its
own (歌舞娱乐场所) within 200 m of its schools, under 娱乐场所管理条例. Distances are checked
against pyproj.Geod, not against the check itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import shapely

from tests.perimeter.conftest import CHENZHOU, GEOD, campus, offset

GRIDMAP = str(Path(sys.executable).with_name("gridmap"))
DAY = "2026-06-01"
COMMUNITY = "431003001001"  # 湖南省郴州市苏仙区: region 43 covers it


@pytest.fixture(scope="module")
def rules_db(fresh_database) -> str:
    """One primary school in a Hunan community, two game halls north of it at 150 m and 250 m."""
    url = fresh_database("gridmap_rules_cli")
    lon, lat = CHENZHOU
    school = campus(lon, lat)
    north_edge = school.bounds[3]
    with psycopg.connect(url) as c:
        c.execute("INSERT INTO community (code, name, geom) VALUES (%s, '演示社区', ST_Multi(ST_Buffer("
                  "ST_SetSRID(ST_MakePoint(%s, %s), 4326), 0.02)))", [COMMUNITY, lon, lat])
        c.execute("INSERT INTO school (ref, name, level, geom) VALUES ('S1', '苏仙小学', 'primary',"
                  " ST_GeomFromText(%s, 4326))", [school.wkt])
        for ref, metres in (("GH150", 150), ("GH250", 250)):
            x, y = offset(lon, north_edge, 0, metres)
            c.execute("INSERT INTO place (ref, name, category, geom) VALUES (%s, %s, 'game_hall',"
                      " ST_SetSRID(ST_MakePoint(%s, %s), 4326))", [ref, f"电玩城 {ref}", x, y])
    return url


@pytest.fixture
def gridmap(rules_db: str, tmp_path: Path):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
        r = subprocess.run([GRIDMAP, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           env=env | {"GRIDMAP_DATABASE_URL": rules_db, "COLUMNS": "200"})
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        return r

    return run


def _violations(gridmap) -> dict[str, dict]:
    out = json.loads(gridmap("check", "perimeter", "--format", "json", "--date", DAY).stdout)
    return {v["place_ref"]: v for v in out["violations"]}


def _geod_to_campus(rules_db: str, ref: str) -> float:
    """Metres from the place due north to the campus's north edge, on the ellipsoid."""
    with psycopg.connect(rules_db) as c:
        x, y = c.execute("SELECT ST_X(geom), ST_Y(geom) FROM place WHERE ref = %s", [ref]).fetchone()
    north_edge = campus(*CHENZHOU).bounds[3]
    return float(GEOD.inv(x, y, x, north_edge)[2])


def test_list_shows_the_stored_rules_as_json_and_as_a_table(gridmap, rules_db) -> None:
    listed = json.loads(gridmap("rules", "list", "--format", "json").stdout)
    with psycopg.connect(rules_db) as c:
        stored = c.execute("SELECT id, region, category, school_levels, distance_m, kind, method, note"
                           " FROM perimeter_rule ORDER BY id").fetchall()
    assert sorted((r["id"], r["region"], r["category"], r["school_levels"], r["distance_m"], r["kind"],
                   r["method"], r["note"]) for r in listed) == [tuple(s) for s in stored]
    table = gridmap("rules", "list").stdout
    for header in ("id", "region", "category", "school_levels", "distance_m", "kind", "method"):
        assert header in table
    assert "internet_cafe" in table and "证照齐全、亮证经营" in table


def test_a_province_rule_by_chinese_name_then_changed_then_removed(gridmap, rules_db) -> None:
    assert "GH150" not in _violations(gridmap)  # no national rule names game halls
    added = json.loads(gridmap("rules", "add", "--region", "43", "--category", "游戏厅",
                               "--level", "primary,middle", "--distance", "200", "--kind", "forbidden",
                               "--note", "娱乐场所管理条例 第七条", "--format", "json").stdout)
    assert len(added) == 1
    rule = added[0]
    assert (rule["region"], rule["category"], rule["school_levels"], rule["distance_m"], rule["kind"],
            rule["method"]) == ("43", "game_hall", ["middle", "primary"], 200.0, "forbidden", "boundary")
    found = _violations(gridmap)
    assert "GH250" not in found
    assert found["GH150"]["rule_id"] == rule["id"] and found["GH150"]["region"] == "43"
    assert found["GH150"]["distance_m"] == pytest.approx(_geod_to_campus(rules_db, "GH150"), abs=0.02)

    changed = gridmap("rules", "change", str(rule["id"]), "--distance", "300").stdout  # a table
    assert "300" in changed and "娱乐场所管理条例 第七条" in changed  # the note is kept
    assert {"GH150", "GH250"} <= set(_violations(gridmap))
    with psycopg.connect(rules_db) as c:
        assert c.execute("SELECT distance_m, note FROM perimeter_rule WHERE id = %s",
                         [rule["id"]]).fetchone() == (300.0, "娱乐场所管理条例 第七条")

    assert f"rule {rule['id']} removed" in gridmap("rules", "remove", str(rule["id"])).stdout
    assert not {"GH150", "GH250"} & set(_violations(gridmap))
    listed = json.loads(gridmap("rules", "list", "--format", "json").stdout)
    assert rule["id"] not in {r["id"] for r in listed}


def test_a_category_of_the_provinces_own(gridmap, rules_db) -> None:
    added = json.loads(gridmap("rules", "add", "--region", "43", "--category", "dance_hall",
                               "--category-name", "歌舞娱乐场所", "--category-name-en", "dance hall",
                               "--level", "primary", "--distance", "200", "--kind", "forbidden",
                               "--format", "json").stdout)[0]
    assert added["category"] == "dance_hall"
    # The vocabulary is data: a place of the new category is stored (the foreign key accepts it) ...
    lon, lat = CHENZHOU
    x, y = offset(lon, campus(lon, lat).bounds[3], 0, 120)
    with psycopg.connect(rules_db) as c:
        c.execute("INSERT INTO place (ref, name, category, geom) VALUES"
                  " ('KTV1', '金嗓子歌舞厅', 'dance_hall', ST_SetSRID(ST_MakePoint(%s, %s), 4326))", [x, y])
    # ... and the check finds it under the new rule
    found = _violations(gridmap)
    assert found["KTV1"]["rule_id"] == added["id"] and found["KTV1"]["category"] == "dance_hall"
    assert found["KTV1"]["distance_m"] == pytest.approx(_geod_to_campus(rules_db, "KTV1"), abs=0.02)
    categories = {c["code"]: c for c in json.loads(gridmap("rules", "categories", "--format", "json").stdout)}
    assert categories["dance_hall"] == {"code": "dance_hall", "name_zh": "歌舞娱乐场所",
                                        "name_en": "dance hall", "places": 1, "rules": 1}
    # the same category by its Chinese name for a second rule (a licence rule for kindergartens)
    more = json.loads(gridmap("rules", "add", "--region", "4310", "--category", "歌舞娱乐场所",
                              "--level", "kindergarten", "--distance", "100", "--kind", "licence_required",
                              "--format", "json").stdout)[0]
    assert more["category"] == "dance_hall"
    assert "歌舞娱乐场所" in gridmap("rules", "categories").stdout


def test_a_new_category_is_not_added_when_its_rule_is_refused(rules_db, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
    r = subprocess.run([GRIDMAP, "rules", "add", "--category", "billiards", "--category-name", "台球厅",
                        "--level", "primary", "--distance", "9000", "--kind", "forbidden"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env=env | {"GRIDMAP_DATABASE_URL": rules_db})
    assert r.returncode == 2 and "distance_m" in r.stderr
    with psycopg.connect(rules_db) as c:
        assert c.execute("SELECT count(*) FROM place_category WHERE code = 'billiards'").fetchone() == (0,)


def test_geometry_of_the_fixture() -> None:
    """The two game halls are where the test says: 150 m and 250 m due north of the campus."""
    lon, lat = CHENZHOU
    edge = campus(lon, lat).bounds[3]
    for metres in (150, 250):
        x, y = offset(lon, edge, 0, metres)
        assert GEOD.inv(x, y, x, edge)[2] == pytest.approx(metres, abs=1e-6)
        assert shapely.Point(x, y).distance(campus(lon, lat)) > 0


def test_places_of_a_provinces_own_category_import_by_its_chinese_name(gridmap, rules_db, tmp_path) -> None:
    """The import reads the category vocabulary from the table: a category added with `rules add`
    is importable at once, by code or by its Chinese name; an unknown one is refused by row."""
    gridmap("rules", "add", "--region", "43", "--category", "escape_room", "--category-name", "密室逃脱",
            "--level", "middle", "--distance", "200", "--kind", "licence_required")
    lon, lat = CHENZHOU
    good = tmp_path / "places.csv"
    good.write_text("id,名称,类别,lon,lat\n"
                    f"ER1,谜境密室,密室逃脱,{lon + 0.003},{lat}\n"
                    f"ER2,逃出生天,escape_room,{lon + 0.004},{lat}\n", encoding="utf-8")
    gridmap("import", "places", str(good), "--id-field", "id")
    with psycopg.connect(rules_db) as c:
        stored = c.execute("SELECT ref, category FROM place WHERE ref LIKE 'ER%' ORDER BY ref").fetchall()
    assert stored == [("ER1", "escape_room"), ("ER2", "escape_room")]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"id,名称,类别,lon,lat\nZZ1,某店,不存在的类别,{lon},{lat}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
    r = subprocess.run([GRIDMAP, "import", "places", str(bad), "--id-field", "id"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120,
                       env=env | {"GRIDMAP_DATABASE_URL": rules_db})
    assert r.returncode == 2 and "category" in r.stderr and "Traceback" not in r.stderr
