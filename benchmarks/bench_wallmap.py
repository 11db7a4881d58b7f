"""Benchmark: the wall map (一图上墙) PDF of a 500-household grid and of a 5,000-household community on A1,
with the network cut, against the folium HTML map of the same area rendered in the same run.

A throwaway cluster holds one community of 10 grids × 500 households (~2.5 persons each, tags by
modulo), a road every ~100 m each way with names and a building per ~12 households. Each figure is the
median of --runs renders (SQL + sheet + PDF); the targets (issue 15): a grid in under 3 s and 2 MB, a
community on A1 in under 10 s and 10 MB. Any connection beyond this machine raises during the runs: a
wall map never asks a tile server.

    .venv/bin/python benchmarks/bench_wallmap.py [--per-grid 500] [--grids 10] [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from _harness import migrated_database, throwaway_cluster

from gis.maps.grids import community_map_data, grid_map_data
from gis.maps.wallmap import render_pdf
from gis.maps.wallmap_data import build_sheet
from gis.settings import Settings
from layers.maps import community_map, grid_map
from layers.shell import render_html

COMMUNITY = "430102005003"
SIDE = 0.004  # degrees a grid side, ~400 m
TARGETS = {"grid": (3.0, 2.0), "community": (10.0, 10.0)}  # seconds, MB

SETUP = """
INSERT INTO community (code, name, street_name, geom)
SELECT %(c)s, '基准社区', '基准街道',
       ST_Multi(ST_MakeEnvelope(113.0, 28.2, 113.0 + %(side)s * %(grids)s, 28.2 + %(side)s, 4326));
INSERT INTO grid (code, community_code, name, geom)
SELECT %(c)s || lpad(g::text, 3, '0'), %(c)s, '第' || g || '网格',
       ST_Multi(ST_MakeEnvelope(x, 28.2, x + %(side)s, 28.2 + %(side)s, 4326))
FROM generate_series(1, %(grids)s) AS g CROSS JOIN LATERAL (SELECT 113.0 + %(side)s * (g - 1) AS x) AS o;
INSERT INTO grid_worker (name, ref, service_phone)
SELECT '网格员' || g, 'bench-w' || g, '0731-8000 ' || lpad(g::text, 4, '0')
FROM generate_series(1, %(grids)s) g;
INSERT INTO grid_worker_grid (worker_id, grid_code)
SELECT w.id, %(c)s || lpad(substr(w.ref, 8), 3, '0') FROM grid_worker w WHERE w.ref LIKE 'bench-w%%';
WITH p AS (
    SELECT i, ST_SetSRID(ST_MakePoint(
               113.0 + %(side)s * (i / %(per)s) + %(side)s * (0.02 + 0.96 * random()),
               28.2 + %(side)s * (0.02 + 0.96 * random())), 4326) AS geom
    FROM generate_series(0, %(grids)s * %(per)s - 1) AS i
)
INSERT INTO household (ref, address, grid_code, placement, geom)
SELECT 'bench-' || i, '基准路' || (i / 60) || '号', a.grid_code, a.placement, p.geom
FROM p CROSS JOIN LATERAL grid_for_point(p.geom) a;
INSERT INTO person (household_id, name, relation, residence, poverty, elderly_alone, disabled, activist)
SELECT h.id, '居民' || h.id || '-' || k, CASE k WHEN 1 THEN 'head' ELSE 'child' END,
       CASE WHEN h.id %% 7 = 0 THEN 'floating' ELSE 'registered' END,
       CASE WHEN h.id %% 29 = 0 AND k = 1 THEN 'dibao' END,
       h.id %% 4 = 0 AND h.id %% 31 = 0, h.id %% 37 = 0 AND k = 2, h.id %% 41 = 0 AND k = 1
FROM household h CROSS JOIN LATERAL generate_series(1, 1 + (h.id %% 4)::int) AS k;
INSERT INTO key_person (person_id, category) SELECT id, 'released_prisoner' FROM person WHERE id %% 97 = 0;
-- Roads every 0.001° (~100 m) east-west and north-south, named; a building per ~12 households.
INSERT INTO road (ref, name, geom)
SELECT 'bench-ew' || j, '东西' || j || '路',
       ST_SetSRID(ST_MakeLine(ST_MakePoint(112.999, 28.2 + j * 0.001),
                              ST_MakePoint(113.001 + %(side)s * %(grids)s, 28.2 + j * 0.001)), 4326)
FROM generate_series(0, (%(side)s / 0.001)::int) AS j
UNION ALL
SELECT 'bench-ns' || j, '南北' || j || '街',
       ST_SetSRID(ST_MakeLine(ST_MakePoint(113.0 + j * 0.001, 28.199),
                              ST_MakePoint(113.0 + j * 0.001, 28.201 + %(side)s)), 4326)
FROM generate_series(0, (%(side)s * %(grids)s / 0.001)::int) AS j;
INSERT INTO building (ref, name, geom)
SELECT 'bench-b' || i, '楼' || i,
       ST_Expand(ST_SetSRID(ST_MakePoint(113.0003 + (i %% (%(grids)s * 20)) * 0.0002,
                                         28.2003 + (i / (%(grids)s * 20)) * 0.00018), 4326), 0.00006)
FROM generate_series(0, %(grids)s * %(per)s / 12 - 1) AS i;
ANALYZE;
"""


@contextmanager
def network_cut() -> Iterator[None]:
    """Refuse every connection beyond this machine (a tile server, a CDN): it raises, the run fails."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"network cut: the wall map tried to reach {address}")
        return real(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = real  # type: ignore[method-assign]


def median_time(fn: Callable[[], bytes], runs: int) -> tuple[float, bytes]:
    times, result = [], b""
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-grid", type=int, default=500)
    parser.add_argument("--grids", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the PDFs and HTML maps into this folder")
    args = parser.parse_args()
    with throwaway_cluster() as cluster:
        url = migrated_database(cluster)
        settings = Settings(database_url=url, basemap="none")
        with psycopg.connect(url) as conn:
            params = {"c": COMMUNITY, "side": SIDE, "grids": args.grids, "per": args.per_grid}
            for statement in SETUP.split(";\n"):  # bound parameters: one statement at a time
                if statement.strip():
                    conn.execute(statement, params)  # type: ignore[arg-type]
            conn.commit()
            conn.execute("SET jit = off")
            grid = COMMUNITY + "001"
            households = conn.execute("SELECT count(*) FROM household").fetchone()[0]  # type: ignore[index]
            print(f"{args.grids} grids × {args.per_grid} households = {households} households, "
                  f"median of {args.runs} runs, network cut")
            cases = {
                "grid": (lambda: render_pdf(build_sheet(conn, "grid", grid, "office")),
                         lambda: render_html(grid_map(grid_map_data(conn, grid), settings),
                                             inline=True).encode()),
                "community": (
                    lambda: render_pdf(build_sheet(conn, "community", COMMUNITY, "office", "A1")),
                    lambda: render_html(community_map(community_map_data(conn, COMMUNITY), settings),
                                        inline=True).encode()),
            }
            with network_cut():
                for kind, (pdf_fn, html_fn) in cases.items():
                    pdf_s, pdf = median_time(pdf_fn, args.runs)
                    html_s, page = median_time(html_fn, args.runs)
                    secs, mb = TARGETS[kind]
                    ok = pdf_s < secs and len(pdf) / 1e6 < mb
                    print(f"{kind:9} wall map PDF {pdf_s:6.2f} s {len(pdf) / 1e6:6.2f} MB "
                          f"(target < {secs:g} s, < {mb:g} MB: {'ok' if ok else 'MISSED'}) | "
                          f"baseline folium HTML map {html_s:6.2f} s {len(page) / 1e6:6.2f} MB | "
                          f"PDF/HTML time {pdf_s / html_s:4.2f}×, size {len(pdf) / len(page):4.2f}×")
                    if args.keep:
                        args.keep.mkdir(parents=True, exist_ok=True)
                        (args.keep / f"wallmap-{kind}.pdf").write_bytes(pdf)
                        (args.keep / f"map-{kind}.html").write_bytes(page)
            conn.rollback()


if __name__ == "__main__":
    main()
