"""Benchmark: the overdue-visit list (未按期走访) of a 5,000-household community, on a throwaway cluster.

Five communities of 5,000 households each (20 grids), ~2.5 persons per household (1 in 60 a key person,
1 in 40 elderly living alone, 1 in 30 poor) and ~4 visits per household over the past 120 days. The
list runs as the service role acting for the community's admin (row-level security on), as the API
runs it. Prints the median of the runs and its ratio to the 300 ms target (issue 14).

    .venv/bin/python benchmarks/bench_visits.py [--households 5000] [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg
from _harness import migrated_database, throwaway_cluster

from gis.access import accounts
from gis.visits.overdue import figures, overdue
from gis.visits.record import today

TARGET_MS = 300.0
X0, Y0, SIDE = 112.90, 28.10, 0.05


def load(conn: psycopg.Connection, per_community: int) -> str:
    for c in range(5):
        code = f"430102001{c + 1:03d}"
        x = X0 + c * SIDE
        conn.execute("INSERT INTO community (code, name, geom) VALUES (%s, %s,"
                     " ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
                     [code, f"c{c}", x, Y0, x + SIDE, Y0 + SIDE])
        conn.execute(
            "INSERT INTO grid (code, community_code, name, geom)"
            " SELECT %(c)s || lpad((i * 4 + j + 1)::text, 3, '0'), %(c)s, 'g' || (i * 4 + j + 1),"
            "        ST_Multi(ST_MakeEnvelope(%(x)s + i * %(w)s, %(y)s + j * %(h)s,"
            "                                 %(x)s + (i + 1) * %(w)s, %(y)s + (j + 1) * %(h)s, 4326))"
            " FROM generate_series(0, 4) i, generate_series(0, 3) j",
            {"c": code, "x": x, "y": Y0, "w": SIDE / 5, "h": SIDE / 4})
        conn.execute(
            "INSERT INTO household (address, grid_code, placement, geom)"
            " SELECT 'road ' || n, %(c)s || lpad((n %% 20 + 1)::text, 3, '0'), 'inside',"
            "        ST_Point(%(x)s + random() * %(s)s, %(y)s + random() * %(s)s, 4326)"
            " FROM generate_series(1, %(n)s) n", {"c": code, "x": x, "y": Y0, "s": SIDE, "n": per_community})
    conn.execute("INSERT INTO person (household_id, name, elderly_alone, poverty)"
                 " SELECT h.id, 'p' || k, (h.id + k) % 40 = 0,"
                 "        CASE WHEN (h.id * 7 + k) % 30 = 0 THEN 'dibao' END"
                 " FROM household h, generate_series(1, 2) k")
    conn.execute("INSERT INTO person (household_id, name) SELECT id, 'third' FROM household"
                 " WHERE id % 2 = 0")
    conn.execute("INSERT INTO key_person (person_id, category) SELECT id, 'petitioner' FROM person"
                 " WHERE id % 60 = 0")
    accounts.create_user(conn, "bench-admin", "bench-password-1")
    accounts.grant(conn, "bench-admin", "admin", "430102001001")
    uid = accounts.user_id(conn, "bench-admin")
    conn.execute("SELECT set_config('gridmap.user_id', %s, true)", [str(uid)])
    conn.execute(
        "INSERT INTO visit (household_id, county, visited_at, kind, outcome, position, position_crs,"
        "                   distance_m, far_limit_m, far, client_id)"
        " SELECT h.id, '430102', now() - (random() * 120) * interval '1 day', 'routine',"
        "        CASE WHEN random() < 0.1 THEN 'not_home' ELSE 'met' END, h.geom, 'EPSG:4326', 0, 100, false,"
        "        'bench-' || h.id || '-' || k"
        " FROM household h, generate_series(1, 4) k WHERE random() < 0.9")
    conn.execute("ANALYZE")
    return "430102001001"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=5000, help="households per community")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with throwaway_cluster() as cluster:
        url = migrated_database(cluster)
        with psycopg.connect(url) as conn:
            community = load(conn, args.households)
            conn.commit()
            admin = accounts.Principal(accounts.user_id(conn, "bench-admin"), "bench-admin",
                                       (accounts.Grant("admin", community),))
            times, figure_times, rows = [], [], []
            for _ in range(args.runs):
                with conn.transaction():
                    accounts.act_as(conn, admin)
                    started = time.perf_counter()
                    rows = overdue(conn, community=community)
                    times.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    result = figures(conn, community=community, start=today().replace(day=1), end=today())
                    figure_times.append((time.perf_counter() - started) * 1000)
                    conn.execute("RESET ROLE")
            assert result["total"]["overdue"] == len(rows)
            median = statistics.median(times)
            print(f"overdue list of a {args.households:,}-household community (5 communities loaded, "
                  f"{len(rows):,} overdue, as its admin with row-level security): median {median:.1f} ms "
                  f"over {args.runs} runs = {median / TARGET_MS:.2f} x the {TARGET_MS:.0f} ms target")
            print(f"figures per grid and worker of the same community: median "
                  f"{statistics.median(figure_times):.1f} ms")


if __name__ == "__main__":
    main()
