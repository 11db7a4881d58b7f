"""Export coordinate systems: EPSG:4326, EPSG:4490 (CGCS2000), the CGCS2000 3-degree Gauss-Krüger
zone of the data (metres) and GCJ-02 (火星坐标, for Chinese web maps), each checked against pyproj or
prcoords, and each exported file imported back to where it came from."""

from __future__ import annotations

import numpy as np
import prcoords
import pyogrio
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from gis.catalog import LAYERS, export_layer, import_file, load_frame
from gis.crs import gcj02_to_wgs84, gk3_epsg, gk3_zone, output_crs, wgs84_to_gcj02
from gis.errors import InvalidInput
from gis.interop.exporting import layer_frame

GEOD = Geod(ellps="WGS84")


def _lonlat(frame) -> tuple[np.ndarray, np.ndarray]:
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    return xy[:, 0], xy[:, 1]


def _metres_apart(a_lon, a_lat, b_lon, b_lat) -> np.ndarray:
    return GEOD.inv(a_lon, a_lat, b_lon, b_lat)[2]


def _stored_points(conn) -> dict[str, tuple[float, float]]:
    return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT ref, ST_X(geom), ST_Y(geom) FROM household")}


def _round_trip_households(source, target, path, crs: str, import_crs: str | None = None) -> np.ndarray:
    """Export households in ``crs``, import the file, return how far each one moved (m)."""
    for needed in ("communities", "grids"):
        load_frame(target, needed, layer_frame(source, LAYERS[needed]))
    export_layer(source, "households", path, crs=crs)
    import_file(target, "households", path, crs=import_crs)
    before, after = _stored_points(source), _stored_points(target)
    assert sorted(before) == sorted(after)
    refs = sorted(before)
    a, b = np.array([before[r] for r in refs]), np.array([after[r] for r in refs])
    return _metres_apart(a[:, 0], a[:, 1], b[:, 0], b[:, 1])


def test_4490_agrees_with_pyproj_and_comes_back(source, target, tmp_path):
    wgs = layer_frame(source, LAYERS["households"])
    cgcs = layer_frame(source, LAYERS["households"], crs="EPSG:4490")
    assert cgcs.crs.to_epsg() == 4490
    expected = Transformer.from_crs(4326, 4490, always_xy=True).transform(*_lonlat(wgs))
    np.testing.assert_allclose(np.column_stack(_lonlat(cgcs)), np.column_stack(expected), atol=1e-9)
    path = tmp_path / "households.gpkg"
    moved = _round_trip_households(source, target, path, "EPSG:4490")
    assert pyogrio.read_info(path)["crs"] == "EPSG:4490"
    assert moved.max() < 0.001


@pytest.mark.parametrize(("lon", "zone"), [(75.2, 25), (113.01, 38), (112.6, 38), (115.49, 38), (115.51, 39),
                                           (121.47, 40), (134.9, 45)])
def test_gk3_zone_is_the_nearest_central_meridian_per_pyproj(lon, zone):
    assert gk3_zone(lon) == zone
    for prefixed in (True, False):
        crs = CRS.from_epsg(gk3_epsg(lon, zone_prefix=prefixed))
        params = {p["name"]: p["value"] for p in crs.to_json_dict()["conversion"]["parameters"]}
        assert params["Longitude of natural origin"] == 3 * zone
        assert params["False easting"] == (zone * 1_000_000 if prefixed else 0) + 500_000
        assert crs.geodetic_crs.name == "China Geodetic Coordinate System 2000"
        assert abs(lon - 3 * zone) <= 1.5


def test_gk3_names_and_refusals():
    assert output_crs("gk3", 113.01) == "EPSG:4526"  # zone 38, central meridian 114°E
    assert output_crs("gk3-plain", 113.01) == "EPSG:4547"  # CM 114E, no zone prefix
    assert output_crs("EPSG:4526", None) == "EPSG:4526"
    assert output_crs("gcj-02", None) == "gcj02"
    with pytest.raises(ValueError, match="outside"):
        gk3_zone(70.0)
    with pytest.raises(ValueError, match="unknown CRS"):
        output_crs("EPSG:3857", 113.0)


def test_gk3_export_is_in_metres_of_the_zone_and_comes_back_within_1_mm(source, target, tmp_path):
    wgs = layer_frame(source, LAYERS["households"])
    gk = layer_frame(source, LAYERS["households"], crs="gk3")
    assert gk.crs.to_epsg() == 4526
    x, y = _lonlat(gk)
    expected = Transformer.from_crs(4326, 4526, always_xy=True).transform(*_lonlat(wgs))
    np.testing.assert_allclose(np.column_stack([x, y]), np.column_stack(expected), atol=1e-6)
    assert (38_300_000 < x).all() and (x < 38_500_000).all()  # west of the 114°E meridian, in zone 38
    assert (2_850_000 < y).all() and (y < 2_860_000).all()  # ~25.8°N
    plain = layer_frame(source, LAYERS["households"], crs="gk3-plain")
    np.testing.assert_allclose(_lonlat(plain)[0], x - 38_000_000, atol=1e-6)
    for name in ("households.gpkg", "households.zip", "households.geojson"):
        target.execute("DELETE FROM household")
        target.execute("DELETE FROM grid")
        target.execute("DELETE FROM community")
        moved = _round_trip_households(source, target, tmp_path / name, "gk3")
        assert moved.max() < 0.001, name


def test_gk3_polygons_come_back(source, target, tmp_path):
    path = tmp_path / "grids.gpkg"
    export_layer(source, "grids", path, crs="gk3")
    load_frame(target, "communities", layer_frame(source, LAYERS["communities"]))
    import_file(target, "grids", path)
    query = "SELECT code, ST_AsBinary(geom) FROM grid ORDER BY code"
    for (code, a), (_, b) in zip(source.execute(query), target.execute(query), strict=True):
        gap = shapely.hausdorff_distance(shapely.from_wkb(a), shapely.from_wkb(b))
        assert gap < 1e-8, code  # ~1 mm


def test_unknown_export_crs_is_invalid_input(source, tmp_path):
    with pytest.raises(InvalidInput, match="unknown CRS"):
        export_layer(source, "households", tmp_path / "h.gpkg", crs="EPSG:3857")


def test_gcj02_agrees_with_prcoords():
    rng = np.random.default_rng(2)
    lon, lat = rng.uniform(75, 134, 500), rng.uniform(19, 52, 500)
    glon, glat = wgs84_to_gcj02(lon, lat)
    theirs = np.array([prcoords.wgs_gcj(prcoords.Coords(b, a)) for a, b in zip(lon, lat, strict=True)])
    assert _metres_apart(glon, glat, theirs[:, 1], theirs[:, 0]).max() < 0.01
    assert _metres_apart(lon, lat, glon, glat).min() > 50  # the shift is real: tens to hundreds of m
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    bored = np.array([prcoords.gcj_wgs_bored(prcoords.Coords(b, a)) for a, b in zip(glon, glat, strict=True)])
    assert _metres_apart(back_lon, back_lat, bored[:, 1], bored[:, 0]).max() < 0.01
    assert _metres_apart(lon, lat, back_lon, back_lat).max() < 0.01


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "csv", "xlsx", "zip"])
def test_gcj02_export_comes_back_within_half_a_metre(source, target, tmp_path, ext):
    gcj = layer_frame(source, LAYERS["households"], crs="gcj02")
    assert gcj.crs is None  # GCJ-02 has no EPSG code: no CRS is claimed rather than a wrong one
    path = tmp_path / f"households.{ext}"
    moved = _round_trip_households(source, target, path, "gcj02", import_crs="gcj02")
    assert moved.max() < 0.5
