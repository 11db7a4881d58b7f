"""Benchmark: importing households with grid assignment against a bare COPY of the same rows.

    .venv/bin/python benchmarks/bench_import.py --households 1000000 --grids 2000

Runs on its own throwaway cluster and database (never the demo one). Builds a 40x50 tiling of grids
(500 per community, as a community has at most 999 grid sequence numbers) and random household
points (a few outside the division, 1 % exactly on grid lines), then times, 3 runs each, medians:

  (a) a bare binary COPY of the same rows (EWKB geometry, no grid assignment) into ``household``
      with its indexes, truncated between runs;
  (b) the full import, ``load_frame``: validation, COPY into staging, the checks and one
      INSERT ... SELECT ... CROSS JOIN LATERAL grid_for_point(geom).

Target: b < 60 s and b / a <= 2.0 at 1M households and 2,000 grids.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import psycopg
import shapely
from _harness import migrated_database, throwaway_cluster

from gis.catalog import load_frame

WEST, SOUTH = 113.0, 25.75
CELL_LON, CELL_LAT = 0.002, 0.0018  # about 200 m x 200 m
COLUMNS_PER_COMMUNITY = 10


def division(grids: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, tuple[float, float, float, float]]:
    """Communities of 10 x ROWS grids, side by side; returns (communities, grids, extent)."""
    cols = 40 if grids % 40 == 0 else max(1, grids // 50)
    rows = grids // cols
    i, j = np.meshgrid(np.arange(cols), np.arange(rows), indexing="ij")
    i, j = i.ravel(), j.ravel()
    community = i // COLUMNS_PER_COMMUNITY
    seq = (i % COLUMNS_PER_COMMUNITY) * rows + j + 1
    if seq.max() > 999:
        raise SystemExit("too many grids per community: use a multiple of 40 grids, at most 40 x 99")
    codes = [f"431002001{c + 1:03d}{s:03d}" for c, s in zip(community, seq, strict=True)]
    boxes = shapely.box(WEST + i * CELL_LON, SOUTH + j * CELL_LAT, WEST + (i + 1) * CELL_LON,
                        SOUTH + (j + 1) * CELL_LAT)
    names = [f"网格{c}" for c in codes]
    grid_frame = gpd.GeoDataFrame({"code": codes, "name": names}, geometry=boxes, crs=4326)
    n_comm = community.max() + 1
    comm_boxes = [shapely.box(WEST + c * COLUMNS_PER_COMMUNITY * CELL_LON, SOUTH,
                              WEST + min((c + 1) * COLUMNS_PER_COMMUNITY, cols) * CELL_LON,
                              SOUTH + rows * CELL_LAT) for c in range(n_comm)]
    attributes = {"code": [f"431002001{c + 1:03d}" for c in range(n_comm)],
                  "name": [f"社区{c + 1}" for c in range(n_comm)]}
    comm_frame = gpd.GeoDataFrame(attributes, geometry=comm_boxes, crs=4326)
    return comm_frame, grid_frame, (WEST, SOUTH, WEST + cols * CELL_LON, SOUTH + rows * CELL_LAT)


def households(n: int, extent: tuple[float, float, float, float], seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = extent
    pad_x, pad_y = (x1 - x0) * 0.02, (y1 - y0) * 0.02  # a margin outside the division
    lon = rng.uniform(x0 - pad_x, x1 + pad_x, n)
    lat = rng.uniform(y0 - pad_y, y1 + pad_y, n)
    on_line = rng.random(n) < 0.01  # snapped onto a vertical grid line: a border household
    lon[on_line] = x0 + np.round((lon[on_line] - x0) / CELL_LON) * CELL_LON
    ids = np.arange(1, n + 1).astype(str)
    return gpd.GeoDataFrame({
        "ref": np.char.add("h", ids),
        "address": np.char.add(np.char.add("人民路", ids), "号"),
        "building": (np.arange(n) % 30 + 1).astype(str),
        "unit": (np.arange(n) % 4 + 1).astype(str),
        "room": (np.arange(n) % 600 + 101).astype(str),
    }, geometry=shapely.points(lon, lat), crs=4326)


def bare_copy(conn: psycopg.Connection, frame: gpd.GeoDataFrame) -> None:
    """(a): binary COPY of the same rows straight into household (no validation, no placement)."""
    wkb = shapely.to_wkb(shapely.set_srid(frame.geometry.to_numpy(), 4326), include_srid=True)
    columns = [frame[c].to_numpy(dtype=object) for c in ("ref", "address", "building", "unit", "room")]
    with conn.cursor() as cur, cur.copy(
            "COPY household (ref, address, building, unit, room, geom) FROM STDIN (FORMAT BINARY)") as copy:
        # bytea's binary form is the raw bytes, which is exactly what geometry_recv reads (EWKB)
        copy.set_types(["text", "text", "text", "text", "text", "bytea"])
        for row in zip(*columns, wkb, strict=True):
            copy.write_row(row)
    conn.commit()


def full_import(conn: psycopg.Connection, frame: gpd.GeoDataFrame) -> dict[str, int]:
    """(b): the import path, validation and grid placement included."""
    report = load_frame(conn, "households", frame)
    conn.commit()
    return report.placements


def timed(label: str, runs: int, conn: psycopg.Connection,
          work: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for run in range(runs):
        conn.execute("TRUNCATE household RESTART IDENTITY CASCADE")
        conn.commit()
        conn.execute("CHECKPOINT")  # each run starts from the same clean state
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
        print(f"  {label} run {run + 1}: {times[-1]:.2f} s", flush=True)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--grids", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the placement insert once")
    args = parser.parse_args()

    with throwaway_cluster() as cluster:
        with psycopg.connect(migrated_database(cluster, "bench")) as conn:
            conn.execute("SET jit = off")
            communities, grids, extent = division(args.grids)
            load_frame(conn, "communities", communities)
            load_frame(conn, "grids", grids)
            conn.commit()
            print(f"{len(grids)} grids in {len(communities)} communities; generating {args.households:,} "
                  "households", flush=True)
            frame = households(args.households, extent, args.seed)
            a, _ = timed("(a) bare COPY", args.runs, conn, lambda: bare_copy(conn, frame))
            b, placements = timed("(b) import  ", args.runs, conn, lambda: full_import(conn, frame))
            if args.explain:
                explain(conn, frame)
        print(f"\nhouseholds {args.households:,}, grids {len(grids):,}, medians of {args.runs} runs")
        print(f"(a) bare binary COPY into household: {a:.2f} s")
        print(f"(b) import with validation + grid placement: {b:.2f} s")
        print(f"ratio b/a = {b / a:.2f}  (target <= 2.0; b target < 60 s)")
        print(f"placements: {placements}")


def explain(conn: psycopg.Connection, frame: gpd.GeoDataFrame) -> None:
    """EXPLAIN ANALYZE of the staging -> household insert, to see where (b) spends its time."""
    from gis.register.specs import HOUSEHOLDS

    conn.execute("TRUNCATE household RESTART IDENTITY CASCADE")
    conn.commit()
    # Stage the rows as the import does, but keep them instead of inserting them.
    keep = dataclasses.replace(HOUSEHOLDS, reports_placement=False,
                               insert_sql="CREATE TABLE bench_staging AS SELECT * FROM staging")
    load_frame(conn, keep, frame)
    conn.execute("CREATE TEMP TABLE staging AS SELECT * FROM bench_staging")
    conn.execute("CREATE INDEX ON staging USING gist (geom)")
    conn.execute("ANALYZE staging")
    plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + HOUSEHOLDS.insert_sql).fetchall()
    print("\n".join(r[0] for r in plan))
    conn.rollback()


if __name__ == "__main__":
    main()
