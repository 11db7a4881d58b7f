"""Demo schools (学校) and places (经营场所) of the street, for the school-perimeter check (校园周边200米).

Built in the local metric plane of gis/demo/division.py. A few internet cafes are put on purpose
within 200 m of a primary or middle school (and a few just beyond it), and a share of the licences
are missing, expired or not displayed, so the perimeter check has something true to find.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import shapely

from gis.demo.division import Division, rotated_rectangles
from gis.demo.names import (
    CHINESE_ORDINALS,
    LICENCE_KIND,
    LICENCE_PREFIX,
    PLACE_CATEGORIES,
    PLACE_PREFIXES,
    PLACE_SUFFIXES,
    ROAD_STEMS,
    SCHOOL_SUFFIX,
)

# Campus width and height ranges (m) by level: a kindergarten is a yard, a high school a block.
CAMPUS_SIZE = {
    "kindergarten": ((90, 125), (70, 100)),
    "primary": ((140, 200), (110, 160)),
    "middle": ((170, 230), (130, 190)),
    "high": ((200, 250), (160, 210)),
    "vocational": ((200, 250), (160, 210)),
}
LEVEL_SHARE = {"kindergarten": 0.33, "primary": 0.33, "middle": 0.20, "high": 0.07, "vocational": 0.07}
GATE_SHARE = 0.7  # schools whose gate (校门) is known
NEAR_CAFE_SHARE = 0.4  # primary/middle schools given an internet cafe inside 200 m (a violation)
FAR_CAFE_SHARE = 0.3  # ... and one just beyond, 205-260 m (compliant, close to the line)


def blank(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``values`` as objects with None where ``where`` holds (an absent value, not an empty string)."""
    out = np.asarray(values).astype(object)
    out[where] = None
    return out


def school_grids(rng: np.random.Generator, division: Division, count: int) -> np.ndarray:
    """Grids that get a school: cells two apart in both directions, so campuses never touch."""
    cell = division.grid_cell
    candidates = np.flatnonzero((cell[:, 0] % 2 == 0) & (cell[:, 1] % 2 == 0))
    return np.sort(rng.choice(candidates, min(count, len(candidates)), replace=False))


def build_schools(rng: np.random.Generator, division: Division, grids: np.ndarray,
                  community_stems: list[str]) -> pd.DataFrame:
    """Schools: name, level, campus polygon (``geometry``) and, for most, a gate point (``gate``)."""
    n = len(grids)
    # Level counts follow the shares (largest remainder), so even 15 schools have every level.
    share = np.array(list(LEVEL_SHARE.values())) * n
    count = np.floor(share).astype(int)
    count[np.argsort(count - share)[: n - count.sum()]] += 1
    levels = rng.permutation(np.repeat(list(LEVEL_SHARE), count))
    size = np.array([[rng.uniform(*CAMPUS_SIZE[lv][0]), rng.uniform(*CAMPUS_SIZE[lv][1])] for lv in levels]
                    ).reshape(-1, 2)
    centre = shapely.get_coordinates(shapely.centroid(division.grids[grids])).reshape(-1, 2)
    centre = centre + rng.uniform(-15, 15, (n, 2))
    campus = rotated_rectangles(centre, size[:, 0], size[:, 1], rng.normal(0, 0.08, n))
    side = rng.integers(0, 4, n)
    ring = shapely.get_coordinates(shapely.get_exterior_ring(campus)).reshape(n, 5, 2)
    gate_xy = (ring[np.arange(n), side] + ring[np.arange(n), side + 1]) / 2
    gates = np.where(rng.random(n) < GATE_SHARE, shapely.points(gate_xy), None)
    # Names: numbered schools (第N小学) and schools named after their community (东塔小学), or after
    # a road when the community's name is taken.
    names: list[str] = []
    numbered: dict[str, int] = {}
    for level, grid in zip(levels, grids, strict=True):
        numbered[level] = numbered.get(level, 0) + 1
        k = numbered[level] // 2
        if level in ("primary", "middle") and numbered[level] % 2 == 1 and k < len(CHINESE_ORDINALS):
            names.append(f"郴州市苏仙区第{CHINESE_ORDINALS[k]}{SCHOOL_SUFFIX[level]}")
            continue
        stems = [community_stems[division.grid_community[grid]], *ROAD_STEMS]
        suffix = SCHOOL_SUFFIX[level]
        name = next((s + suffix for s in stems if s + suffix not in names), f"{stems[0]}{suffix}{len(names)}")
        names.append(name)
    return pd.DataFrame({"name": names, "level": levels, "geometry": campus, "gate": gates,
                         "grid_index": grids})


def build_places(rng: np.random.Generator, division: Division, schools: pd.DataFrame, count: int,
                 reference: date) -> pd.DataFrame:
    """Places (shops and venues) fronting the roads, with one licence each (some missing/expired)."""
    categories = list(PLACE_CATEGORIES)
    roads = division.roads
    lengths = shapely.length(roads)
    draw = round(count * 1.3) + 10  # some fall inside a campus or outside the street and are dropped
    road = rng.choice(len(roads), draw, p=lengths / lengths.sum())
    along = rng.uniform(0.05, 0.95, draw) * lengths[road]
    here = shapely.get_coordinates(shapely.line_interpolate_point(roads[road], along))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(roads[road], along + 1.0))
    tangent = (ahead - here) / np.linalg.norm(ahead - here, axis=1, keepdims=True)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    offset = rng.uniform(9, 16, draw) * rng.choice([-1, 1], draw)  # shop doors on both kerbs
    xy = here + normal * offset[:, None]
    campus = shapely.union_all(schools["geometry"].to_numpy()).buffer(5)
    keep = shapely.contains_xy(division.street, xy[:, 0], xy[:, 1]) & ~shapely.contains_xy(
        campus, xy[:, 0], xy[:, 1])
    xy, road = xy[keep][:count], road[keep][:count]
    share = np.array(list(PLACE_CATEGORIES.values()))
    category = rng.choice(categories, len(xy), p=share / share.sum())

    # Internet cafes placed on purpose around primary and middle schools: inside 200 m and just out.
    targets = schools.index[schools["level"].isin(["primary", "middle"]).to_numpy()]
    extra_xy, extra_cat = [], []
    for rate, (low, high) in ((NEAR_CAFE_SHARE, (30, 190)), (FAR_CAFE_SHARE, (205, 260))):
        chosen = targets[rng.random(len(targets)) < rate]
        if len(chosen) == 0:
            continue
        ring = shapely.get_coordinates(shapely.get_exterior_ring(schools.loc[chosen, "geometry"].to_numpy()))
        ring = ring.reshape(len(chosen), 5, 2)
        side = rng.integers(0, 4, len(chosen))
        a, b = ring[np.arange(len(chosen)), side], ring[np.arange(len(chosen)), side + 1]
        d = (b - a) / np.linalg.norm(b - a, axis=1, keepdims=True)
        outward = np.stack([d[:, 1], -d[:, 0]], axis=1)  # rings are counter-clockwise
        extra_xy.append((a + b) / 2 + outward * rng.uniform(low, high, len(chosen))[:, None])
        extra_cat.append(np.full(len(chosen), "internet_cafe"))
    if extra_xy:
        extra = np.concatenate(extra_xy)
        xy = np.concatenate([xy, extra])
        category = np.concatenate([category, *extra_cat])
        nearest = shapely.STRtree(roads).query_nearest(shapely.points(extra), all_matches=False)[1]
        road = np.concatenate([road, nearest])
    n = len(xy)

    suffix = np.array([PLACE_SUFFIXES[c][k % len(PLACE_SUFFIXES[c])]
                       for c, k in zip(category, rng.integers(0, 6, n), strict=True)])
    names = np.strings.add(np.array(PLACE_PREFIXES)[rng.integers(0, len(PLACE_PREFIXES), n)], suffix)
    kind = np.array([LICENCE_KIND[c] for c in category])
    serial = rng.integers(10_000_000, 99_999_999, n).astype(str)
    number = np.strings.add(np.strings.add(np.array([LICENCE_PREFIX[k] for k in kind]), "431003"), serial)
    state = rng.random(n)
    missing = state < 0.05  # no licence at all (无证经营)
    expired = (state >= 0.05) & (state < 0.12)
    # Valid licences run at least a year past the reference date, so that a check run "today"
    # still sees the intended share of expired ones for a good while.
    days = np.where(expired, rng.integers(-700, -1, n), rng.integers(365, 5 * 365, n))
    valid_until = np.array([reference + timedelta(days=int(d)) for d in days], dtype=object)
    displayed = rng.random(n) >= 0.10
    return pd.DataFrame({
        "name": names, "category": category, "geometry": shapely.points(xy), "road_index": road,
        "licence_kind": blank(kind, missing),
        "licence_number": blank(number, missing),
        "licence_valid_until": blank(valid_until, missing),
        "licence_displayed": np.where(missing, False, displayed),
    })
