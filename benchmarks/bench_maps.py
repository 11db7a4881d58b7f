"""Benchmark: the map (一图) of a grid and of a community, against naive folium (one Marker per household).

A throwaway cluster holds one community of 10 grids x 500 households (~2.5 persons each, so ~1,250
per grid and ~12,500 in all). Prints the median render time of the grid map through the route
(TestClient) and as a pure render (SQL + layers + HTML), the HTML size of the community map, and the
same households drawn by naive folium side by side, with the ratios.

    .venv/bin/python benchmarks/bench_maps.py [--per-grid 500] [--grids 10] [--runs 9] [--keep DIR]
"""

from __future__ import annotations

import argparse
import html
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import folium
import psycopg
from _harness import migrated_database, throwaway_cluster

from gis.maps.grids import community_map_data, grid_map_data
from gis.settings import Settings
from layers.maps import community_map, grid_map
from layers.shell import render_html

COMMUNITY = "430102005003"
SIDE = 0.004  # degrees a grid side, ~400 m

# Grids in a row of squares; households on a jittered lattice inside each; members and tags by modulo.
SETUP = """
INSERT INTO community (code, name, street_name, geom)
SELECT %(c)s, '基准社区', '基准街道',
       ST_Multi(ST_MakeEnvelope(113.0, 28.2, 113.0 + %(side)s * %(grids)s, 28.2 + %(side)s, 4326));
INSERT INTO grid (code, community_code, name, geom)
SELECT %(c)s || lpad(g::text, 3, '0'), %(c)s, '第' || g || '网格',
       ST_Multi(ST_MakeEnvelope(x, 28.2, x + %(side)s, 28.2 + %(side)s, 4326))
FROM generate_series(1, %(grids)s) AS g CROSS JOIN LATERAL (SELECT 113.0 + %(side)s * (g - 1) AS x) AS o;
INSERT INTO grid_worker (name, ref) SELECT '网格员' || g, 'bench-w' || g FROM generate_series(1, %(grids)s) g;
INSERT INTO grid_worker_grid (worker_id, grid_code)
SELECT w.id, %(c)s || lpad(substr(w.ref, 8), 3, '0') FROM grid_worker w WHERE w.ref LIKE 'bench-w%%';
WITH p AS (
    SELECT i, ST_SetSRID(ST_MakePoint(
               113.0 + %(side)s * (i / %(per)s) + %(side)s * (0.02 + 0.96 * random()),
               28.2 + %(side)s * (0.02 + 0.96 * random())), 4326) AS geom
    FROM generate_series(0, %(grids)s * %(per)s - 1) AS i
)
INSERT INTO household (ref, address, building, unit, room, grid_code, placement, geom)
SELECT 'bench-' || i, '基准路' || (i / 60) || '号' || (i %% 60 / 12 + 1) || '单元' || (i %% 12 + 101) || '室',
       (i / 60)::text, (i %% 60 / 12 + 1)::text, (i %% 12 + 101)::text, a.grid_code, a.placement, p.geom
FROM p CROSS JOIN LATERAL grid_for_point(p.geom) a;
INSERT INTO person (household_id, name, id_number, phone, relation, residence, poverty,
                    elderly_alone, disabled, activist, volunteer)
SELECT h.id, '居民' || h.id || '-' || k,
       '43010219' || lpad((h.id * 4 + k)::text, 10, '0'),
       '139' || lpad((h.id * 4 + k)::text, 8, '0'),
       CASE k WHEN 1 THEN 'head' WHEN 2 THEN 'spouse' ELSE 'child' END,
       CASE WHEN h.id %% 7 = 0 THEN 'floating' ELSE 'registered' END,
       CASE WHEN h.id %% 29 = 0 AND k = 1 THEN 'dibao' END,
       h.id %% 4 = 0 AND h.id %% 31 = 0, h.id %% 37 = 0 AND k = 2, h.id %% 41 = 0 AND k = 1, h.id %% 43 = 0
FROM household h CROSS JOIN LATERAL generate_series(1, 1 + (h.id %% 4)::int) AS k;
INSERT INTO key_person (person_id, category)
SELECT id, 'released_prisoner' FROM person WHERE id %% 97 = 0;
ANALYZE;
"""


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def naive_folium(conn: psycopg.Connection, where: str, code: str) -> str:
    """What one would write first: every household a folium.Marker with its register entry as popup."""
    rows = conn.execute(
        f"""SELECT ST_Y(h.geom), ST_X(h.geom), h.address, string_agg(p.name || ' ' || p.relation, '<br>')
            FROM household h JOIN grid g ON g.code = h.grid_code LEFT JOIN person p ON p.household_id = h.id
            WHERE {where} = %s GROUP BY h.id""",  # noqa: S608 - a constant column name, the code is bound
        [code],
    ).fetchall()
    m = folium.Map(location=[rows[0][0], rows[0][1]], zoom_start=16)
    for lat, lon, address, members in rows:
        folium.Marker([lat, lon], popup=folium.Popup(f"<b>{html.escape(address)}</b><br>{members}")).add_to(m)
    return m.get_root().render()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-grid", type=int, default=500)
    parser.add_argument("--grids", type=int, default=10)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="write the maps as HTML files into this folder")
    args = parser.parse_args()

    with throwaway_cluster("gridmap-bench-maps-") as cluster:
        url = migrated_database(cluster)
        with psycopg.connect(url) as conn:
            t = time.perf_counter()
            params = {"c": COMMUNITY, "side": SIDE, "grids": args.grids, "per": args.per_grid}
            for statement in SETUP.split(";\n"):
                if statement.strip():
                    conn.execute(statement, params)  # type: ignore[call-overload]
            conn.commit()
            n_h, n_p = conn.execute("SELECT (SELECT count(*) FROM household), (SELECT count(*) FROM person)"
                                    ).fetchone()  # type: ignore[misc]
            print(f"data: {args.grids} grids, {n_h} households, {n_p} persons "
                  f"(set-based load {time.perf_counter() - t:.2f} s)")
        settings = Settings(database_url=url, data_dir=cluster.root / "data", _env_file=None)  # type: ignore[call-arg]
        run(settings, args)

def run(settings: Settings, args: argparse.Namespace) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    grid = f"{COMMUNITY}002"
    with psycopg.connect(settings.database_url or "") as conn:
        conn.execute("SET jit = off")
        sql_s, data = median_time(lambda: grid_map_data(conn, grid), args.runs)
        pure_s, page = median_time(lambda: render_html(grid_map(grid_map_data(conn, grid), settings)),
                                   args.runs)
        grid_hh = data.counts["households"]  # type: ignore[attr-defined]
        grid_persons = data.counts["persons"]  # type: ignore[attr-defined]
        comm_s, comm_page = median_time(
            lambda: render_html(community_map(community_map_data(conn, COMMUNITY), settings)),
            max(3, args.runs // 3))
        comm_inline = render_html(community_map(community_map_data(conn, COMMUNITY), settings), inline=True)
        naive_grid_s, naive_grid = median_time(lambda: naive_folium(conn, "h.grid_code", grid), 3)
        naive_comm_s, naive_comm = median_time(lambda: naive_folium(conn, "g.community_code", COMMUNITY), 1)
    from datetime import timedelta

    from gis.access import accounts

    with psycopg.connect(settings.database_url or "") as conn:  # every route needs a signed-in user
        accounts.create_user(conn, "bench-admin", "bench-admin password")
        accounts.grant(conn, "bench-admin", "admin", "")
        token, _ = accounts.issue_token(conn, "bench-admin", "bench-admin password", settings.secret_key,
                                        timedelta(hours=1))
        conn.commit()
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        client.get(f"/maps/grids/{grid}")  # warm the pool
        route_s, response = median_time(lambda: client.get(f"/maps/grids/{grid}"), args.runs)
        assert response.status_code == 200  # type: ignore[attr-defined]

    def mb(text: object) -> float:
        return len(str(text).encode()) / 1e6

    print(f"\ngrid map, {grid_hh} households / {grid_persons} persons "
          f"(median of {args.runs}; target < 0.5 s)")
    print(f"  through the route (TestClient)   {route_s * 1000:7.0f} ms   {mb(response.text):5.2f} MB")  # type: ignore[attr-defined]
    print(f"  pure render (SQL+layers+HTML)    {pure_s * 1000:7.0f} ms   {mb(page):5.2f} MB")
    print(f"    of which SQL + masking          {sql_s * 1000:7.0f} ms")
    print(f"  naive folium, 1 Marker/household {naive_grid_s * 1000:7.0f} ms   {mb(naive_grid):5.2f} MB"
          f"   -> ours {naive_grid_s / pure_s:.1f}x faster, {mb(naive_grid) / mb(page):.1f}x smaller")
    print(f"\ncommunity map, {args.grids * args.per_grid} households (target < 3 MB)")
    print(f"  served page (assets under /static) {comm_s * 1000:6.0f} ms   {mb(comm_page):5.2f} MB")
    print(f"  CLI file (assets inlined)                    {mb(comm_inline):5.2f} MB")
    print(f"  naive folium, 1 Marker/household {naive_comm_s * 1000:7.0f} ms   {mb(naive_comm):5.2f} MB"
          f"   -> ours {naive_comm_s / comm_s:.1f}x faster, {mb(naive_comm) / mb(comm_page):.1f}x smaller")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        (args.keep / "grid.html").write_text(render_html(grid_map(data, settings), inline=True), "utf-8")  # type: ignore[arg-type]
        (args.keep / "community.html").write_text(comm_inline, "utf-8")
        (args.keep / "naive_grid.html").write_text(naive_grid, "utf-8")  # type: ignore[arg-type]
        print(f"\nmaps written to {args.keep}")


if __name__ == "__main__":
    main()
