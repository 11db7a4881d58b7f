"""The demo street (演示街道): a deterministic, realistic street of Suxian District, Chenzhou, and its load.

``generate_street`` draws the whole street from one seed (same arguments, same frames, byte for
byte): communities cut into grids that tile them exactly, grid workers, buildings, households,
persons with valid ID numbers and the tags of 四清四掌握, schools, shops and roads.
``load_demo`` writes the layers through the importer (gis.catalog.load_frame), so the demo data
passes the same checks as a user's file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from pyproj import CRS, Transformer

from gis.catalog import LAYERS, load_frame
from gis.demo.buildings import allocate_households, household_points, household_rooms, misplace
from gis.demo.division import Division, add_lanes, build_division
from gis.demo.facilities import build_places, build_schools, school_grids
from gis.demo.names import (
    CHINESE_ORDINALS,
    COMMUNITY_STEMS,
    EW_SUFFIXES,
    NS_SUFFIXES,
    ROAD_STEMS,
    STREET_NAMES,
)
from gis.demo.people import (
    EMPLOYMENTS,
    KEY_PERSON_SHARE,
    POVERTY,
    RELATIONS,
    build_people,
    grid_workers,
    household_sizes,
    person_names,
    phones,
)

# Suxian District (苏仙区) of Chenzhou (郴州市), Hunan: 431003 in GB/T 2260 (the Ministry of Civil
# Affairs' list of county-level codes, 民政部《中华人民共和国县以上行政区划代码》); Beihu is 431002.
COUNTY_CODE = "431003"
STREET_CODE = "001"  # the demo's own numbering of the street, not an official town code
CENTRE = (113.04, 25.80)  # urban Suxian, east of the Chenjiang river (郴江)
REFERENCE_DATE = date(2026, 7, 1)  # ages and licence expiry are counted from here, never from today
DEFAULT_SEED = 431003
COORDINATE_DECIMALS = 7  # ~1 cm; shared vertices stay identical because equal inputs round equally

Progress = Callable[[str, int, int], None]  # (layer, rows done, rows in the layer)

# What --replace empties: the register and the demo's other layers, if their tables exist yet.
DEMO_TABLES = ("community", "grid", "grid_worker", "grid_worker_grid", "building", "household", "person",
               "key_person", "school", "place", "licence", "road")


@dataclass
class DemoStreet:
    """One street's layers, as the importer takes them: field names as columns, ``ref`` for ids,
    ``geometry`` in EPSG:4326."""

    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    grid_workers: pd.DataFrame
    buildings: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    persons: pd.DataFrame
    schools: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame

    def layers(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def generate_street(seed: int = DEFAULT_SEED, communities: int = 6, grids: int = 60,
                    households: int = 20_000, persons: int = 50_000, schools: int | None = None,
                    places: int | None = None, with_defects: bool = False) -> DemoStreet:
    """Draw a street. Schools default to one per four grids (~15), places to 25 per grid (~1,500).

    ``with_defects`` cuts a small gap between two grids and makes two others overlap, both in the
    first community, for showing the division check (全覆盖、无缝隙、不交叉)."""
    if communities < 1 or grids < communities or households < 1:
        raise ValueError("need communities >= 1, grids >= communities and households >= 1")
    if communities > 999 or grids > 999 * communities:
        raise ValueError("codes have three digits: at most 999 communities and 999 grids each")

    def rng(step: int) -> np.random.Generator:
        # One stream per step (never two uses of one number: they would draw the same values), so
        # that changing the number of persons does not move the schools.
        return np.random.default_rng([seed, step])

    division = build_division(rng(1), communities, grids)
    community_stems = _community_stems(rng(2), communities)
    school_at = school_grids(rng(3), division, max(1, round(grids / 4)) if schools is None else schools)
    school_frame = build_schools(rng(13), division, school_at, community_stems)
    add_lanes(rng(4), division, 0.5, school_at)
    road_names = _road_names(rng(5), division)

    buildings, h_building, h_rank = allocate_households(rng(6), division, households,
                                                        school_frame["geometry"].to_numpy())
    dong, unit, room = household_rooms(buildings, h_building, h_rank, rng(7))
    h_grid = buildings.grid[h_building]
    h_xy, misplaced = misplace(rng(8), division, household_points(rng(14), buildings, h_building), h_grid)
    people = build_people(rng(9), household_sizes(rng(15), households, persons),
                          np.datetime64(REFERENCE_DATE, "D"))
    worker_of_grid, n_workers = grid_workers(rng(10), division.grid_community)
    place_frame = build_places(rng(11), division, school_frame,
                               25 * grids if places is None else places, REFERENCE_DATE)
    grid_polygons = _with_defects(division) if with_defects else division.grids

    project, to_wgs84 = _projector(division)
    community_codes = np.array([f"{COUNTY_CODE}{STREET_CODE}{k + 1:03d}" for k in range(communities)])
    grid_codes = np.strings.add(community_codes[division.grid_community],
                                np.strings.zfill(division.grid_seq.astype(str), 3))
    street_name = STREET_NAMES[0]

    community_frame = gpd.GeoDataFrame({
        "ref": community_codes, "code": community_codes,
        "name": np.strings.add(np.array(community_stems), "社区"),
        "street_name": street_name,
    }, geometry=to_wgs84(division.communities), crs=4326)
    grid_frame = gpd.GeoDataFrame({
        "ref": grid_codes, "code": grid_codes,
        "name": np.strings.add(np.strings.add("第", division.grid_seq.astype(str)), "网格"),
        "community_code": community_codes[division.grid_community],
    }, geometry=to_wgs84(grid_polygons), crs=4326)

    w = rng(12)
    worker_male = w.random(n_workers) < 0.3  # most grid workers are women
    served = pd.Series(grid_codes).groupby(worker_of_grid).agg(";".join)
    worker_frame = pd.DataFrame({
        "ref": _refs("W", n_workers, 4),
        "name": person_names(w, worker_male), "phone": phones(w, n_workers),
        "grid_codes": served.to_numpy(),
    })

    road_of_building = road_names[buildings.road]
    door_plate = np.strings.add(np.strings.add(road_of_building, buildings.number.astype(str)), "号")
    b_ref = _refs("B", len(buildings.grid), 6)
    building_frame = gpd.GeoDataFrame({
        "ref": b_ref,
        "name": np.strings.add(np.strings.add(door_plate, buildings.dong.astype(str)), "栋"),
        "floors": buildings.floors, "units": buildings.units, "grid_code": grid_codes[buildings.grid],
    }, geometry=to_wgs84(buildings.polygons), crs=4326)

    room_text = room.astype(str)
    address = door_plate[h_building]
    for part in (" ", dong.astype(str), "栋", unit.astype(str), "单元", room_text, "室"):
        address = np.strings.add(address, part)
    h_ref = _refs("H", households, 7)
    household_frame = gpd.GeoDataFrame({
        "ref": h_ref, "address": address, "building": dong.astype(str), "unit": unit.astype(str),
        "room": room_text, "building_ref": b_ref[h_building],
        # Where the household is expected to land, for checking the import's placement report.
        "grid_code": grid_codes[h_grid],
        "expected_placement": np.array(["inside", "border", "outside"])[misplaced],
    }, geometry=gpd.GeoSeries(shapely.points(project(h_xy)), crs=4326), crs=4326)

    person_frame = pd.DataFrame({
        "ref": _refs("P", len(people.name), 8),
        "household_ref": h_ref[people.household], "name": people.name, "id_number": people.id_number,
        "phone": people.phone, "sex": pd.Categorical.from_codes(people.male.astype(np.int8), ["F", "M"]),
        "birth_date": people.birth.astype("datetime64[s]"),
        "relation": pd.Categorical.from_codes(people.relation, RELATIONS),
        "residence": pd.Categorical.from_codes(people.floating.astype(np.int8), ["registered", "floating"]),
        "employment": pd.Categorical.from_codes(people.employment, EMPLOYMENTS),
        "poverty": pd.Categorical.from_codes(people.poverty, POVERTY),
        "key_person": pd.Categorical.from_codes(people.key_person, list(KEY_PERSON_SHARE)),
        "elderly_alone": people.elderly_alone, "disabled": people.disabled,
        "activist": people.activist, "volunteer": people.volunteer,
    })

    # Gates (校门) as the importer's text form, 'lon,lat' (several would be joined with '; ').
    gates = school_frame["gate"].to_numpy()
    has_gate = ~shapely.is_missing(gates)
    gate_text = np.full(len(gates), None, dtype=object)
    if has_gate.any():
        lonlat = project(shapely.get_coordinates(gates[has_gate]))
        gate_text[has_gate] = [f"{x:.{COORDINATE_DECIMALS}f},{y:.{COORDINATE_DECIMALS}f}" for x, y in lonlat]
    schools_out = gpd.GeoDataFrame({
        "ref": _refs("S", len(school_frame), 3),
        "name": school_frame["name"].to_numpy(), "level": school_frame["level"].to_numpy(),
        "gates": gate_text,
    }, geometry=to_wgs84(school_frame["geometry"].to_numpy()), crs=4326)

    p_road = place_frame["road_index"].to_numpy()
    p_number = np.arange(1, len(place_frame) + 1) % 300 + 1
    places_out = gpd.GeoDataFrame({
        "ref": _refs("PL", len(place_frame), 5),
        "name": place_frame["name"].to_numpy(), "category": place_frame["category"].to_numpy(),
        "address": np.strings.add(np.strings.add(road_names[p_road], p_number.astype(str)), "号门面"),
        **{c: place_frame[c].to_numpy() for c in place_frame.columns if c.startswith("licence_")},
    }, geometry=to_wgs84(place_frame["geometry"].to_numpy()), crs=4326)

    roads_out = gpd.GeoDataFrame({
        "ref": _refs("R", len(division.roads), 4),
        "name": road_names, "kind": division.road_kind,
    }, geometry=to_wgs84(division.roads), crs=4326)

    return DemoStreet(communities=community_frame, grids=grid_frame, grid_workers=worker_frame,
                      buildings=building_frame, households=household_frame, persons=person_frame,
                      schools=schools_out, places=places_out, roads=roads_out)


def _refs(prefix: str, n: int, width: int) -> np.ndarray:
    """Record ids: prefix + zero-padded 1-based number (B000001)."""
    if n == 0:
        return np.array([], dtype=str)
    return np.strings.add(prefix, np.strings.zfill(np.arange(1, n + 1).astype(str), width))


def _projector(division: Division
               ) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], gpd.GeoSeries]]:
    """Metric plane → EPSG:4326, for (n, 2) coordinates and for geometries: a transverse Mercator
    (k = 1) whose false origin puts the street's centre on CENTRE."""
    x0, y0, x1, y1 = division.street.bounds
    local = CRS.from_proj4(f"+proj=tmerc +lat_0={CENTRE[1]} +lon_0={CENTRE[0]} +k=1 "
                           f"+x_0={(x0 + x1) / 2} +y_0={(y0 + y1) / 2} +ellps=WGS84 +units=m +no_defs")
    transformer = Transformer.from_crs(local, CRS.from_epsg(4326), always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), COORDINATE_DECIMALS)

    def to_wgs84(geoms: np.ndarray) -> gpd.GeoSeries:
        geoms = np.asarray(geoms, dtype=object)
        if len(geoms) and (shapely.get_type_id(geoms) == 0).all():  # points: skip the copy per geometry
            return gpd.GeoSeries(shapely.points(project(shapely.get_coordinates(geoms))), crs=4326)
        return gpd.GeoSeries(shapely.transform(geoms, project), crs=4326)

    return project, to_wgs84


def _community_stems(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct community name stems; past the list, stems take an ordinal (东塔二)."""
    stems = list(np.array(COMMUNITY_STEMS)[rng.permutation(len(COMMUNITY_STEMS))])
    return [stems[k % len(stems)] + ("" if k < len(stems) else CHINESE_ORDINALS[(k // len(stems)) % 10])
            for k in range(n)]


def _ordinal(k: int) -> str:
    return CHINESE_ORDINALS[k - 1] if k <= 10 else str(k)


def _road_names(rng: np.random.Generator, division: Division) -> np.ndarray:
    """Distinct names for the main roads (东西向 路/大道, 南北向 路/街); lanes are 'road + N巷'."""
    stems = list(np.array(ROAD_STEMS)[rng.permutation(len(ROAD_STEMS))])
    kinds = division.road_kind
    names = np.full(len(kinds), "", dtype=object)
    used: set[str] = set()
    main = np.flatnonzero(kinds != "lane")
    pick = rng.integers(0, 4, len(main))
    for n, (i, k) in enumerate(zip(main, pick, strict=True)):
        suffixes = EW_SUFFIXES if kinds[i] == "ew" else NS_SUFFIXES
        # Past the stem list a stem comes back with another suffix; skip names already given.
        candidates = (stems[(n + j) % len(stems)] + suffixes[(k + j // len(stems)) % len(suffixes)]
                      for j in range(len(stems) * len(suffixes) * 4))
        name = next((c for c in candidates if c not in used), f"{stems[n % len(stems)]}{n}号路")
        used.add(name)
        names[i] = name
    lane_count: dict[int, int] = {}
    for i in np.flatnonzero(kinds == "lane"):
        parent = int(division.road_parent[i])
        lane_count[parent] = lane_count.get(parent, 0) + 1
        names[i] = f"{names[parent]}{_ordinal(lane_count[parent])}巷"
    return names.astype(str)


def _with_defects(division: Division) -> np.ndarray:
    """The grids with two faults in the first community, each a ~150 m² triangle on an edge two grids
    share: one grid's side is bent inward (a gap) and another's outward over its neighbour (an overlap).
    Only one vertex is added, off the shared edge, so no other sliver appears after rounding."""
    grids = division.grids.copy()
    members = np.flatnonzero(division.grid_community == 0)
    pairs = [(int(a), int(b)) for i, a in enumerate(members) for b in members[i + 1:]
             if shapely.length(shapely.intersection(grids[a], grids[b])) > 50]
    if len(pairs) < 2:
        raise ValueError("--with-defects needs a first community of at least three grids")
    for (a, b), inward in zip(pairs[:2], (True, False), strict=False):
        ring = shapely.get_coordinates(grids[a].exterior)
        theirs = {tuple(xy) for xy in shapely.get_coordinates(grids[b].exterior)}
        shared = [k for k in range(len(ring) - 1)
                  if tuple(ring[k]) in theirs and tuple(ring[k + 1]) in theirs]
        k = shared[len(shared) // 2]  # the middle segment of the shared side: between its inner points
        p, q = ring[k], ring[k + 1]
        length = float(np.hypot(*(q - p)))
        normal = np.array([p[1] - q[1], q[0] - p[0]]) / length
        mid = (p + q) / 2
        if shapely.contains_xy(grids[a], *(mid + normal * 0.5)) != inward:
            normal = -normal
        apex = mid + normal * min(10.0, 300.0 / length)  # triangle area = length * depth / 2 = 150 m²
        grids[a] = shapely.Polygon(np.concatenate([ring[:k + 1], [apex], ring[k + 1:]]))
    return grids


# --- loading --------------------------------------------------------------------------------------

def database_has_communities(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM community)").fetchone()
    return bool(row and row[0])


def clear_register(conn: psycopg.Connection) -> None:
    """Empty the register and the demo's other layers (and whatever hangs off them: CASCADE)."""
    present = [t for t in DEMO_TABLES
               if conn.execute("SELECT to_regclass(%s) IS NOT NULL", [t]).fetchone() == (True,)]
    conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
        sql.SQL(", ").join(sql.Identifier(t) for t in present)))


def load_demo(conn: psycopg.Connection, street: DemoStreet, progress: Progress | None = None,
              data_dir: Path | None = None) -> dict[str, int]:
    """Load the street through the importer, register layers first, then schools, places and roads
    when their layers exist. Returns rows per layer, plus households reported on a grid border or
    outside every grid (``households_border``, ``households_outside``).

    All or nothing: inside the caller's transaction when one is open (the caller commits), else in a
    transaction of its own."""
    counts: dict[str, int] = {}
    with conn.transaction():
        for layer, frame in street.layers().items():
            if layer not in LAYERS:
                continue
            if len(frame) == 0:  # e.g. schools=0: the importer refuses an empty file
                counts[layer] = 0
                continue

            def step(done: int, total: int, layer: str = layer) -> None:
                if progress is not None:
                    progress(layer, done, total)

            report = load_frame(conn, layer, frame, progress=step)
            counts[layer] = report.rows
            step(report.rows, report.rows)
            if layer == "households":
                counts["households_border"] = len(report.border)
                counts["households_outside"] = len(report.outside)
        if len(street.grid_workers) and "ref" in street.grid_workers:
            # The public service phone printed on the wall map (一图上墙), separate from the personal
            # phone: a demo community office line per worker (migration 024).
            conn.execute("UPDATE grid_worker"
                         " SET service_phone = '0571-8760' || lpad(mod(id, 10000)::text, 4, '0')"
                         " WHERE ref = ANY (%s) AND service_phone IS NULL",
                         [list(street.grid_workers["ref"].astype(str))])
        # the quarter's 30-item demo scoring sheet (考核), its workbook kept in the data folder
        # (default: the settings' one, where the service reads it)
        from gis.demo.scoring import import_demo_sheets
        from gis.settings import Settings

        counts["assessment_sheets"] = import_demo_sheets(conn, data_dir or Settings().data_dir)
    return counts
