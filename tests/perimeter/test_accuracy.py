"""Distances against an independent geodesic computation (pyproj.Geod), to 0.05 m, in three cities.

The reference densifies each campus boundary to 0.1 m steps and takes the smallest Geod.inv distance
to the place (0 inside). Places are random around random campuses, plus pairs set 199.9 m and
200.1 m out from an edge. Harbin and Sanya are 3,000 km apart: checked together, the local TM is
centred far from both, so the geodesic branch is exercised too.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from gis.local_tm import proj4
from gis.perimeter.check import perimeter_violations
from tests.perimeter.conftest import CHENZHOU, DAY, GEOD, HARBIN, SANYA

PER_CITY_SCHOOLS = 12
PER_SCHOOL_PLACES = 14


def _reference(poly: shapely.Geometry, lon: float, lat: float) -> float:
    if poly.covers(shapely.Point(lon, lat)):
        return 0.0
    if poly.geom_type == "Point":
        return float(GEOD.inv(lon, lat, poly.x, poly.y)[2])
    ring = shapely.segmentize(poly.exterior, 1e-6)  # ~0.1 m between vertices
    xy = np.asarray(ring.coords)
    _, _, d = GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])
    return float(d.min())


def _city(rng: np.random.Generator, centre: tuple[float, float], tag: str):
    """Schools 3 km apart (so each place has one school near), random shapes, random places."""
    to_lonlat = Transformer.from_crs(f"{proj4(*centre)}", "EPSG:4326", always_xy=True).transform
    schools, places = [], []
    for i in range(PER_CITY_SCHOOLS):
        cx, cy = (i % 4) * 3000.0, (i // 4) * 3000.0
        if i == 0:  # a school known only as a point
            poly = shapely.Point(*to_lonlat(cx, cy))
        else:  # an irregular campus: the hull of random points, 60-400 m across
            pts = rng.normal(0, rng.uniform(30, 130), size=(12, 2)) + [cx, cy]
            hull = shapely.MultiPoint(pts).convex_hull
            poly = shapely.transform(hull, lambda xy: np.column_stack(to_lonlat(xy[:, 0], xy[:, 1])))
        ref = f"{tag}{i}"
        schools.append((ref, poly))
        minx, miny, maxx, maxy = poly.bounds
        for j in range(PER_SCHOOL_PLACES):
            az, dist = rng.uniform(0, 360), rng.uniform(0, 320)
            base = poly.centroid if j % 3 else shapely.Point(maxx, maxy)
            lon, lat, _ = GEOD.fwd(base.x, base.y, az, dist)
            places.append((f"{ref}p{j}", ref, float(lon), float(lat)))
        if poly.geom_type == "Polygon":  # two places set 199.9 and 200.1 m out from an edge's middle
            xy = np.asarray(poly.exterior.coords)
            a, b = xy[0], xy[1]
            az_edge = GEOD.inv(a[0], a[1], b[0], b[1])[0]
            mid = GEOD.npts(a[0], a[1], b[0], b[1], 1)[0]
            outward = az_edge - 90 if shapely.Polygon(xy).exterior.is_ccw else az_edge + 90
            for k, metres in enumerate((199.9, 200.1)):
                lon, lat, _ = GEOD.fwd(mid[0], mid[1], outward, metres)
                places.append((f"{ref}edge{k}", ref, float(lon), float(lat)))
    return schools, places


def _load(world, schools, places) -> None:
    for ref, poly in schools:
        world.school(ref, poly)
    world.places([{"ref": p, "category": "internet_cafe", "lon": x, "lat": y} for p, _, x, y in places])


def _compare(rows, schools, places) -> tuple[int, float]:
    polys = dict(schools)
    got = {r["place_ref"]: r for r in rows}
    checked, worst = 0, 0.0
    for ref, school, lon, lat in places:
        expected = _reference(polys[school], lon, lat)
        if abs(expected - 200) < 0.05:
            continue  # too close to the line for a 0.05 m tolerance to decide
        if expected <= 200:
            assert ref in got, f"{ref}: {expected:.3f} m from {school} but not reported"
            assert got[ref]["school_ref"] == school
            worst = max(worst, abs(got[ref]["distance_m"] - expected))
            assert got[ref]["distance_m"] == pytest.approx(expected, abs=0.05), ref
            checked += 1
        else:
            assert ref not in got, f"{ref}: {expected:.3f} m from {school} but reported"
    return checked, worst


@pytest.mark.parametrize("centre", [CHENZHOU, HARBIN, SANYA], ids=["chenzhou", "harbin", "sanya"])
def test_distances_match_geod(conn, world, centre):
    rng = np.random.default_rng(int(centre[0] * 1000))
    schools, places = _city(rng, centre, "s")
    _load(world, schools, places)
    checked, worst = _compare(perimeter_violations(conn, DAY), schools, places)
    assert checked >= 60  # enough pairs within 200 m to mean something
    assert worst < 0.05


def test_far_from_the_local_tm_centre(conn, world):
    """Harbin and Sanya in one check: the TM centre is ~1,500 km from both."""
    rng = np.random.default_rng(42)
    schools_h, places_h = _city(rng, HARBIN, "h")
    schools_s, places_s = _city(rng, SANYA, "s")
    _load(world, schools_h + schools_s, places_h + places_s)
    checked, worst = _compare(perimeter_violations(conn, DAY), schools_h + schools_s, places_h + places_s)
    assert checked >= 120
    assert worst < 0.05
