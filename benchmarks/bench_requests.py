"""Benchmark: what the access layer adds to a request (token lookup, service role, policy, RLS, audit).

The same app twice on a throwaway cluster with the access world of tests/access: as built, and with
the policy and the service role switched off through dependency overrides. Prints medians (ms).

    .venv/bin/python benchmarks/bench_requests.py [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

import psycopg
from _harness import migrated_database, throwaway_cluster
from fastapi import Request
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_conn
from api.security import enforce_policy
from gis.access import accounts
from gis.settings import Settings
from tests.access.conftest import PASSWORD, build_world


def plain_conn(request: Request):
    """get_conn as it was before the access layer: the pool's owner, no role switch."""
    with request.app.state.pool.connection() as conn, conn.transaction():
        yield conn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with throwaway_cluster("gridmap-bench-req-") as cluster:
        url = migrated_database(cluster)
        settings = Settings(database_url=url, data_dir=cluster.root, _env_file=None)
        with psycopg.connect(url) as conn:
            world = build_world(conn)
            admin = world.users["admin"].username
            token, _ = accounts.issue_token(conn, admin, PASSWORD, settings.secret_key, timedelta(hours=1))
            conn.commit()
        headers = {"Authorization": f"Bearer {token}"}
        paths = ["/communities", f"/households?grid={world.g1}", f"/persons/{world.persons[world.g1][0]}"]
        for label, off in (("without access layer", True), ("with access layer", False)):
            app = create_app(settings)
            if off:
                app.dependency_overrides[enforce_policy] = lambda: None
                app.dependency_overrides[get_conn] = plain_conn
            with TestClient(app) as client:
                for path in paths:
                    for _ in range(20):
                        client.get(path, headers=headers)
                    times = []
                    for _ in range(args.runs):
                        t = time.perf_counter()
                        r = client.get(path, headers=headers)
                        times.append((time.perf_counter() - t) * 1000)
                    print(f"{label:22s} GET {path.split('?')[0]:22s} {r.status_code}  "
                          f"median {statistics.median(times):6.2f} ms")


if __name__ == "__main__":
    main()
