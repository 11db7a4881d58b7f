"""Benchmark of the road sections (not collected by pytest): cutting 5,000 roads at their intersections
(< 10 s) and the coverage report over 50,000 sections (< 1 s), on a throwaway cluster.

    .venv/bin/python benchmarks/bench_roads.py            # 5,000 roads, 50,000 sections
    .venv/bin/python benchmarks/bench_roads.py --roads 800 --runs 1   # a quick dev run

The district is a street lattice 150 m apart; every line is broken into roads of four blocks whose ends
fall between crossings, so each road is crossed four times. Nine communities of four grids each
cover it. Figures are medians of --runs runs (coverage: at least 5); each cut run starts from the uncut
roads. The coverage line gives the median and its ratio to the 1 s target.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import psycopg
from _harness import migrated_database, throwaway_cluster

from gis.roads.coverage import community_coverage, coverage, overlapping_sections
from gis.roads.cutting import cut_roads

LON0, LAT0 = 112.90, 28.10
SPACING_M = 150.0
BLOCKS_PER_ROAD = 4
COVERAGE_TARGET_S = 1.0


def lattice(conn: psycopg.Connection, roads: int) -> float:
    """COPY ``roads`` roads (half west-east, half south-north) into road; returns the district side, m."""
    per_line = max(1, round(math.sqrt(roads / 8)))  # a square: lines x 150 m = per_line x 600 m
    lines = max(2, math.ceil(roads / 2 / per_line))
    side = lines * SPACING_M
    dlat = 1 / 111_320
    dlon = 1 / (111_320 * math.cos(math.radians(LAT0)))
    length = BLOCKS_PER_ROAD * SPACING_M
    rows = []
    for axis in ("EW", "NS"):
        for i in range(lines):
            for j in range(per_line):
                if len(rows) >= roads:
                    break
                across = (i + 0.5) * SPACING_M
                a, b = j * length, (j + 1) * length  # ends halfway between two crossings
                if axis == "EW":
                    wkt = (f"LINESTRING({LON0 + a * dlon} {LAT0 + across * dlat},"
                           f"{LON0 + b * dlon} {LAT0 + across * dlat})")
                else:
                    wkt = (f"LINESTRING({LON0 + across * dlon} {LAT0 + a * dlat},"
                           f"{LON0 + across * dlon} {LAT0 + b * dlat})")
                name = f"{'东西' if axis == 'EW' else '南北'}{i}路"
                rows.append((f"{axis}{i:03d}{j}", name, f"SRID=4326;{wkt}"))
    with conn.cursor().copy("COPY road (ref, name, geom) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.execute("ANALYZE road")
    return max(side, per_line * length)


def division(conn: psycopg.Connection, side_m: float) -> None:
    """3 x 3 communities of 2 x 2 grids over the district, in one INSERT each."""
    dlat = side_m / 111_320 / 6
    dlon = side_m / (111_320 * math.cos(math.radians(LAT0))) / 6
    conn.execute(
        """INSERT INTO community (code, name, street_name, geom)
           SELECT '430102' || lpad((1 + c / 3)::text, 3, '0') || lpad((1 + mod(c, 3))::text, 3, '0'),
                  '社区' || c, '街道' || (c / 3),
                  ST_Multi(ST_MakeEnvelope(
                      %(x)s + mod(c, 3) * 2 * %(dx)s, %(y)s + (c / 3) * 2 * %(dy)s,
                      %(x)s + (mod(c, 3) + 1) * 2 * %(dx)s, %(y)s + (c / 3 + 1) * 2 * %(dy)s, 4326))
           FROM generate_series(0, 8) c""", {"x": LON0 - 0.001, "y": LAT0 - 0.001, "dx": dlon, "dy": dlat})
    conn.execute(
        """INSERT INTO grid (code, community_code, name, geom)
           SELECT c.code || lpad((1 + q)::text, 3, '0'), c.code, '网格' || q,
                  ST_Multi(ST_MakeEnvelope(
                      ST_XMin(c.geom) + mod(q, 2) * %(dx)s, ST_YMin(c.geom) + (q / 2) * %(dy)s,
                      ST_XMin(c.geom) + (mod(q, 2) + 1) * %(dx)s,
                      ST_YMin(c.geom) + (q / 2 + 1) * %(dy)s, 4326))
           FROM community c, generate_series(0, 3) q""", {"dx": dlon, "dy": dlat})
    conn.execute("ANALYZE community; ANALYZE grid")


def assign_most(conn: psycopg.Connection, units: int = 200, share: float = 0.85) -> None:
    """``units`` units, each holding a random ``share`` of the sections from 2026-01-01 (one INSERT)."""
    conn.execute("INSERT INTO responsible_unit (name, kind) SELECT '单位' || i, 'enterprise' "
                 "FROM generate_series(1, %s) i", [units])
    conn.execute(
        """INSERT INTO road_section_assignment (section_id, unit_id, valid)
           SELECT s.id, (SELECT min(id) FROM responsible_unit) + (s.id %% %s), daterange('2026-01-01', NULL)
           FROM road_section s WHERE s.retired_on IS NULL AND random() < %s""", [units, share])
    conn.execute("ANALYZE road_section; ANALYZE road_section_assignment")


def max_length_for(conn: psycopg.Connection, sections: int) -> float:
    """The max length that cuts the live sections into about ``sections`` pieces (bisection)."""
    low, high = 10.0, 10_000.0
    for _ in range(30):
        mid = (low + high) / 2
        n = conn.execute("SELECT sum(greatest(1, ceil(length_m / %s))) FROM road_section "
                         "WHERE retired_on IS NULL", [mid]).fetchone()[0]
        low, high = (mid, high) if n > sections else (low, mid)
    return high


def timed(action) -> float:  # noqa: ANN001 - a zero-argument callable
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roads", type=int, default=5000)
    parser.add_argument("--sections", type=int, default=50_000, help="target for the coverage run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with throwaway_cluster("gridmap-bench-roads-") as cluster:
        with psycopg.connect(migrated_database(cluster)) as conn:
            conn.execute("SET jit = off")
            side = lattice(conn, args.roads)
            division(conn, side)
            conn.commit()
            n_roads = conn.execute("SELECT count(*) FROM road").fetchone()[0]
            print(f"district: {n_roads} roads, {side / 1000:.1f} km across, 9 communities, 36 grids")

            cut_times = []
            for run in range(args.runs):
                conn.execute("TRUNCATE road_section, road_section_assignment")
                conn.commit()
                cut_times.append(timed(lambda: cut_roads(conn, "intersections")))
                conn.commit()
                made = conn.execute("SELECT count(*) FROM road_section").fetchone()[0]
                print(f"  cut run {run + 1}: {cut_times[-1]:.2f} s -> {made} sections")
            print(f"CUT {n_roads} roads at intersections: median {statistics.median(cut_times):.2f} s "
                  f"(target < 10 s) -> {made} sections")

            # grow to the target number of sections by cutting at a maximum length (also timed)
            max_len = max_length_for(conn, args.sections)
            t = timed(lambda: cut_roads(conn, "max_length", max_length_m=max_len))
            conn.commit()
            n = conn.execute("SELECT count(*) FROM road_section WHERE retired_on IS NULL").fetchone()[0]
            print(f"  cut at max length {max_len:.1f} m: {t:.2f} s -> {n} sections")
            assign_most(conn)
            conn.commit()
            cov_times = [timed(lambda: coverage(conn, None)) for _ in range(max(args.runs, 5))]
            report = coverage(conn, None)
            total = report["total"]
            median = statistics.median(cov_times)
            print(f"COVERAGE of {total['sections']} sections ({total['total_m'] / 1000:.0f} km, "
                  f"{total['assigned_pct']}% assigned, {len(report['grid'])} grid rows): "
                  f"median {median * 1000:.0f} ms of {len(cov_times)} runs = "
                  f"{median / COVERAGE_TARGET_S:.2f} x the {COVERAGE_TARGET_S:.0f} s target "
                  f"({'met' if median < COVERAGE_TARGET_S else 'MISSED'})")
            # the roads map of one community: its row and the sections it counts, near it only
            community = report["community"][0]["key"]
            one = [timed(lambda: community_coverage(conn, None, community)) for _ in range(max(args.runs, 5))]
            print(f"COVERAGE of community {community} (the roads map's figure and sections): "
                  f"median {statistics.median(one) * 1000:.0f} ms")
            overlap_times = [timed(lambda: overlapping_sections(conn)) for _ in range(args.runs)]
            pairs = len(overlapping_sections(conn))
            print(f"OVERLAPS among {total['sections']} sections: median "
                  f"{statistics.median(overlap_times) * 1000:.0f} ms ({pairs} pairs)")


if __name__ == "__main__":
    main()
