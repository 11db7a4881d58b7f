"""Validation: CRS conversion, region, geometry, codes and duplicates; all problems, nothing written."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Polygon

from gis.catalog import import_file, load_frame
from gis.crs import gcj02_to_wgs84, wgs84_to_gcj02
from gis.errors import InvalidInput

GEOD = Geod(ellps="WGS84")
rng = np.random.default_rng(7)


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # table names are literals here


def test_gis_crs_matches_prcoords():
    lon, lat = rng.uniform(74, 134, 200), rng.uniform(19, 53, 200)
    glon, glat = wgs84_to_gcj02(lon, lat)
    for i in range(200):
        ref = prcoords.wgs_gcj(prcoords.Coords(lat[i], lon[i]))
        assert GEOD.inv(glon[i], glat[i], ref.lon, ref.lat)[2] < 0.01
        back = prcoords.gcj_wgs_bored(prcoords.Coords(glat[i], glon[i]))
        wlon, wlat = gcj02_to_wgs84(np.array([glon[i]]), np.array([glat[i]]))
        assert GEOD.inv(wlon[0], wlat[0], back.lon, back.lat)[2] < 0.01


def test_gcj02_input_lands_within_half_a_metre_of_the_truth(division, tmp_path):
    truth = np.column_stack([rng.uniform(113.001, 113.019, 50), rng.uniform(25.781, 25.799, 50)])
    gcj = [prcoords.wgs_gcj(prcoords.Coords(lat, lon)) for lon, lat in truth]
    path = tmp_path / "gcj.csv"
    pd.DataFrame({"ref": [f"g{i}" for i in range(50)], "address": "x",
                  "lng": [c.lon for c in gcj], "lat": [c.lat for c in gcj]}).to_csv(path, index=False)
    import_file(division, "households", path, crs="gcj02")
    got = {r[0]: r[1:] for r in division.execute("SELECT ref, ST_X(geom), ST_Y(geom) FROM household")}
    errors = [GEOD.inv(*got[f"g{i}"], *truth[i])[2] for i in range(50)]
    assert max(errors) < 0.5
    raw = [GEOD.inv(c.lon, c.lat, *truth[i])[2] for i, c in enumerate(gcj)]
    assert min(raw) > 100  # the offset really was there to remove


def test_projected_geopackage_is_reprojected(division, write_file, make_households, stored):
    frame = make_households([(113.005, 25.785)]).to_crs(4547)  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
    import_file(division, "households", write_file(frame, "gk.gpkg"))
    assert stored(division)["h1"][3:] == pytest.approx((113.005, 25.785), abs=1e-7)


def test_swapped_lat_lon_is_named(division, tmp_path):
    path = tmp_path / "swapped.csv"
    path.write_text("ref,address,lon,lat\na,x,113.005,25.785\nb,y,25.785,113.005\n")
    with pytest.raises(InvalidInput) as err:
        import_file(division, "households", path)
    [problem] = err.value.problems
    assert (problem.row, problem.field) == (2, "geometry")
    assert "lat/lon look swapped" in problem.reason
    assert _count(division, "household") == 0


def test_outside_the_region_is_refused(division, tmp_path):
    path = tmp_path / "paris.csv"
    path.write_text("ref,address,lon,lat\na,x,2.35,48.85\nb,y,113.005,25.785\n")
    with pytest.raises(InvalidInput) as err:
        import_file(division, "households", path, region_bbox=(112, 25, 114, 27))
    [problem] = err.value.problems
    assert problem.row == 1 and "outside the region" in problem.reason and "swapped" not in problem.reason


def test_bow_tie_polygon_names_row_and_field(division):
    square = Polygon([(113.001, 25.781), (113.002, 25.781), (113.002, 25.782), (113.001, 25.782)])
    bow_tie = Polygon([(113.003, 25.781), (113.004, 25.782), (113.004, 25.781), (113.003, 25.782)])
    frame = gpd.GeoDataFrame({"ref": ["b1", "b2"], "name": ["1栋", "2栋"]},
                             geometry=[square, bow_tie], crs=4326)
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "buildings", frame)
    [problem] = err.value.problems
    assert (problem.row, problem.field) == (2, "geometry")
    assert "Self-intersection" in problem.reason


def test_wrong_geometry_kind_and_missing_geometry(division):
    frame = gpd.GeoDataFrame({"ref": ["a", "b", "c"], "address": ["x", "y", "z"]},
                             geometry=[shapely.box(113.001, 25.781, 113.002, 25.782),
                                       None, shapely.Point(113.005, 25.785)], crs=4326)
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "households", frame)
    got = {(p.row, p.field): p.reason for p in err.value.problems}
    assert "must be a Point, got Polygon" in got[(1, "geometry")]
    assert got[(2, "geometry")] == "missing"
    assert len(got) == 2


def test_bad_id_number_checksum_names_row_and_field(division, make_households, tmp_path):
    load_frame(division, "households", make_households([(113.005, 25.785)]))
    path = tmp_path / "persons.csv"
    path.write_text("ref,household_ref,name,id_number\n"
                    "p1,h1,张三,11010519491231002X\n"
                    "p2,h1,李四,110105194912310021\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        import_file(division, "persons", path)
    [problem] = err.value.problems
    assert (problem.row, problem.field) == (2, "id_number")
    assert "checksum" in problem.reason
    assert _count(division, "person") == 0


def test_all_problems_are_collected_before_failing(division, tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("ref,address,lon,lat\na,,113.005,25.785\na,y,abc,25.785\nc,z,113.005,\n")
    with pytest.raises(InvalidInput) as err:
        import_file(division, "households", path)
    got = {(p.row, p.field) for p in err.value.problems}
    assert {(1, "address"), (2, "ref"), (2, "lon"), (3, "lat")} <= got


def test_one_bad_row_at_the_end_inserts_nothing(division, make_households):
    frame = make_households([(113.001 + i * 1e-4, 25.785) for i in range(200)])
    frame.loc[frame.index[-1], "address"] = None
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "households", frame)
    assert [(p.row, p.field) for p in err.value.problems] == [(200, "address")]
    assert _count(division, "household") == 0


def test_database_checks_are_all_or_nothing_too(division, make_households):
    load_frame(division, "households", make_households([(113.005, 25.785)]))
    persons = pd.DataFrame({"ref": ["p1", "p2", "p3"], "household_ref": ["h1", "h1", "nope"],
                            "name": ["甲", "乙", "丙"]})
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "persons", persons)
    [problem] = err.value.problems
    assert (problem.row, problem.field) == (3, "household_ref")
    assert _count(division, "person") == 0
    load_frame(division, "persons", persons.iloc[:2])  # the connection is still usable
    assert _count(division, "person") == 2


def test_duplicate_refs_in_the_file_and_against_stored_rows(division, make_households):
    load_frame(division, "households", make_households([(113.005, 25.785)]))
    again = make_households([(113.006, 25.785), (113.007, 25.785), (113.008, 25.785)])
    again.loc[again.index[2], "ref"] = "h2"
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "households", again)
    [problem] = err.value.problems  # the file's own problems come first, before any database work
    assert (problem.row, problem.field) == (3, "ref") and "repeats row 2" in problem.reason
    again.loc[again.index[2], "ref"] = "h4"
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "households", again)
    [problem] = err.value.problems
    assert (problem.row, problem.field) == (1, "ref") and "already stored" in problem.reason


def test_field_map_takes_other_column_names(division, stored):
    frame = gpd.GeoDataFrame({"osm_id": ["n1"], "addr": ["桂阳路3号"]},
                             geometry=[shapely.Point(113.005, 25.785)], crs=4326)
    with pytest.raises(InvalidInput, match="address: required column missing"):
        load_frame(division, "households", frame)
    load_frame(division, "households", frame, field_map={"ref": "osm_id", "address": "addr"})
    assert stored(division)["n1"][0] == "桂阳路3号"


def test_field_map_to_an_absent_column_or_unknown_field(division, make_households):
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "households", make_households([(113.005, 25.785)]),
                   field_map={"ref": "nope", "colour": "address"})
    fields = {p.field for p in err.value.problems}
    assert fields == {"ref", "colour"}


def test_codes_are_checked(conn):
    from shapely.geometry import box

    frame = gpd.GeoDataFrame({"code": ["431002001001", "43100200100"], "name": ["a", "b"]},
                             geometry=[box(113, 25, 113.1, 25.1)] * 2, crs=4326)
    with pytest.raises(InvalidInput) as err:
        load_frame(conn, "communities", frame)
    [problem] = err.value.problems
    assert (problem.row, problem.field) == (2, "code") and "12 digits" in problem.reason


def test_grid_of_an_unknown_community_is_refused(division):
    frame = gpd.GeoDataFrame({"code": ["431002001009001"], "name": ["x"]},
                             geometry=[shapely.box(113, 25.78, 113.01, 25.79)], crs=4326)
    with pytest.raises(InvalidInput) as err:
        load_frame(division, "grids", frame)
    [problem] = err.value.problems
    assert problem.field == "community_code" and "431002001009 does not exist" in problem.reason
