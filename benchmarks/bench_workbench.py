"""Benchmark: the server-side render time of the workbench's pages (工作台) on the demo street (the
default generate_street: 6 communities, 60 grids, 20,000 households, 50,000 persons): the grid worker's
home page, a household page (住户: the household of her grid with the most members) and the admin's
home page.

A throwaway cluster holds the street and a grid worker of its first grid and an admin of everything.
Each page is fetched as a browser asks for it (``Accept: text/html``, signed in with the login cookie)
through the whole app (TestClient: policy, RLS, audit, statistics, templates). Prints the median and
the 90th percentile of each page and their ratio to the target of 300 ms.

    .venv/bin/python benchmarks/bench_workbench.py [--runs 21] [--households 20000] [--persons 50000]
        [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import time
from datetime import timedelta
from unittest import mock

import anyio.to_thread
import httpx
import psycopg
from _harness import migrated_database, throwaway_cluster
from fastapi.testclient import TestClient

from api.app import create_app
from gis.access import accounts
from gis.demo.street import generate_street, load_demo
from gis.settings import Settings

PASSWORD = "bench workbench password"
TARGET_MS = 300.0
HTML = {"accept": "text/html,application/xhtml+xml"}


def timed(client: TestClient, path: str, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(path, headers=HTML)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text[:300]
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def profile(client: TestClient, token: str, path: str, requests: int = 5, top: int = 30) -> None:
    """Where the time of ``path`` goes: cProfile of a few requests, the functions with the most
    cumulative time. The app's sync code normally runs in worker threads, out of cProfile's sight:
    here the requests are sent in this thread (httpx's ASGI transport) with anyio's thread hand-off
    made inline, so the whole request is profiled (the TestClient keeps the lifespan and pool open)."""
    async def inline(func, *args, **_kwargs):
        return func(*args)

    async def fetch() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app), base_url="http://127.0.0.1",
                                     cookies={"gridmap_token": token}) as c:
            for _ in range(requests):
                r = await c.get(path, headers=HTML)
                assert r.status_code == 200, r.text[:300]

    profiler = cProfile.Profile()
    with mock.patch.object(anyio.to_thread, "run_sync", inline):
        profiler.enable()
        asyncio.run(fetch())
        profiler.disable()
    out = io.StringIO()
    # the project's own functions and the database round trips (psycopg's execute waits for the server)
    wanted = (r"/(api|gis|layers)/|psycopg/(cursor|connection)\.py.*\((execute|fetch\w*)\)"
              r"|jinja2/environment.*render")
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(wanted, top)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--persons", type=int, default=50_000)
    parser.add_argument("--profile", action="store_true",
                        help="after each page's timing, where its time goes (cProfile, 5 requests)")
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
            # the household of her grid with the most members (counted as the owner, not through the app)
            largest = conn.execute(
                "SELECT h.id, count(p.id) FROM household h JOIN person p ON p.household_id = h.id "
                "WHERE h.grid_code = %s GROUP BY h.id ORDER BY count(p.id) DESC, h.id LIMIT 1",
                [grid]).fetchone()
            assert largest is not None, "the grid has no household"
            household, members = largest
            conn.execute("ANALYZE")
            conn.commit()
        print(f"demo street: {len(street.grids)} grids, {args.households} households, "
              f"{args.persons} persons; household {household} of grid {grid} has {members} members")
        pages = (("worker", "/", "grid worker's home page"),
                 ("worker", f"/households/{household}", "household page"),
                 ("admin", "/", "admin's home page"))
        with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
            for name, path, what in pages:
                client.cookies.set("gridmap_token", tokens[name])
                client.get(path, headers=HTML)  # warm: templates compiled, pool connections open
                median, p90 = timed(client, path, args.runs)
                print(f"{what:24} {path:20} median {median:6.1f} ms, p90 {p90:6.1f} ms ({args.runs} runs); "
                      f"median/target {median / TARGET_MS:.2f}, p90/target {p90 / TARGET_MS:.2f} "
                      f"(target < {TARGET_MS:.0f} ms)")
                if args.profile:
                    profile(client, tokens[name], path)


if __name__ == "__main__":
    main()
