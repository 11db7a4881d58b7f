"""The demo street generator: deterministic, the requested sizes, an exact division, valid codes and
ID numbers, realistic tag rates, and the deliberate faults where they were asked for."""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from gis.codes import birth_date_and_sex, community_code_problem, grid_code_problem, id_number_problem
from gis.demo.street import COUNTY_CODE, REFERENCE_DATE, DemoStreet, generate_street

LOCAL_TM = "+proj=tmerc +lat_0=25.8 +lon_0=113.04 +k=1 +ellps=WGS84 +units=m +no_defs"
GEOD = Geod(ellps="WGS84")


def fingerprint(street: DemoStreet) -> dict[str, str]:
    """A hash per layer over every value, geometries as WKB: equal hashes = the same bytes."""
    out = {}
    for name, frame in street.layers().items():
        digest = hashlib.sha256(frame.drop(columns="geometry", errors="ignore").to_csv().encode())
        if "geometry" in frame:
            for wkb in shapely.to_wkb(frame.geometry.to_numpy()):
                digest.update(wkb)
        out[name] = digest.hexdigest()
    return out


def test_same_seed_gives_the_same_street_byte_for_byte(small_street, small_sizes):
    again = generate_street(**small_sizes)
    assert fingerprint(again) == fingerprint(small_street)
    for name, frame in small_street.layers().items():
        pd.testing.assert_frame_equal(frame, again.layers()[name])


def test_another_seed_gives_another_street(small_street, small_sizes):
    other = fingerprint(generate_street(**{**small_sizes, "seed": small_sizes["seed"] + 1}))
    mine = fingerprint(small_street)
    assert all(other[name] != mine[name] for name in mine)


def test_sizes_are_the_requested_ones(street):
    assert len(street.communities) == 6
    assert len(street.grids) == 60
    assert len(street.households) == 20_000
    assert len(street.persons) == 50_000
    assert 12 <= len(street.schools) <= 18
    assert 1_300 <= len(street.places) <= 1_700
    assert 30 <= len(street.roads) <= 60
    assert 45 <= len(street.grid_workers) <= 60
    assert len(street.buildings) > 300


def test_the_street_lies_in_urban_suxian(street):
    minx, miny, maxx, maxy = street.communities.total_bounds
    assert 113.00 < minx < maxx < 113.08 and 25.76 < miny < maxy < 25.84
    assert (street.grids.crs.to_epsg(), street.households.crs.to_epsg()) == (4326, 4326)


def _assert_exact_division(grids: np.ndarray, community: shapely.Geometry) -> None:
    union = shapely.union_all(grids)
    assert abs(union.area - community.area) < 1e-9
    assert shapely.symmetric_difference(union, community).area < 1e-9
    tree = shapely.STRtree(grids)
    a, b = tree.query(grids, predicate="intersects")
    pairs = a < b
    overlap = shapely.area(shapely.intersection(grids[a[pairs]], grids[b[pairs]]))
    assert overlap.max(initial=0.0) == 0.0  # neighbours share edges, never area
    assert shapely.coverage_is_valid(grids)  # and the shared edges have the same vertices


@pytest.mark.parametrize("sizes", [None, {"communities": 7, "grids": 61}, {"communities": 200, "grids": 2000},
                                   {"communities": 5, "grids": 13}])
def test_grids_tile_their_community_exactly(street, sizes):
    few = {"households": sizes["grids"], "persons": sizes["grids"], "places": 10} if sizes else {}
    s = street if sizes is None else generate_street(seed=3, **few, **sizes)
    for code, geom in zip(s.communities["code"], s.communities.geometry, strict=True):
        assert geom.geom_type == "Polygon", "a community is one piece"
        _assert_exact_division(s.grids.geometry[s.grids["community_code"] == code].to_numpy(), geom)
    assert shapely.union_all(s.communities.geometry.to_numpy()).geom_type == "Polygon"


def test_with_defects_has_one_gap_and_one_overlap_in_the_first_community(defect_street, small_street):
    assert fingerprint(defect_street)["households"] == fingerprint(small_street)["households"]
    grids = defect_street.grids.to_crs(LOCAL_TM)
    communities = defect_street.communities.to_crs(LOCAL_TM)
    first = communities["code"].iloc[0]
    mine = grids.geometry[grids["community_code"] == first].to_numpy()
    a, b = shapely.STRtree(mine).query(mine, predicate="intersects")
    pairs = a < b
    overlaps = shapely.area(shapely.intersection(mine[a[pairs]], mine[b[pairs]]))
    assert (overlaps > 1).sum() == 1 and 100 < overlaps.max() < 200  # m²
    gaps = shapely.difference(communities.geometry.iloc[0], shapely.union_all(mine))
    assert 100 < gaps.area < 200
    for code, geom in zip(defect_street.communities["code"][1:], defect_street.communities.geometry[1:],
                          strict=True):
        _assert_exact_division(defect_street.grids.geometry[defect_street.grids["community_code"] == code]
                               .to_numpy(), geom)


def test_codes_are_valid_and_nested(street):
    for code in street.communities["code"]:
        assert community_code_problem(code) is None and code.startswith(COUNTY_CODE + "001")
    assert street.communities["code"].is_unique and street.grids["code"].is_unique
    for code, community in zip(street.grids["code"], street.grids["community_code"], strict=True):
        assert grid_code_problem(code, community) is None
    for _, seqs in street.grids.groupby("community_code")["code"]:
        assert sorted(int(c[12:]) for c in seqs) == list(range(1, len(seqs) + 1))
    assert set(street.grids["name"]) >= {"第1网格", "第2网格"}
    assert street.communities["name"].str.endswith("社区").all() and street.communities["name"].is_unique


def test_every_grid_has_one_worker_and_workers_serve_one_or_two(street):
    served = street.grid_workers["grid_codes"].str.split(";")
    flat = [code for codes in served for code in codes]
    assert sorted(flat) == sorted(street.grids["code"])
    assert served.map(len).between(1, 2).all() and (served.map(len) == 2).any()
    assert street.grid_workers["phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert street.grid_workers["name"].str.len().between(2, 4).all()


def test_id_numbers_are_valid_distinct_and_agree_with_birth_date_and_sex(street):
    p = street.persons
    assert p["id_number"].is_unique
    assert [x for x in p["id_number"] if id_number_problem(x) is not None] == []
    sample = p.sample(2_000, random_state=1)
    for number, born, sex in zip(sample["id_number"], sample["birth_date"], sample["sex"], strict=True):
        assert birth_date_and_sex(number) == (born.date(), sex)
    region = p["id_number"].str[:6]
    local = region.str.startswith("4310")
    assert local[p["residence"] == "registered"].mean() > 0.9
    assert not region[p["residence"] == "floating"].str.startswith("43").any()
    assert (region == COUNTY_CODE).mean() > 0.4


def test_households_have_one_head_and_one_to_five_members(street):
    p = street.persons
    size = p.groupby("household_ref").size()
    assert size.between(1, 5).all() and 2.4 <= size.mean() <= 2.6
    assert len(size) == len(street.households)
    heads = p[p["relation"] == "head"].groupby("household_ref").size()
    assert len(heads) == len(street.households) and (heads == 1).all()
    age = (pd.Timestamp(REFERENCE_DATE) - p["birth_date"]).dt.days / 365.25
    assert age.between(0, 100).all() and 35 < age.mean() < 45
    assert p.loc[p["relation"] == "head"].pipe(lambda h: (age[h.index] >= 18).mean()) > 0.99
    assert p["phone"].dropna().str.fullmatch(r"1[3-9]\d{9}").all()
    assert p.loc[age < 14, "phone"].isna().all()


def test_tag_rates_are_realistic(street):
    p, nh = street.persons, len(street.households)
    age = (pd.Timestamp(REFERENCE_DATE) - p["birth_date"]).dt.days / 365.25

    def households_with(mask: pd.Series) -> float:
        return p.loc[mask, "household_ref"].nunique() / nh

    assert 0.15 <= (p["residence"] == "floating").mean() <= 0.25
    assert 0.015 <= households_with(p["poverty"] == "dibao") <= 0.025
    assert 0.002 <= households_with(p["poverty"] == "tekun") <= 0.0045
    assert 0.004 <= p["key_person"].notna().mean() <= 0.006
    assert set(p["key_person"].dropna()) == {
        "community_correction", "released_prisoner", "severe_mental_disorder", "drug_rehabilitation",
        "petitioner", "at_risk_youth", "cult_member"}
    assert (age[p["key_person"].notna()] >= 14).all()
    alone = p["elderly_alone"]
    assert 0.025 <= households_with(alone) <= 0.035
    assert (age[alone] >= 70).all()
    assert (p.groupby("household_ref").size()[p.loc[alone, "household_ref"]] == 1).all()
    assert 0.015 <= p["disabled"].mean() <= 0.025
    assert 0.007 <= p["activist"].mean() <= 0.013
    assert 0.04 <= p["volunteer"].mean() <= 0.06
    employment = p["employment"].value_counts(normalize=True)
    assert employment["employed"] > 0.35 and employment["retired"] > 0.1
    assert set(p.loc[age < 5.9, "employment"]) == {"preschool"}
    assert set(p["poverty"].dropna()) <= {"dibao", "tekun", "dibao_edge", "poverty_relief"}
    assert p.loc[p["residence"] == "floating", "poverty"].isna().all()


def test_households_sit_in_their_building_except_the_few_misplaced_on_purpose(street):
    h, b, g = street.households, street.buildings.set_index("ref"), street.grids.set_index("code")
    assert h["address"].is_unique
    assert h["address"].str.fullmatch(r"\S+[路街道巷]\d+号 \d+栋\d+单元\d{3,4}室").all()
    kind = h["expected_placement"]
    assert 0.004 <= (kind != "inside").mean() <= 0.006
    assert set(kind) == {"inside", "border", "outside"}
    inside = h[kind == "inside"]
    assert shapely.contains(b.geometry[inside["building_ref"]].to_numpy(), inside.geometry.to_numpy()).all()
    assert shapely.contains(g.geometry[inside["grid_code"]].to_numpy(), inside.geometry.to_numpy()).all()
    border = h[kind == "border"]
    assert shapely.intersects(shapely.boundary(g.geometry[border["grid_code"]].to_numpy()),
                              border.geometry.to_numpy()).all()
    street_area = shapely.union_all(street.communities.geometry.to_numpy())
    assert not shapely.intersects(street_area, h.geometry[kind == "outside"].to_numpy()).any()
    assert (b["floors"] >= 2).all() and (b["floors"] <= 33).all()


def test_roads_form_a_network_with_unique_names(street):
    roads = street.roads
    main, lanes = roads[roads["kind"] != "lane"], roads[roads["kind"] == "lane"]
    assert main["name"].is_unique and roads["ref"].is_unique
    assert roads["ref"].str.fullmatch(r"[A-Za-z0-9_.-]{1,40}").all()
    assert lanes["name"].str.endswith("巷").all()
    # Every lane starts on a main road, at a shared vertex: a true intersection.
    starts = shapely.get_point(lanes.geometry.to_numpy(), 0)
    assert shapely.intersects(shapely.union_all(main.geometry.to_numpy()), starts).all()
    ew, ns = main[main["kind"] == "ew"], main[main["kind"] == "ns"]
    assert shapely.intersects(ew.geometry.iloc[0], ns.geometry.to_numpy()).sum() >= 2


def _metres_to_campus(points: np.ndarray, campuses: np.ndarray) -> np.ndarray:
    """Distance on the ellipsoid from each point to the nearest campus boundary (densified)."""
    best = np.full(len(points), np.inf)
    for campus in campuses:
        ring = shapely.get_coordinates(shapely.segmentize(campus.exterior, 0.00001))
        for i, (x, y) in enumerate(shapely.get_coordinates(points)):
            _, _, d = GEOD.inv(np.full(len(ring), x), np.full(len(ring), y), ring[:, 0], ring[:, 1])
            best[i] = min(best[i], d.min())
    return best


def test_some_internet_cafes_are_inside_200_m_of_a_school_and_some_just_outside(street):
    schools = street.schools[street.schools["level"].isin(["primary", "middle"])]
    cafes = street.places[street.places["category"] == "internet_cafe"]
    near = _metres_to_campus(cafes.geometry.to_numpy(), schools.geometry.to_numpy())
    assert ((near > 0) & (near < 200)).sum() >= 2
    assert ((near > 200) & (near < 270)).sum() >= 1
    assert set(street.schools["level"]) == {"kindergarten", "primary", "middle", "high", "vocational"}
    assert street.schools["name"].is_unique
    assert street.schools["gates"].notna().mean() > 0.4
    assert street.schools["gates"].dropna().str.fullmatch(r"\d+\.\d+,\d+\.\d+").all()
    bounds = street.schools.to_crs(LOCAL_TM).geometry.bounds
    across = np.hypot(bounds["maxx"] - bounds["minx"], bounds["maxy"] - bounds["miny"])
    assert across.min() > 100 and across.max() < 330


def test_licences_are_mostly_in_order_with_some_missing_expired_or_hidden(street):
    p = street.places
    missing = p["licence_kind"].isna()
    expired = p["licence_valid_until"].map(lambda d: d is not None and d < REFERENCE_DATE)
    hidden = ~p["licence_displayed"].astype(bool) & ~missing
    for share in (missing.mean(), expired.mean(), hidden.mean()):
        assert 0.02 < share < 0.15
    assert isinstance(p["licence_valid_until"].dropna().iloc[0], date)
    assert set(p["category"]) == {"internet_cafe", "game_hall", "mahjong_parlor", "entertainment", "bar",
                                  "tobacco", "lottery", "publication_shop", "food_shop", "small_shop",
                                  "restaurant", "other"}


def test_invalid_sizes_are_refused():
    with pytest.raises(ValueError):
        generate_street(communities=5, grids=4)
    with pytest.raises(ValueError):
        generate_street(households=10, persons=60)
