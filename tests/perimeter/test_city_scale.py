"""The fast path of the perimeter check on a generated city of the dense shape (benchmarks/
bench_perimeter.py: many violations, most of them shops without a valid displayed licence): the same
violations, nearest schools and distances as an independent evaluation, in the rows and in the
streamed CSV, GeoJSON and JSON.

The reference: the rules and licences evaluated in Python over rows fetched separately; candidate
pairs from geopandas sjoin(dwithin) in a local TM with a 5 m margin; each pair measured with pyproj's
Geod (WGS84 geodesics) to the campus boundary sampled every 2 cm around its nearest point, 0 inside.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from gis.local_tm import proj4
from gis.perimeter.check import perimeter_violations, violation_listing
from gis.perimeter.export import FORMULA_STARTS, Stream
from tests.perimeter.conftest import CHENZHOU, DAY, GEOD, World

SIZE_M = 3000
LEVELS = ["kindergarten", "primary", "middle", "high"]
CATEGORIES = ["restaurant", "small_shop", "food_shop", "other", "publication_shop", "internet_cafe", "bar"]
TOLERANCE = 0.05


def _city(world: World, n_schools: int = 60, n_places: int = 6000, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    to_lonlat = Transformer.from_crs(proj4(*CHENZHOU), "EPSG:4326", always_xy=True).transform
    half = SIZE_M / 2
    for i in range(n_schools):
        cx, cy = rng.uniform(-half, half, 2)
        if i % 15 == 0:  # now and then a school known only as a point
            geom: shapely.Geometry = shapely.Point(*to_lonlat(cx, cy))
        else:  # a rotated campus, 60-300 m a side
            w, h, angle = rng.uniform(60, 300), rng.uniform(60, 300), rng.uniform(0, np.pi)
            corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]]) * [w, h]
            c, s = np.cos(angle), np.sin(angle)
            xy = corners @ np.array([[c, s], [-s, c]]) + [cx, cy]
            geom = shapely.Polygon(np.column_stack(to_lonlat(xy[:, 0], xy[:, 1])))
        world.school(f"S{i:03d}", geom, level=str(rng.choice(LEVELS, p=[0.15, 0.45, 0.3, 0.1])))
    px, py = rng.uniform(-half, half, n_places), rng.uniform(-half, half, n_places)
    lon, lat = to_lonlat(px, py)
    histories = [[], [], [], [(DAY + timedelta(days=90), True)], [(DAY - timedelta(days=1), True)],
                 [(None, False)], [(DAY, True)]]
    world.places([{"ref": f"P{i:05d}", "category": str(rng.choice(CATEGORIES)), "lon": float(lon[i]),
                   "lat": float(lat[i]), "licences": histories[int(rng.integers(len(histories)))]}
                  for i in range(n_places)])


def _geodesic_distances(pairs: gpd.GeoDataFrame, campuses_tm: gpd.GeoSeries,
                         to_lonlat: Transformer) -> np.ndarray:
    """For each (place, campus) pair, the geodesic from the place to the campus boundary (0 inside):
    the boundary sampled every 2 cm over 10 m around its point nearest in the TM (which is within
    millimetres of the geodesically nearest), every sample measured with Geod.inv, the least kept."""
    places_tm = pairs.geometry.values
    campus = campuses_tm.loc[pairs["index_right"]].values
    inside = shapely.covers(campus, places_tm)
    outline = np.array([g if g.geom_type == "Point" else g.boundary for g in campus], dtype=object)
    at = shapely.line_locate_point(np.where([g.geom_type == "Point" for g in outline],
                                            shapely.LineString([(0, 0), (1, 0)]), outline), places_tm)
    steps = np.arange(-5.0, 5.0 + 1e-9, 0.02)
    lengths = np.array([1.0 if g.geom_type == "Point" else g.length for g in outline])
    positions = np.mod(at[:, None] + steps[None, :], lengths[:, None])  # a ring wraps around
    samples = shapely.line_interpolate_point(
        np.repeat(np.where([g.geom_type == "Point" for g in outline],
                           shapely.LineString([(0, 0), (1, 0)]), outline), len(steps)), positions.ravel())
    xy = shapely.get_coordinates(samples).reshape(len(pairs), len(steps), 2)
    is_point = np.array([g.geom_type == "Point" for g in outline])
    xy[is_point] = shapely.get_coordinates(outline[is_point])[:, None, :]
    lon, lat = to_lonlat.transform(xy[..., 0].ravel(), xy[..., 1].ravel())
    _, _, d = GEOD.inv(np.repeat(pairs["lon"].to_numpy(), len(steps)), np.repeat(pairs["lat"].to_numpy(),
                       len(steps)), lon, lat)
    return np.where(inside, 0.0, d.reshape(len(pairs), len(steps)).min(axis=1))


def _reference(conn) -> dict[str, tuple[str, float]]:
    """place ref -> (nearest school ref it breaks a rule for, distance), evaluated independently."""
    rules = conn.execute("SELECT category, school_levels, distance_m, kind FROM perimeter_rule").fetchall()
    licences: dict[str, list] = {}
    for ref, until, shown in conn.execute("SELECT p.ref, l.valid_until, l.displayed FROM licence l"
                                          " JOIN place p ON p.id = l.place_id"):
        licences.setdefault(ref, []).append((until, shown))
    places = gpd.GeoDataFrame(
        conn.execute("SELECT ref, category, ST_X(geom), ST_Y(geom) FROM place").fetchall(),
        columns=["ref", "category", "lon", "lat"])
    places = places.set_geometry(gpd.points_from_xy(places["lon"], places["lat"]), crs="EPSG:4326")
    rows = conn.execute("SELECT ref, level, ST_AsBinary(geom) FROM school").fetchall()
    schools = gpd.GeoDataFrame({"school": [r[0] for r in rows], "level": [r[1] for r in rows]},
                               geometry=shapely.from_wkb([r[2] for r in rows]), crs="EPSG:4326")
    tm = proj4(*CHENZHOU)
    campuses_tm = schools.to_crs(tm)
    pairs = gpd.sjoin(places.to_crs(tm), campuses_tm, predicate="dwithin", distance=205.0)
    licensed_ok = {ref for ref, held in licences.items()
                   if any(shown and (until is None or until >= DAY) for until, shown in held)}
    def limit(category: str, level: str, ref: str) -> float:
        return max([d for c, levels, d, kind in rules if c == category and level in levels
                    and (kind == "forbidden" or ref not in licensed_ok)], default=-1.0)

    pairs["limit"] = [limit(c, level, ref)
                      for c, level, ref in zip(pairs["category"], pairs["level"], pairs["ref"], strict=True)]
    pairs = pairs[pairs["limit"] > 0].copy()
    to_lonlat = Transformer.from_crs(tm, "EPSG:4326", always_xy=True)
    pairs["distance"] = _geodesic_distances(pairs, campuses_tm.geometry, to_lonlat)
    near = pairs[pairs["distance"] <= pairs["limit"]].sort_values(["distance", "school"])
    nearest = near.drop_duplicates("ref")
    return {r.ref: (r.school, float(r.distance)) for r in nearest.itertuples()}


def _compare(got: dict[str, tuple[str, float]], expected: dict[str, tuple[str, float]]) -> float:
    """Same violations (a place within TOLERANCE of 200 m may go either way), same nearest school
    (or one as near), distances within TOLERANCE; the worst difference."""
    for ref in got.keys() ^ expected.keys():
        distance = (got.get(ref) or expected[ref])[1]
        assert abs(distance - 200) < TOLERANCE, f"{ref}: {got.get(ref)} vs {expected.get(ref)}"
    worst = 0.0
    for ref in got.keys() & expected.keys():
        (school, d), (ref_school, ref_d) = got[ref], expected[ref]
        assert d == pytest.approx(ref_d, abs=TOLERANCE), ref
        assert school == ref_school or abs(d - ref_d) < TOLERANCE, ref
        worst = max(worst, abs(d - ref_d))
    return worst


@pytest.fixture
def city(conn, world):
    _city(world)
    return _reference(conn)


def test_same_violations_as_an_independent_evaluation(conn, city):
    rows = perimeter_violations(conn, DAY)
    assert len(city) > 400, "the dense shape: many violations"
    states = {r["licence_state"] for r in rows}
    assert {"missing", "expired", "not_displayed"} <= states
    worst = _compare({r["place_ref"]: (r["school_ref"], r["distance_m"]) for r in rows}, city)
    assert worst < TOLERANCE
    distances = [r["distance_m"] for r in rows]
    assert distances == sorted(distances), "nearest first"


def test_streamed_formats_say_the_same(conn, city):
    listing = violation_listing(conn, DAY)
    text = b"".join(Stream(conn, listing, "csv")).decode()
    assert text.startswith("\ufeff"), "a UTF-8 BOM for Excel"
    table = [{"place_ref": r["场所编号"], "school_ref": r["学校编号"], "distance_m": r["距离（米）"]}
             for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]
    _compare({r["place_ref"]: (r["school_ref"], float(r["distance_m"])) for r in table}, city)
    assert all(len(r["distance_m"].split(".")[1]) == 2 for r in table)
    features = json.loads(b"".join(Stream(conn, listing, "geojson")))["features"]
    _compare({f["properties"]["place_ref"]: (f["properties"]["school_ref"], f["properties"]["distance_m"])
              for f in features}, city)
    body = json.loads(b"".join(Stream(conn, listing, "json")))
    assert body["count"] == len(table) == len(features) and body["date"] == DAY.isoformat()
    assert [v["place_ref"] for v in body["violations"]] == [r["place_ref"] for r in table]


def test_a_stream_closed_early_leaves_the_connection_usable(conn, city):
    """A client that goes away: the route closes the stream; the COPY or cursor ends with it."""
    for fmt in ("csv", "json"):
        stream = Stream(conn, violation_listing(conn, DAY), fmt)
        next(iter(stream))
        stream.close()
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_csv_neutralises_formulas_as_the_spreadsheet_module(conn, world):
    from gis.spreadsheet import FORMULA_STARTS as SPREADSHEET_STARTS

    assert FORMULA_STARTS == SPREADSHEET_STARTS
    world.school("S", shapely.Point(*CHENZHOU))
    names = ["=1+2", "+x", "-x", "@x", "\tx", "\rx", "a,b", 'say "hi"', "two\nlines", "plain", "'quoted"]
    world.places([{"ref": f"p{i}", "category": "internet_cafe", "lon": CHENZHOU[0] + i * 1e-5,
                   "lat": CHENZHOU[1]} for i in range(len(names))])
    for i, name in enumerate(names):
        conn.execute("UPDATE place SET name = %s WHERE ref = %s", [name, f"p{i}"])
    text = b"".join(Stream(conn, violation_listing(conn, DAY), "csv")).decode()
    table = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    got = {r["场所编号"]: r["场所名称"] for r in table}
    from gis.spreadsheet import neutralised

    assert got == {f"p{i}": neutralised(name) for i, name in enumerate(names)}
