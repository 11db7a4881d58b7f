"""Benchmark: what row-level security costs, on a throwaway cluster.

10 communities x 20 grids, N households (default 100,000) with ~2.5 persons each, 1 in 61 a key
person. The same queries run as the owner (no RLS) and as the service role acting for an admin of
everything, an admin of one community (20 grids) and a grid worker (1 grid). Prints medians (ms).

    .venv/bin/python benchmarks/bench_rls.py [--households 100000] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import psycopg
from _harness import migrated_database, throwaway_cluster

from gis.access import accounts

X0, Y0, SIDE = 112.90, 28.10, 0.05
QUERIES = {
    "count persons, no filter": "SELECT count(*) FROM person",
    "households of one grid": "SELECT id, address FROM household WHERE grid_code = %(grid)s",
    "persons page of one grid": "SELECT p.id, p.name FROM person p JOIN household h ON h.id = p.household_id"
                                " WHERE h.grid_code = %(grid)s ORDER BY p.id LIMIT 100",
    "key persons, no filter": "SELECT count(*) FROM key_person",
    "counts per grid": "SELECT h.grid_code, count(*) FROM household h JOIN person p ON p.household_id = h.id"
                       " GROUP BY h.grid_code",
}


def load(conn: psycopg.Connection, n: int) -> str:
    for c in range(10):
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
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(X0, X0 + 10 * SIDE, n), rng.uniform(Y0, Y0 + SIDE, n)
    with conn.cursor().copy("COPY household (address, geom) FROM STDIN") as copy:
        for i in range(n):
            copy.write_row((f"路{i}号", f"SRID=4326;POINT({lon[i]} {lat[i]})"))
    conn.execute("UPDATE household h SET grid_code = p.grid_code, placement = p.placement FROM"
                 " (SELECT x.id, g.* FROM household x CROSS JOIN LATERAL grid_for_point(x.geom) g) p"
                 " WHERE p.id = h.id")
    conn.execute("INSERT INTO person (household_id, name) SELECT h.id, '居民' FROM household h,"
                 " generate_series(1, 1 + (h.id % 4)) k")
    conn.execute("INSERT INTO key_person (person_id, category) SELECT id, 'petitioner' FROM person"
                 " WHERE id % 61 = 0")
    for name, role, scope in [("all-admin", "admin", ""), ("community-admin", "admin", "430102001003"),
                              ("worker", "grid_worker", "430102001003007")]:
        accounts.create_user(conn, name, "benchmark password")
        accounts.grant(conn, name, role, scope)
    conn.execute("ANALYZE")
    conn.commit()
    return "430102001003007"


def median_ms(conn: psycopg.Connection, query: str, params: dict, runs: int) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        rows = len(conn.execute(query, params).fetchall())  # type: ignore[arg-type]
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), rows


def audit_overhead(conn: psycopg.Connection, runs: int) -> None:
    """One INSERT ... SELECT of a person per household, with and without the audit trigger."""
    insert = "INSERT INTO person (household_id, name) SELECT id, 'x' FROM household"
    result = {}
    for label, disable in (("with audit trigger", False), ("without", True)):
        times = []
        for _ in range(runs):
            with conn.transaction(force_rollback=True):
                if disable:
                    conn.execute("ALTER TABLE person DISABLE TRIGGER person_audit_insert")
                t = time.perf_counter()
                conn.execute(insert)
                times.append((time.perf_counter() - t) * 1000)
        result[label] = statistics.median(times)
    n = conn.execute("SELECT count(*) FROM household").fetchone()[0]
    print(f"insert {n} persons in one statement: " + ", ".join(f"{k} {v:.0f} ms" for k, v in result.items())
          + f" (x{result['with audit trigger'] / result['without']:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--explain", help="print the worker's plan of this query (a label above)")
    args = parser.parse_args()
    with throwaway_cluster("gridmap-bench-rls-") as cluster:
        with psycopg.connect(migrated_database(cluster)) as conn:
            t = time.perf_counter()
            grid = load(conn, args.households)
            persons = conn.execute("SELECT count(*) FROM person").fetchone()[0]
            took = time.perf_counter() - t
            print(f"loaded {args.households} households, {persons} persons in {took:.1f} s")
            users = {name: accounts.Principal(accounts.user_id(conn, name), name, ()) for name in
                     ("all-admin", "community-admin", "worker")}
            print(f"{'query':28s} {'owner (no RLS)':>16s} " + " ".join(f"{u:>17s}" for u in users))
            for label, query in QUERIES.items():
                base, base_rows = median_ms(conn, query, {"grid": grid}, args.runs)
                cells = [f"{base:8.2f} ms {base_rows:5d}r"]
                for principal in users.values():
                    with conn.transaction():
                        accounts.act_as(conn, principal)
                        ms, rows = median_ms(conn, query, {"grid": grid}, args.runs)
                        conn.execute("RESET ROLE")
                    cells.append(f"{ms:8.2f} ms {rows:5d}r")
                print(f"{label:28s} " + " ".join(f"{c:>17s}" for c in cells))
            audit_overhead(conn, args.runs)
            if args.explain:
                with conn.transaction(force_rollback=True):
                    accounts.act_as(conn, users["worker"])
                    plan = conn.execute("EXPLAIN (ANALYZE, COSTS OFF) " + QUERIES[args.explain],
                                        {"grid": grid})
                    print("\n".join(r[0] for r in plan))


if __name__ == "__main__":
    main()
