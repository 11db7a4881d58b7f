"""The demo street's buildings (楼栋): plots, footprints, door plates, and where each household lives.

Everything is drawn as whole numpy arrays from a seeded generator: a million households take
seconds, and the same seed gives the same street. Positions are in the local metric plane of
gis/demo/division.py; the caller projects them to EPSG:4326.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from gis.demo.division import Division, rotated_rectangles

SLOT_DX, SLOT_DY = 62.0, 36.0  # building plots: a 3-unit slab is 48 m long, 12-14 m deep
INNER_MARGIN = 30.0  # buildings keep clear of grid borders (the roads run there)
LANE_MARGIN = 28.0
UNIT_WIDTH = 16.0  # m of façade per stairwell (单元)
MISPLACED_SHARE = 0.005  # households located on a grid border or outside the street, to be reported


@dataclass
class Buildings:
    polygons: np.ndarray  # footprints
    grid: np.ndarray  # grid index
    floors: np.ndarray
    units: np.ndarray
    doors: np.ndarray  # rooms per floor and unit
    road: np.ndarray  # index of the road the compound's gate opens on
    number: np.ndarray  # house number (门牌号) on that road
    dong: np.ndarray  # building number (栋) within the compound
    centre: np.ndarray  # (n, 2)
    angle: np.ndarray


def weighted_pick(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn with probability ∝ weight (Efraimidis-Spirakis keys: O(n), no loop)."""
    k = min(k, int((weights > 0).sum()))
    if k <= 0:
        return np.array([], dtype=int)
    keys = np.where(weights > 0, np.log(rng.random(len(weights))) / np.maximum(weights, 1e-300), -np.inf)
    return np.sort(np.argpartition(-keys, k - 1)[:k])


def _slots(rng: np.random.Generator, division: Division, blocked: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Building plots: a jittered lattice over the street, kept well inside a grid and off lanes and
    campuses. Returns (plot centres (n, 2), grid index of each), at least one plot per grid."""
    x0, y0, x1, y1 = division.street.bounds
    xs, ys = np.arange(x0, x1, SLOT_DX), np.arange(y1, y0, -SLOT_DY)
    xy = np.stack(np.meshgrid(xs, ys, indexing="xy"), axis=-1).reshape(-1, 2)
    xy = xy + rng.uniform(-5, 5, xy.shape)
    points = shapely.points(xy)
    inner = shapely.buffer(division.grids, -INNER_MARGIN)
    slot, grid = shapely.STRtree(inner).query(points, predicate="within")
    lanes = division.roads[division.road_kind == "lane"]
    bad = np.zeros(len(points), dtype=bool)
    for obstacles, margin in ((lanes, LANE_MARGIN), (blocked, 12.0)):
        if len(obstacles):
            hit = shapely.STRtree(obstacles).query(points, predicate="dwithin", distance=margin)[0]
            bad[hit] = True
    keep = ~bad[slot]
    slot, grid = slot[keep], grid[keep]
    order = np.argsort(grid, kind="stable")
    xy, grid = xy[slot[order]], grid[order]
    empty = np.setdiff1d(np.arange(len(division.grids)), grid)
    if len(empty):  # a small or crowded grid still gets one plot
        spare = shapely.get_coordinates(shapely.point_on_surface(division.grids[empty]))
        xy, grid = np.concatenate([xy, spare]), np.concatenate([grid, empty])
        order = np.argsort(grid, kind="stable")
        xy, grid = xy[order], grid[order]
    return xy, grid


def allocate_households(rng: np.random.Generator, division: Division, households: int,
                        blocked: np.ndarray) -> tuple[Buildings, np.ndarray, np.ndarray]:
    """Buildings on plots and every household in one of them. Returns (buildings, building index of
    each household, rank of the household within its building), households sorted by building."""
    n_grids = len(division.grids)
    plot_xy, plot_grid = _slots(rng, division, blocked)
    plots_per_grid = np.bincount(plot_grid, minlength=n_grids)
    # Households per grid ∝ area, with a spread (some grids are markets, some dense compounds).
    weight = shapely.area(division.grids) * rng.lognormal(0, 0.35, n_grids)
    per_grid = rng.multinomial(households, weight / weight.sum())
    target = rng.uniform(14, 40, n_grids)  # households per building: walk-ups to towers
    n_build = np.clip(np.round(per_grid / target), 1, plots_per_grid).astype(int)
    # Take the first n_build plots of each grid in a random order.
    key = rng.random(len(plot_grid))
    order = np.lexsort((key, plot_grid))
    first = np.concatenate([[0], np.cumsum(plots_per_grid)[:-1]])
    rank = np.arange(len(order)) - first[plot_grid[order]]
    chosen = np.sort(order[rank < n_build[plot_grid[order]]])
    b_xy, b_grid = plot_xy[chosen], plot_grid[chosen]
    # Each household of a grid picks one of the grid's buildings.
    b_first = np.concatenate([[0], np.cumsum(n_build)[:-1]])
    h_grid = np.repeat(np.arange(n_grids), per_grid)
    h_building = b_first[h_grid] + rng.integers(0, n_build[h_grid])
    h_building.sort()
    occupied = np.bincount(h_building, minlength=len(b_grid))
    h_rank = np.arange(households) - np.concatenate([[0], np.cumsum(occupied)[:-1]])[h_building]

    # Shape follows occupancy: stairwells (单元), 2 doors a floor, 70-95 % of the flats lived in.
    nb = len(b_grid)
    units = rng.choice([1, 2, 3], nb, p=[0.3, 0.5, 0.2])
    fill = rng.uniform(0.7, 0.95, nb)
    floors = np.clip(np.ceil(occupied / (units * 2 * fill)), 2, 33).astype(int)
    doors = np.maximum(2, np.ceil(occupied / (units * floors * fill))).astype(int)
    angle = rng.normal(0, 0.06, nb)
    width = units * UNIT_WIDTH + np.where(doors > 2, 6.0, 0.0)
    depth = np.where(floors > 11, 18.0, 12.0)
    polygons = rotated_rectangles(b_xy, width, depth, angle)
    road, number, dong = _addresses(division, b_xy, b_grid)
    buildings = Buildings(polygons=polygons, grid=b_grid, floors=floors, units=units, doors=doors,
                          road=road, number=number, dong=dong, centre=b_xy, angle=angle)
    return buildings, h_building, h_rank


def nearest_line(lines: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Index of the line nearest to each point. The tree holds the lines' segments: a long road's
    envelope covers the whole street and would make every query measure every road."""
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    same = owner[:-1] == owner[1:]
    segments = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    nearest = shapely.STRtree(segments).query_nearest(points, all_matches=False)[1]
    return owner[:-1][same][nearest]


def _addresses(division: Division, xy: np.ndarray, grid: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Door plates: the buildings of a grid that open on the same road form a compound (小区) with one
    house number (门牌号), odd on one kerb and even on the other, rising along the road; 栋 numbers
    the buildings inside the compound north to south, west to east."""
    points = shapely.points(xy)
    road = nearest_line(division.roads, points)
    lines = division.roads[road]
    along = shapely.line_locate_point(lines, points)
    here = shapely.get_coordinates(shapely.line_interpolate_point(lines, along))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(lines, along + 1.0))
    t, d = ahead - here, xy - here
    left = t[:, 0] * d[:, 1] - t[:, 1] * d[:, 0] > 0  # the building is left of the road's direction
    frame = pd.DataFrame({"road": road, "grid": grid, "along": along, "left": left,
                          "x": xy[:, 0], "y": xy[:, 1]})
    compounds = frame.groupby(["road", "grid"], sort=True).agg(
        along=("along", "mean"), left=("left", "mean")).reset_index()
    compounds["left"] = compounds["left"] >= 0.5
    compounds = compounds.sort_values(["road", "left", "along"], kind="stable")
    # Numbers rise with distance along the road, about one number per 20 m, never repeating.
    step = np.maximum(1, np.round(compounds.groupby(["road", "left"])["along"].diff().fillna(
        compounds["along"]).to_numpy() / 20)).astype(int)
    compounds["seq"] = pd.Series(step, index=compounds.index).groupby(
        [compounds["road"], compounds["left"]]).cumsum()
    compounds["number"] = 2 * compounds["seq"] - compounds["left"].astype(int)  # left kerb odd
    merged = frame.merge(compounds[["road", "grid", "number"]], on=["road", "grid"], how="left")
    merged["order"] = np.arange(len(merged))
    merged = merged.sort_values(["road", "grid", "y", "x"], ascending=[True, True, False, True])
    merged["dong"] = merged.groupby(["road", "grid"]).cumcount() + 1
    merged = merged.sort_values("order")
    return road, merged["number"].to_numpy(), merged["dong"].to_numpy()


def household_rooms(b: Buildings, h_building: np.ndarray, h_rank: np.ndarray,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit and room of each household, spread over the building rather than filling floor 1 first."""
    occupied = np.bincount(h_building, minlength=len(b.grid))[h_building]
    capacity = (b.units * b.floors * b.doors)[h_building]
    # Household r takes a flat in [floor(r·s), floor((r+1)·s)), s = flats per household ≥ 1: distinct.
    stride = capacity / occupied
    low, high = np.floor(h_rank * stride), np.floor((h_rank + 1) * stride)
    position = (low + np.floor(rng.random(len(h_rank)) * (high - low))).astype(int)
    per_unit = (b.floors * b.doors)[h_building]
    unit = position // per_unit + 1
    within = position % per_unit
    doors = b.doors[h_building]
    floor, door = within // doors + 1, within % doors + 1
    return b.dong[h_building], unit, floor * 100 + door


def household_points(rng: np.random.Generator, b: Buildings, h_building: np.ndarray) -> np.ndarray:
    """A point inside the household's building footprint."""
    n = len(h_building)
    width = b.units * UNIT_WIDTH
    u = rng.uniform(-0.4, 0.4, (n, 2)) * np.stack([width[h_building], np.full(n, 10.0)], axis=1)
    angle = b.angle[h_building]
    cos, sin = np.cos(angle), np.sin(angle)
    return b.centre[h_building] + np.stack([u[:, 0] * cos - u[:, 1] * sin, u[:, 0] * sin + u[:, 1] * cos], 1)


def misplace(rng: np.random.Generator, division: Division, xy: np.ndarray, h_grid: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Move ~0.5 % of the households onto a vertex of their grid's border (exactly on it, so the
    database sees them touch) or 20-60 m outside the street. Returns (new xy, kind: 0 kept, 1 border,
    2 outside)."""
    n = len(xy)
    kind = np.zeros(n, dtype=np.int8)
    moved = weighted_pick(rng, np.ones(n), round(n * MISPLACED_SHARE))
    if len(moved) == 0:
        return xy, kind
    outside = moved[rng.random(len(moved)) < 0.5]
    border = np.setdiff1d(moved, outside)
    xy = xy.copy()
    if len(border):
        rings = shapely.get_exterior_ring(division.grids[h_grid[border]])
        npts = shapely.get_num_points(rings) - 1  # the closing point repeats the first
        vertex = np.floor(rng.random(len(border)) * npts).astype(int)
        xy[border] = shapely.get_coordinates(shapely.get_point(rings, vertex))
        kind[border] = 1
    if len(outside):
        ring = shapely.get_exterior_ring(division.street)
        on = shapely.get_coordinates(shapely.line_interpolate_point(
            ring, rng.random(len(outside)), normalized=True))
        centre = shapely.get_coordinates(shapely.centroid(division.street))[0]
        away = (on - centre) / np.linalg.norm(on - centre, axis=1, keepdims=True)
        xy[outside] = on + away * rng.uniform(20, 60, len(outside))[:, None]
        inside = shapely.contains_xy(division.street, xy[outside, 0], xy[outside, 1])
        xy[outside[inside]] = on[inside] + away[inside] * 150  # a concave corner: go further out
        kind[outside] = 2
    return xy, kind
