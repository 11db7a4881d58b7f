"""Benchmark: the facility check (阵地达标检查) over 2,000 communities, on a throwaway cluster.

2,000 square communities (40 x 50) with ~5 facilities each of the six kinds (some communities with no
道德讲堂, some with three), placed by the database's point-in-polygon trigger as the API places them.
The check (gis/facilities/check.sql, one statement) runs as the service role acting for an admin of
everything (row-level security on), as the API runs it. Side by side, two baselines giving the same
failures: the per-community loop a first version would write (one count query per community and kind
with a target: 4,000 round trips), and the same single statement counting by ST_Contains at query time
instead of the stored community code. And the check as a street admin (her street's communities only,
migration 038's guards). Prints the medians, the ratios to the loop and the 200 ms target
(issue 16), and checks the three answers are equal.

    .venv/bin/python benchmarks/bench_facilities.py [--communities 2000] [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import psycopg
from _harness import migrated_database, throwaway_cluster

from gis.access import accounts
from gis.facilities.check import failures

TARGET_MS = 200.0
X0, Y0, SIDE = 112.0, 28.0, 0.01
COLUMNS = 40
STREET = "430102001"  # the first 900 communities (load's codes: 430102 + street + community)

LIVE_PIP = """
WITH t AS (
    SELECT DISTINCT ON (c.code, t.kind) c.code, c.geom, t.kind, t.min_count, t.max_count
    FROM community c JOIN facility_target t ON starts_with(c.code, t.scope)
    ORDER BY c.code, t.kind, length(t.scope) DESC
)
SELECT t.code, t.kind, n.n
FROM t CROSS JOIN LATERAL (SELECT count(*)::integer AS n FROM facility f
                           WHERE f.active AND f.kind = t.kind AND ST_Contains(t.geom, f.geom)) n
WHERE n.n < t.min_count OR n.n > t.max_count"""


def load(conn: psycopg.Connection, communities: int) -> None:
    conn.execute(
        "INSERT INTO community (code, name, geom)"
        " SELECT '430102' || lpad((i / 900 + 1)::text, 3, '0') || lpad((i %% 900 + 1)::text, 3, '0'),"
        "        'c' || i, ST_Multi(ST_MakeEnvelope("
        "            %(x)s + (i %% %(cols)s) * %(s)s, %(y)s + (i / %(cols)s) * %(s)s,"
        "            %(x)s + (i %% %(cols)s + 1) * %(s)s, %(y)s + (i / %(cols)s + 1) * %(s)s, 4326))"
        " FROM generate_series(0, %(n)s - 1) i",
        {"x": X0, "y": Y0, "s": SIDE, "cols": COLUMNS, "n": communities},
    )
    # per community and kind 0..3 facilities (hash-spread), inside the square
    conn.execute(
        "INSERT INTO facility (kind, name, owner_community, geom)"
        " SELECT k.code, 'f', c.code, ST_Point(ST_XMin(c.geom) + 0.001 + j * 0.002,"
        "        ST_YMin(c.geom) + 0.001 + k.o * 0.0012, 4326)"
        " FROM community c"
        " CROSS JOIN (SELECT code, row_number() OVER (ORDER BY code) AS o FROM facility_kind) k"
        " CROSS JOIN generate_series(0, 3) j"
        " WHERE j < abs(hashtext(c.code || k.code)) % 4"
    )
    conn.execute("ANALYZE")


def per_community_loop(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """The baseline: for each community and kind with a target, one count query."""
    found = []
    targets = conn.execute(
        "SELECT kind, min_count, max_count FROM facility_target WHERE scope = ''"
    ).fetchall()
    for (code,) in conn.execute("SELECT code FROM community ORDER BY code").fetchall():
        for kind, low, high in targets:
            row = conn.execute(
                "SELECT count(*) FROM facility WHERE active AND community_code = %s AND kind = %s",
                [code, kind],
            ).fetchone()
            n = row[0] if row else 0
            if n < low or (high is not None and n > high):
                found.append((code, kind))
    return found


def timed(run: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with throwaway_cluster() as cluster:
        url = migrated_database(cluster)
        with psycopg.connect(url) as conn:
            load(conn, args.communities)
            accounts.create_user(conn, "bench-admin", "bench-password-1")
            accounts.grant(conn, "bench-admin", "admin", "")
            uid = accounts.user_id(conn, "bench-admin")
            # a street admin: the check answers for her street's 900 communities only (w3 guards)
            accounts.create_user(conn, "bench-street", "bench-password-1")
            accounts.grant(conn, "bench-street", "admin", STREET)
            street_uid = accounts.user_id(conn, "bench-street")
            conn.commit()
            facilities = conn.execute("SELECT count(*) FROM facility").fetchone()
            conn.execute("SET ROLE gridmap_app")
            conn.execute("SELECT set_config('gridmap.user_id', %s, false)", [str(uid)])
            check_ms, rows = timed(lambda: failures(conn), args.runs)
            pip_ms, pip_rows = timed(lambda: conn.execute(LIVE_PIP).fetchall(), args.runs)
            loop_ms, loop_rows = timed(lambda: per_community_loop(conn), max(3, args.runs // 3))
            conn.execute("SELECT set_config('gridmap.user_id', %s, false)", [str(street_uid)])
            street_ms, street_rows = timed(lambda: failures(conn), args.runs)
    got = sorted((r["community_code"], r["kind"]) for r in rows)  # type: ignore[union-attr]
    assert got == sorted(loop_rows) == sorted((c, k) for c, k, _ in pip_rows), "the answers differ"  # type: ignore[arg-type, misc]
    street_got = sorted((r["community_code"], r["kind"]) for r in street_rows)  # type: ignore[union-attr]
    assert street_got == [(c, k) for c, k in got if c.startswith(STREET)], "the street's answer differs"
    print(
        f"FIGURES facility check: {args.communities} communities, {facilities[0] if facilities else 0} "
        f"facilities, {len(got)} failures; median of {args.runs}: check {check_ms:.1f} ms "
        f"(target {TARGET_MS:.0f} ms: {check_ms / TARGET_MS:.2f} of it); baselines: per-community loop "
        f"{loop_ms:.0f} ms ({loop_ms / check_ms:.0f}x slower), live ST_Contains in one statement "
        f"{pip_ms:.1f} ms ({pip_ms / check_ms:.1f}x); a street admin's check ({len(street_got)} failures "
        f"of her street) {street_ms:.1f} ms"
    )


if __name__ == "__main__":
    main()
