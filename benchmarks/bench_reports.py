"""Benchmark of report routing (分拨, issue 14), on a throwaway cluster: 10,000 reports routed in one
statement (target < 1 s), beside a baseline measured in the same run (one statement per report, as a
naive filing loop would route them, timed on the first 1,000 and scaled to 10,000), and the 500
reports of known owners (tests/reports/truth.py) routed right.

The street is the demo's (gis.demo: 6 communities, 60 grids, its roads), its roads cut at their
intersections into sections, every live section held by one of 200 units until CHANGE and by another
from CHANGE on. Sightings: 80 % within 0-40 m of a random point of a random section (street matters
then mostly go to a unit), 20 % anywhere in the street's bounding box grown by 10 % (some outside
every community); the category drawn from all 15, the day from the week around CHANGE.

    .venv/bin/python benchmarks/bench_reports.py [--reports 10000] [--baseline 1000] [--runs 5]
        [--sql FILE]   # also a candidate replacement of report_owners() (a migration under review)

The machine's load average is printed with the figures: on a shared machine they vary with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import psycopg
from _harness import migrated_database, throwaway_cluster

from gis.demo.street import generate_street, load_demo
from gis.reports.routing import Sighting, owners
from gis.roads.cutting import cut_roads
from tests.reports import truth

TARGET_S = 1.0
T = TypeVar("T")
UNITS = 200
CHANGE = truth.CHANGE


def prepare(conn: psycopg.Connection) -> None:
    """The demo street with cut roads and two assignments per section (before and from CHANGE)."""
    load_demo(conn, generate_street(households=2000, persons=5000))
    cut_roads(conn, "intersections")
    conn.execute("INSERT INTO responsible_unit (name)"
                 " SELECT 'bench unit ' || i FROM generate_series(1, %s) i", [UNITS])
    conn.execute(
        "WITH u AS (SELECT array_agg(id ORDER BY id) a FROM responsible_unit"
        "           WHERE name LIKE 'bench unit %%'),"
        " s AS (SELECT id, row_number() OVER (ORDER BY id) n FROM road_section WHERE retired_on IS NULL)"
        " INSERT INTO road_section_assignment (section_id, unit_id, valid)"
        " SELECT s.id, u.a[1 + (s.n + k) %% %s], CASE k WHEN 0 THEN daterange(%s - 365, %s)"
        "                                              ELSE daterange(%s, NULL) END"
        " FROM s, u, generate_series(0, 1) k",
        [UNITS, CHANGE, CHANGE, CHANGE])
    conn.execute("ANALYZE")


def sightings(conn: psycopg.Connection, n: int, seed: int = 14) -> list[Sighting]:
    rng = np.random.default_rng(seed)
    near = int(n * 0.8)
    conn.execute("SELECT setseed(0.14)")
    on_road = np.array(conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(geom, random()) p"
        " FROM road_section, generate_series(1, 1 + %s / (SELECT count(*) FROM road_section)::int)"
        " WHERE retired_on IS NULL ORDER BY random() LIMIT %s) q", [near, near]).fetchall())
    # 0-40 m in a random direction (a degree of latitude ~ 111 km; of longitude cos(lat) of it)
    r, a = rng.uniform(0, 40, near), rng.uniform(0, 2 * np.pi, near)
    lat0 = on_road[:, 1].mean()
    lon = on_road[:, 0] + r * np.cos(a) / (111_320 * np.cos(np.radians(lat0)))
    lat = on_road[:, 1] + r * np.sin(a) / 110_900
    x0, y0, x1, y1 = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
                                  " FROM (SELECT ST_Extent(geom) e FROM community) q").fetchone()
    dx, dy = (x1 - x0) * 0.05, (y1 - y0) * 0.05
    lon = np.concatenate([lon, rng.uniform(x0 - dx, x1 + dx, n - near)])
    lat = np.concatenate([lat, rng.uniform(y0 - dy, y1 + dy, n - near)])
    codes = [c for (c,) in conn.execute("SELECT code FROM report_category ORDER BY code")]
    category = rng.choice(codes, n)
    day = rng.integers(-3, 4, n)
    return [Sighting(i, float(lon[i]), float(lat[i]), str(category[i]), CHANGE + timedelta(days=int(day[i])))
            for i in range(n)]


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def routed(conn: psycopg.Connection, batch: list[Sighting], runs: int) -> tuple[float, list[dict[str, Any]]]:
    """The median time of routing the whole batch in one statement, and its rows."""
    owners(conn, batch[:100])  # warm the caches
    times = [timed(lambda: owners(conn, batch)) for _ in range(runs)]
    rows = times[0][1]
    assert len(rows) == len(batch)
    return statistics.median(t for t, _ in times), rows


def right(conn: psycopg.Connection) -> str:
    w = truth.build(conn)
    wrong = truth.wrong_owners(w, owners(conn, truth.sightings(w)))
    for line in wrong[:20]:
        print("  wrong:", line)
    return f"{len(w.cases) - len(wrong)}/{len(w.cases)} right"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1000, help="reports routed one statement each")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sql", type=Path, help="a candidate report_owners(), measured after the migrated")
    args = parser.parse_args()
    with throwaway_cluster() as cluster:
        url = migrated_database(cluster)
        with psycopg.connect(url) as conn:
            prepare(conn)
            conn.commit()
            sections = conn.execute("SELECT count(*) FROM road_section"
                                    " WHERE retired_on IS NULL").fetchone()[0]
            batch = sightings(conn, args.reports)
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
                  f"{args.reports:,} reports, {sections:,} live sections, 60 grids")
            set_based, rows = routed(conn, batch, args.runs)
            kinds: dict[str, int] = {}
            for r in rows:
                kinds[r["owner_kind"]] = kinds.get(r["owner_kind"], 0) + 1
            subset = batch[:args.baseline]
            loops = [timed(lambda: [owners(conn, [s])[0] for s in subset])
                     for _ in range(max(1, args.runs // 2))]
            per_report = statistics.median(t for t, _ in loops)
            same = {r["id"]: r["owner_kind"] for r in loops[0][1]} == {
                r["id"]: r["owner_kind"] for r in rows if r["id"] < args.baseline}
            scaled = per_report * args.reports / args.baseline
            print(f"routing in one statement (report_owners() as migrated): median {set_based * 1000:.0f} ms "
                  f"of {args.runs} runs ({set_based / TARGET_S:.2f} x the {TARGET_S:.0f} s target); "
                  f"owners {kinds}")
            print(f"baseline, one statement per report: {args.baseline:,} in {per_report * 1000:.0f} ms "
                  f"(median of {len(loops)}), scaled to {args.reports:,}: {scaled * 1000:.0f} ms; "
                  f"set-based is {scaled / set_based:.1f} x faster; same owners: {same}")
            print(f"reports of known owners (tests/reports/truth.py): {right(conn)}")
            conn.rollback()
            if args.sql:
                conn.execute(args.sql.read_text())
                candidate, again = routed(conn, batch, args.runs)
                key = sorted(tuple(map(str, r.values())) for r in rows)
                print(f"candidate report_owners() from {args.sql}: median {candidate * 1000:.0f} ms "
                      f"({candidate / TARGET_S:.2f} x the target, {set_based / candidate:.1f} x faster than "
                      f"as migrated, {scaled / candidate:.1f} x the baseline); same rows: "
                      f"{key == sorted(tuple(map(str, r.values())) for r in again)}; "
                      f"known owners: {right(conn)}")
                conn.rollback()


if __name__ == "__main__":
    main()
