"""The demo division (区划): a jittered lattice cut into street → communities → grids that tile exactly.

Every grid is a lattice cell whose four sides are shared polylines (the same vertices, in the same
float values, for both neighbours), so the grids cover their community with no gap and no overlap
(全覆盖、无缝隙、不交叉) by construction, in metres and after projection alike. The lattice lines are
also the main roads; lanes (巷) cross some cells. Everything here is in a local metric plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

CELL_W, CELL_H = 320.0, 280.0  # metres: an urban grid of 300-500 households (城市网格)
NODE_JITTER = 0.14  # of a cell side: lattice nodes move, so no two grids are the same shape
EDGE_WIGGLE = 0.045  # of an edge's length: the two inner points of each side bend it a little


@dataclass
class Division:
    """Grids (ordered by code) with their community, the communities, the street and the roads."""

    grids: np.ndarray  # Polygon per grid
    grid_community: np.ndarray  # community index (0-based) per grid
    grid_seq: np.ndarray  # 1-based sequence of the grid within its community (west→east, north→south)
    grid_cell: np.ndarray  # (n, 2) lattice (column, row) of each grid
    communities: np.ndarray  # Polygon per community, the union of its grids
    street: BaseGeometry
    roads: np.ndarray  # LineString per road
    road_kind: np.ndarray  # "ew" (east-west), "ns" (north-south) or "lane"
    road_parent: np.ndarray  # for a lane, the index of the main road it starts from; else -1
    h: np.ndarray  # the shared lattice edges (see _edges), kept for the lanes
    v: np.ndarray


def lattice_shape(grids: int) -> tuple[int, int]:
    """Columns and rows of a lattice holding ``grids`` cells (the last row may be partial)."""
    cols = max(1, int(np.ceil(np.sqrt(grids * CELL_H / CELL_W * 1.25))))
    return cols, int(np.ceil(grids / cols))


def _edges(rng: np.random.Generator, cols: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Node-to-node polylines: horizontal edges h[c, r] from node (c, r) to (c+1, r), vertical edges
    v[c, r] from (c, r) to (c, r+1); each (…, 4, 2): start node, two inner points, end node.
    Row 0 is the north edge of the street; y grows to the north."""
    cc, rr = np.meshgrid(np.arange(cols + 1), np.arange(rows + 1), indexing="ij")
    nodes = np.stack([cc * CELL_W, -rr * CELL_H], axis=-1).astype(float)
    nodes += rng.uniform(-NODE_JITTER, NODE_JITTER, nodes.shape) * np.array([CELL_W, CELL_H])

    def polyline(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = b - a
        normal = np.stack([-d[..., 1], d[..., 0]], axis=-1)  # |normal| = edge length
        t = np.array([1 / 3, 2 / 3])
        bend = rng.uniform(-EDGE_WIGGLE, EDGE_WIGGLE, a.shape[:-1] + (2,))
        inner = a[..., None, :] + t[:, None] * d[..., None, :] + bend[..., None] * normal[..., None, :]
        return np.concatenate([a[..., None, :], inner, b[..., None, :]], axis=-2)

    h = polyline(nodes[:-1, :, :], nodes[1:, :, :])
    v = polyline(nodes[:, :-1, :], nodes[:, 1:, :])
    return h, v


def _cell_rings(h: np.ndarray, v: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Closed rings (n, 13, 2) of cells (column, row): north side west→east, east side north→south,
    south side east→west, west side south→north: clockwise, each side taken from the shared edge."""
    c, r = cells[:, 0], cells[:, 1]
    north = h[c, r][:, :3]
    east = v[c + 1, r][:, :3]
    south = h[c, r + 1][:, ::-1][:, :3]
    west = v[c, r][:, ::-1][:, :3]
    ring = np.concatenate([north, east, south, west], axis=1)
    return np.concatenate([ring, ring[:, :1]], axis=1)


def _bisect(cells: np.ndarray, parts: int) -> list[np.ndarray]:
    """Cut cells into ``parts`` contiguous groups of near-equal size by recursive bisection with
    straight lattice lines, across the longer side first. A straight cut of an orthogonally convex
    set of cells leaves two connected, orthogonally convex halves, so every community is one piece."""
    if parts <= 1:
        return [cells]
    left = parts // 2
    target = len(cells) * left / parts
    span = cells.max(axis=0) - cells.min(axis=0)
    preferred = 0 if span[0] * CELL_W >= span[1] * CELL_H else 1
    for axis in (preferred, 1 - preferred):
        coord = cells[:, axis]
        sizes = np.array([(coord < x).sum() for x in np.unique(coord)[1:]])
        fits = (sizes >= left) & (len(cells) - sizes >= parts - left)
        if fits.any():
            best = np.unique(coord)[1:][fits][np.argmin(np.abs(sizes[fits] - target))]
            below = coord < best
            return _bisect(cells[below], left) + _bisect(cells[~below], parts - left)
    # Too few lines to cut straight (many parts in a small block): cut in reading order instead.
    order = np.lexsort((cells[:, 1 - preferred], cells[:, preferred]))
    cut = round(target)
    return _bisect(cells[order[:cut]], left) + _bisect(cells[order[cut:]], parts - left)


def build_division(rng: np.random.Generator, communities: int, grids: int) -> Division:
    """The lattice, its cells grouped into communities and the main roads along its lines."""
    if grids < communities:
        raise ValueError("need at least one grid per community")
    cols, rows = lattice_shape(grids)
    h, v = _edges(rng, cols, rows)
    order = np.arange(grids)
    cells = np.stack([order % cols, order // cols], axis=1)  # west→east, north→south; last row partial

    groups = _bisect(cells, communities)
    # Communities numbered north→south, west→east by their first cell; grids likewise inside each.
    groups.sort(key=lambda g: (g[:, 1].min(), g[g[:, 1] == g[:, 1].min(), 0].min()))
    grid_cells, grid_community, grid_seq = [], [], []
    for k, group in enumerate(groups):
        group = group[np.lexsort((group[:, 0], group[:, 1]))]
        grid_cells.append(group)
        grid_community.append(np.full(len(group), k))
        grid_seq.append(np.arange(1, len(group) + 1))
    cell = np.concatenate(grid_cells)
    polygons = shapely.polygons(_cell_rings(h, v, cell))
    community = np.concatenate(grid_community)
    community_polys = np.array([shapely.union_all(polygons[community == k]) for k in range(len(groups))])

    roads, kinds = _main_roads(h, v, cell)
    return Division(
        grids=polygons, grid_community=community, grid_seq=np.concatenate(grid_seq), grid_cell=cell,
        communities=community_polys, street=shapely.union_all(community_polys),
        roads=roads, road_kind=kinds, road_parent=np.full(len(roads), -1), h=h, v=v,
    )


def _main_roads(h: np.ndarray, v: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One road along each lattice line, over the stretch where it borders a cell."""
    lines, kinds = [], []
    present = {(int(c), int(r)) for c, r in cells}
    for r in range(h.shape[1]):
        cs = sorted(c for c in range(h.shape[0]) if (c, r) in present or (c, r - 1) in present)
        if cs:
            pts = np.concatenate([h[c, r][:3] for c in cs] + [h[cs[-1], r][3:]])
            lines.append(shapely.linestrings(pts))
            kinds.append("ew")
    for c in range(v.shape[0]):
        rs = sorted(r for r in range(v.shape[1]) if (c, r) in present or (c - 1, r) in present)
        if rs:
            pts = np.concatenate([v[c, r][:3] for r in rs] + [v[c, rs[-1]][3:]])
            lines.append(shapely.linestrings(pts))
            kinds.append("ns")
    return np.array(lines, dtype=object), np.array(kinds)


def add_lanes(rng: np.random.Generator, division: Division, share: float, excluded: np.ndarray) -> None:
    """Lanes (巷) across a share of the grids (not those in ``excluded``), from an inner point of one
    side to the facing side, so that they meet the main roads at a shared vertex (an intersection)."""
    d = division
    candidates = np.setdiff1d(np.arange(len(d.grids)), excluded)
    n = min(len(candidates), round(len(d.grids) * share))
    if n == 0:
        return
    chosen = np.sort(rng.choice(candidates, n, replace=False))
    c, r = d.grid_cell[chosen, 0], d.grid_cell[chosen, 1]
    ns = rng.random(n) < 0.5
    k = rng.integers(1, 3, n)  # which inner point of the side
    start = np.where(ns[:, None], d.h[c, r, k], d.v[c, r, k])
    end = np.where(ns[:, None], d.h[c, r + 1, k], d.v[c + 1, r, k])
    middle = (start + end) / 2 + rng.normal(0, 8, (n, 2))
    lanes = shapely.linestrings(np.stack([start, middle, end], axis=1))
    # A lane is named after the main road it leaves: east-west road r, or north-south road c
    # (main roads were made one per lattice line, east-west ones first, all lines present).
    ew, ns_roads = np.flatnonzero(d.road_kind == "ew"), np.flatnonzero(d.road_kind == "ns")
    parent = np.where(ns, ew[r], ns_roads[c])
    d.roads = np.concatenate([d.roads, lanes])
    d.road_kind = np.concatenate([d.road_kind, np.full(n, "lane")])
    d.road_parent = np.concatenate([d.road_parent, parent])


def rotated_rectangles(centre: np.ndarray, width: np.ndarray, height: np.ndarray,
                        angle: np.ndarray) -> np.ndarray:
    """Rectangles (n) as polygons: centred, w×h metres, turned by ``angle`` radians."""
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    local = corners[None, :, :] * np.stack([width, height], axis=1)[:, None, :]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = local[..., 0] * cos - local[..., 1] * sin + centre[:, None, 0]
    y = local[..., 0] * sin + local[..., 1] * cos + centre[:, None, 1]
    return shapely.polygons(np.stack([x, y], axis=-1))
