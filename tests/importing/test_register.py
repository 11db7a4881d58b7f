"""The register layers: households placed in grids, persons linked to households, workers to grids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.catalog import load_frame
from gis.codes import id_number_check_digit
from gis.errors import InvalidInput

from_id = "43100219800102001"  # born 1980-01-02, 17th digit odd: male
MALE_ID = from_id + id_number_check_digit(from_id)
FEMALE_ID = "43100219850607002" + id_number_check_digit("43100219850607002")


def test_households_are_placed_inside_on_border_or_outside(division, make_households, stored):
    frame = make_households([
        (113.005, 25.785),   # inside grid 003
        (113.015, 25.795),   # inside grid 002
        (113.01, 25.785),    # on the line between 003 and 004
        (113.02, 25.785),    # on the community's outer edge (grid 004's border)
        (113.03, 25.785),    # outside every grid
    ])
    report = load_frame(division, "households", frame)
    assert report.placements == {"inside": 2, "border": 2, "outside": 1}
    assert report.outside == ["h5"] and sorted(report.border) == ["h3", "h4"]
    rows = stored(division)
    assert rows["h1"][1:3] == ("431002001001003", "inside")
    assert rows["h3"][1:3] == ("431002001001003", "border")  # the lowest code keeps it visible
    assert rows["h4"][1:3] == ("431002001001004", "border")
    assert rows["h5"][1:3] == (None, "outside")  # reported, not dropped


def test_importing_grids_reassigns_existing_households(conn, make_households, stored, division_frames):
    load_frame(conn, "households", make_households([(113.005, 25.785), (113.015, 25.795)]))
    assert {r[2] for r in stored(conn).values()} == {"outside"}
    communities, grids = division_frames
    load_frame(conn, "communities", communities)
    load_frame(conn, "grids", grids)
    rows = stored(conn)
    assert rows["h1"][1:3] == ("431002001001003", "inside")
    assert rows["h2"][1:3] == ("431002001001002", "inside")


def _persons(**columns) -> pd.DataFrame:
    base = {"ref": ["p1", "p2"], "household_ref": ["h1", "h1"], "name": ["张三", "李梅"],
            "id_number": [MALE_ID.lower(), FEMALE_ID]}
    base.update(columns)
    return pd.DataFrame(base)


def test_persons_are_linked_to_households_with_their_tags(division, make_households):
    load_frame(division, "households", make_households([(113.005, 25.785)]))
    frame = _persons(sex=["男", "女"], residence=["户籍", "流动"], poverty=["低保", None],
                     key_person=["community_correction", None], volunteer=["是", "否"],
                     elderly_alone=["1", "0"], relation=["户主", "spouse"], employment=["退休", "在业"])
    assert load_frame(division, "persons", frame).rows == 2
    rows = division.execute("""
        SELECT p.ref, h.ref, p.id_number, p.sex, p.birth_date::text, p.residence, p.poverty, k.category,
               p.volunteer, p.elderly_alone, p.relation, p.employment
        FROM person p JOIN household h ON h.id = p.household_id
        LEFT JOIN key_person k ON k.person_id = p.id ORDER BY p.ref""").fetchall()
    assert rows == [
        ("p1", "h1", MALE_ID, "M", "1980-01-02", "registered", "dibao", "community_correction",
         True, True, "head", "retired"),
        ("p2", "h1", FEMALE_ID, "F", "1985-06-07", "floating", None, None,
         False, False, "spouse", "employed"),
    ]


def test_birth_date_that_disagrees_with_the_id_number_is_a_problem(division, make_households):
    load_frame(division, "households", make_households([(113.005, 25.785)]))
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "persons", _persons(birth_date=["1980-01-02", "1985-06-08"], sex=["F", None]))
    got = {(p.row, p.field): p.reason for p in err.value.problems}
    assert set(got) == {(1, "sex"), (2, "birth_date")}
    assert "1985-06-07" in got[(2, "birth_date")]


def test_vocabularies_are_checked(division, make_households):
    load_frame(division, "households", make_households([(113.005, 25.785)]))
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "persons", _persons(sex=["x", "F"], poverty=["rich", None],
                                                   key_person=[None, "spy"], volunteer=["maybe", "no"]))
    got = {(p.row, p.field) for p in err.value.problems}
    assert got == {(1, "sex"), (1, "volunteer")}  # database vocabularies wait for the file to pass
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "persons", _persons(poverty=["rich", None], key_person=[None, "spy"]))
    assert {(p.row, p.field) for p in err.value.problems} == {(1, "poverty"), (2, "key_person")}


def test_grid_workers_serve_listed_grids(division):
    frame = pd.DataFrame({"ref": ["w1", "w2"], "name": ["王五", "赵六"], "phone": ["13800138000", None],
                          "grid_codes": ["431002001001001；431002001001002", "431002001001003"]})
    load_frame(division, "grid_workers", frame)
    links = division.execute("""SELECT w.ref, l.grid_code FROM grid_worker w
                                JOIN grid_worker_grid l ON l.worker_id = w.id ORDER BY 1, 2""").fetchall()
    assert links == [("w1", "431002001001001"), ("w1", "431002001001002"), ("w2", "431002001001003")]


def test_grid_worker_with_an_unknown_grid_is_refused(division):
    frame = pd.DataFrame({"name": ["王五"], "grid_codes": ["431002001001001;431002001001009"]})
    with pytest.raises(InvalidInput, match="grid 431002001001009 does not exist"):
        load_frame(division, "grid_workers", frame)


def test_buildings_take_polygons_or_points_and_get_a_grid(division):
    frame = gpd.GeoDataFrame({"ref": ["b1", "b2"], "name": ["1栋", "2栋"], "floors": [6, None]},
                             geometry=[shapely.box(113.001, 25.781, 113.002, 25.782),
                                       shapely.Point(113.015, 25.795)], crs=4326)
    load_frame(division, "buildings", frame)
    rows = division.execute("SELECT ref, floors, grid_code FROM building ORDER BY ref").fetchall()
    assert rows == [("b1", 6, "431002001001003"), ("b2", None, "431002001001002")]


def test_import_placement_agrees_with_grid_for_point(division, make_households):
    """The households insert places points by a grid-side join; it must answer as grid_for_point does."""
    rng = np.random.default_rng(3)
    lon = np.concatenate([rng.uniform(112.995, 113.025, 300), np.full(50, 113.01), np.full(50, 113.0),
                          [113.01, 113.0, 113.02, 113.01]])
    lat = np.concatenate([rng.uniform(25.775, 25.805, 300), rng.uniform(25.78, 25.80, 50),
                          rng.uniform(25.775, 25.805, 50), [25.79, 25.78, 25.80, 25.8]])
    load_frame(division, "households", make_households(list(zip(lon, lat, strict=True))))
    disagree = division.execute("""
        SELECT h.ref, h.grid_code, h.placement, p.grid_code, p.placement
        FROM household h CROSS JOIN LATERAL grid_for_point(h.geom) p
        WHERE (h.grid_code, h.placement) IS DISTINCT FROM (p.grid_code, p.placement)""").fetchall()
    assert disagree == []
    kinds = dict(division.execute("SELECT placement::text, count(*) FROM household GROUP BY 1").fetchall())
    assert set(kinds) == {"inside", "border", "outside"}
