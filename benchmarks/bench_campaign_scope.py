"""Benchmark: what the area scope of the campaign's records (migration 030) costs, on a throwaway cluster.

The demo street (gis.demo: 6 communities, 60 grids, its roads cut into sections) with N compounds
(default 3,000) spread over it, two in three paired with one of 40 helper units, and M duties (default
600: half on road sections, half at crossings, weekly or monthly, with a record for most past days of
the last month). Two readings, each the median of --runs, side by side in one run:

  * the compounds' coverage per community (gis/compounds/coverage.py: placed.sql grouped) and
  * the duty roster of 31 days (gis/duties/roster.sql),

as the table owner (row-level security not applied: the cost of the query itself), as the service role
acting for an admin of everything under migration 025's policies (restored inside a transaction that is
rolled back: the before) and under 030's (the after: must stay within 1.5x of the before), and for an
admin of one community (fewer rows: for orientation). The modes take turns run by run (a machine shared
with other work slows them alike). Any policy at all costs a fixed ~2 ms a statement (access_all(): the
acting user's grants looked up once per table), which is what separates the owner's column.

    .venv/bin/python benchmarks/bench_campaign_scope.py [--compounds 3000] [--duties 600] [--runs 9]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import psycopg
from _harness import REPO, migrated_database, throwaway_cluster

from gis.access import accounts
from gis.compounds.coverage import coverage
from gis.demo.street import generate_street, load_demo
from gis.duties.duties import roster
from gis.sql_files import sql_text

LIMIT = 1.5  # the brief's bound: the policies may cost at most 1.5x the owner's reading
TABLES_025 = ("duty", "duty_record", "frontage_agreement", "frontage_check", "compound", "compound_helper",
              "compound_task")


def load(conn: psycopg.Connection, compounds: int, duties: int) -> None:
    load_demo(conn, generate_street(households=5_000, persons=12_000))
    if conn.execute("SELECT count(*) FROM road_section").fetchone()[0] == 0:  # one section per road
        conn.execute(
            "INSERT INTO road_section (road_id, code, road_name, length_m, community_code, geom)"
            " SELECT r.id, r.ref || '-001', r.name, ST_Length(g::geography),"
            "        (SELECT min(c.code) FROM community c"
            "         WHERE ST_Intersects(c.geom, ST_LineInterpolatePoint(g, 0.5))), g"
            " FROM road r CROSS JOIN LATERAL (SELECT ST_GeometryN(ST_Multi(r.geom), 1) AS g) x")
    conn.execute("INSERT INTO responsible_unit (name) SELECT 'unit ' || i FROM generate_series(1, 40) i")
    # compounds: small squares at hash-spread points of the street's extent
    conn.execute(
        "WITH e AS (SELECT ST_Extent(geom) AS b FROM community)"
        " INSERT INTO compound (ref, name, geom)"
        " SELECT 'k' || i, '小区' || i, ST_Multi(ST_MakeEnvelope(x, y, x + 0.0008, y + 0.0008, 4326))"
        " FROM e, generate_series(1, %(n)s) i,"
        "      LATERAL (SELECT ST_XMin(e.b) + (ST_XMax(e.b) - ST_XMin(e.b) - 0.001)"
        "                                     * ((i * 7919) %% 1000) / 1000.0 AS x,"
        "                      ST_YMin(e.b) + (ST_YMax(e.b) - ST_YMin(e.b) - 0.001)"
        "                                     * ((i * 104729) %% 997) / 997.0 AS y) p",
        {"n": compounds})
    conn.execute(
        "INSERT INTO compound_helper (compound_id, unit_id, valid)"
        " SELECT k.id, u.id, daterange(current_date - 100, NULL) FROM compound k"
        " JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM responsible_unit) u"
        "   ON u.n = mod(k.id, 40)"
        " WHERE mod(k.id, 3) <> 0")
    conn.execute(
        "INSERT INTO duty (name, unit_id, recurrence, weekday, month_day, section_id, post, post_name, valid)"
        " SELECT 'duty ' || i, u.id, CASE WHEN i %% 2 = 0 THEN 'weekly' ELSE 'monthly' END,"
        "        CASE WHEN i %% 2 = 0 THEN 1 + i %% 7 END, CASE WHEN i %% 2 = 1 THEN 1 + i %% 28 END,"
        "        CASE WHEN i %% 4 < 2 THEN s.id END,"
        "        CASE WHEN i %% 4 >= 2 THEN ST_LineInterpolatePoint(s.geom, 0.3) END,"
        "        CASE WHEN i %% 4 >= 2 THEN '路口' || i END, daterange(current_date - 400, NULL)"
        " FROM generate_series(1, %(n)s) i"
        " JOIN (SELECT id, geom, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS total"
        "       FROM road_section) s ON s.n = 1 + i %% s.total"
        " JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM responsible_unit) u"
        "   ON u.n = i %% 40",
        {"n": duties})
    # records for most past rostered days of the last month (the roster joins them)
    start, end = date.today() - timedelta(days=30), date.today() - timedelta(days=1)
    conn.execute(
        "INSERT INTO duty_record (duty_id, duty_day, status, recorder)"
        " SELECT r.duty_id, r.duty_day, 'done', 'bench' FROM ("
        + re.sub(r"\s*ORDER BY day\.d, d\.id\s*$", "", sql_text("gis.duties", "roster"))
        + ") r WHERE r.duty_id %% 5 <> 0",
        {"start": start, "end": end, "unit_id": None, "duty_id": None, "today": date.today()})
    conn.execute("ANALYZE")


def rows_of(out: object) -> int:
    return len(out["rows"]) if isinstance(out, dict) else len(out)  # type: ignore[arg-type]


def medians(conn: psycopg.Connection, fn: Callable[[], object], modes: dict[str, Callable[[], None]],
            runs: int) -> dict[str, tuple[float, int]]:
    """Per mode (a way to enter the transaction), the median time of ``fn`` and its rows. The modes take
    turns run by run, so a load on the machine that comes and goes weighs on all of them alike."""
    times: dict[str, list[float]] = {m: [] for m in modes}
    rows: dict[str, int] = {}
    for run in range(runs + 1):  # the first round warms plans and caches
        for mode, enter in modes.items():
            conn.rollback()
            enter()
            t = time.perf_counter()
            out = fn()
            if run:
                times[mode].append((time.perf_counter() - t) * 1000)
            rows[mode] = rows_of(out)
            conn.rollback()
    return {m: (statistics.median(times[m]), rows[m]) for m in modes}


def policies_of_025() -> str:
    """Migration 025's policies for the tables 030 changed (its CREATE POLICY statements, as written)."""
    text = Path(REPO, "gis/migrations/025_duties_compounds.sql").read_text()
    return "\n".join(m.group(0) for m in re.finditer(r"CREATE POLICY \w+ ON (\w+).*?;", text, re.S)
                     if m.group(1) in TABLES_025)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compounds", type=int, default=3000)
    parser.add_argument("--duties", type=int, default=600)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with throwaway_cluster() as cluster:
        url = migrated_database(cluster)
        with psycopg.connect(url) as conn:
            t = time.perf_counter()
            load(conn, args.compounds, args.duties)
            community = conn.execute("SELECT min(code) FROM community").fetchone()[0]
            users = {}
            for name, scope in (("city-admin", ""), ("community-admin", community)):
                accounts.create_user(conn, name, "a long enough password")
                accounts.grant(conn, name, "admin", scope)
                uid = accounts.user_id(conn, name)
                users[name] = accounts.Principal(uid, name, (accounts.Grant("admin", scope),))
            conn.commit()
            n = conn.execute("SELECT (SELECT count(*) FROM compound), (SELECT count(*) FROM duty),"
                             " (SELECT count(*) FROM duty_record),"
                             " (SELECT count(*) FROM community)").fetchone()
            print(f"data: {n[0]} compounds, {n[1]} duties, {n[2]} duty records, {n[3]} communities"
                  f" (loaded in {time.perf_counter() - t:.1f} s); medians of {args.runs} runs, ms")
            end = date.today() + timedelta(days=15)
            readings = {
                "compounds coverage per community": lambda: coverage(conn, "community"),
                "duty roster, 31 days": lambda: roster(conn, end - timedelta(days=30), end),
            }
            conn.execute("SET jit = off")  # as the service's connections (committed: kept by the session)
            conn.commit()
            old = policies_of_025()
            drop = "; ".join(f"DROP POLICY IF EXISTS {m.group(1)} ON {m.group(2)}"
                             for m in re.finditer(r"CREATE POLICY (\w+) ON (\w+)", old))

            def before() -> None:  # migration 025's policies, inside the transaction the sample rolls back
                conn.execute(drop)
                conn.execute(old)
                accounts.act_as(conn, users["city-admin"])

            modes = {"owner": lambda: None, "030 all": lambda: accounts.act_as(conn, users["city-admin"]),
                     "025 all": before, "030 comm.": lambda: accounts.act_as(conn, users["community-admin"])}
            print(f"{'reading':<34} {'owner':>9} {'025 all':>9} {'030 all':>9} {'030 comm.':>10}"
                  f"  030/025  030/owner")
            worst, worst_owner = 0.0, 0.0
            for label, fn in readings.items():
                m = medians(conn, fn, modes, args.runs)
                n = {k: v[1] for k, v in m.items()}
                assert n["owner"] == n["030 all"] == n["025 all"], (label, n)
                ratio = m["030 all"][0] / m["025 all"][0]
                worst = max(worst, ratio)
                worst_owner = max(worst_owner, m["030 all"][0] / m["owner"][0])
                print(f"{label:<34} {m['owner'][0]:>9.1f} {m['025 all'][0]:>9.1f} {m['030 all'][0]:>9.1f}"
                      f" {m['030 comm.'][0]:>10.1f}  {ratio:>6.2f}x  {m['030 all'][0] / m['owner'][0]:>8.2f}x"
                      f"  ({n['owner']} rows; one community: {n['030 comm.']})")
            slowest = max(worst, worst_owner)
            print(f"FIGURES campaign scope (admin of everything): worst 030 / 025 = {worst:.2f}x, 030 / owner"
                  f" = {worst_owner:.2f}x (limit {LIMIT}x): {'ok' if slowest <= LIMIT else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
