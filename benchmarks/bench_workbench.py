"""Benchmark: the server-side render time of the grid worker's home page (工作台首页) on the demo
street (the default generate_street: 6 communities, 60 grids, 20,000 households, 50,000 persons).

A throwaway cluster holds the street and a grid worker of its first grid and an admin of everything.
Each home page is fetched through the whole app (TestClient: policy, RLS, statistics, templates),
signed in with the login cookie as a browser is. Prints the median and the 90th percentile (target:
the grid worker's page under 300 ms).

    .venv/bin/python benchmarks/bench_workbench.py [--runs 21] [--households 20000] [--persons 50000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

import psycopg
from _harness import migrated_database, throwaway_cluster
from fastapi.testclient import TestClient

from api.app import create_app
from gis.access import accounts
from gis.demo.street import generate_street, load_demo
from gis.settings import Settings

PASSWORD = "bench workbench password"


def timed(client: TestClient, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get("/")
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text[:300]
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--persons", type=int, default=50_000)
    args = parser.parse_args()
    with throwaway_cluster() as cluster:
        url = migrated_database(cluster)
        settings = Settings(database_url=url, data_dir=cluster.root / "data", _env_file=None)
        street = generate_street(households=args.households, persons=args.persons)
        grid = str(street.grids["code"].iloc[0])
        tokens = {}
        with psycopg.connect(url) as conn:
            load_demo(conn, street)
            for name, role, scope in (("worker", "grid_worker", grid), ("admin", "admin", "")):
                accounts.create_user(conn, f"bench-{name}", PASSWORD)
                accounts.grant(conn, f"bench-{name}", role, scope)
                tokens[name], _ = accounts.issue_token(conn, f"bench-{name}", PASSWORD, settings.secret_key,
                                                       timedelta(hours=1))
            conn.execute("ANALYZE")
            conn.commit()
        print(f"demo street: {len(street.grids)} grids, {args.households} households, {args.persons} persons")
        with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
            for name in ("worker", "admin"):
                client.cookies.set("gridmap_token", tokens[name])
                client.get("/")  # warm: templates compiled, pool connections open
                median, p90 = timed(client, args.runs)
                print(f"home page of the {name:6}: median {median:.1f} ms, p90 {p90:.1f} ms "
                      f"({args.runs} runs)" + ("  (target < 300 ms)" if name == "worker" else ""))


if __name__ == "__main__":
    main()
