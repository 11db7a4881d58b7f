"""Benchmark: register operations at street scale on a throwaway cluster.

10 communities x 20 grids, N households (default 50,000) with ~2.4 persons each, loaded by COPY.
Prints the median of --runs runs of: placing households on insert (one INSERT ... SELECT with
grid_for_point), all 四清 statistics (one GROUPING SETS query) against the same figures asked one
count query at a time, the division check of a community, a filtered persons page, and the
re-assignment after a grid boundary change.

    .venv/bin/python benchmarks/bench_register.py [--households 50000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import psycopg
from _harness import migrated_database, throwaway_cluster

from gis.division import communities, grids
from gis.division.check import check_division
from gis.register import households as register
from gis.register import persons
from gis.register.stats import flatten
from gis.register.stats import statistics as stats
from gis.settings import CHINA_BBOX

X0, Y0, SIDE = 112.90, 28.10, 0.05  # communities are SIDE° squares in a row; grids 5 x 4 inside


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def load(conn: psycopg.Connection, n_households: int, seed: int = 3) -> None:
    for c in range(10):
        code = f"430102001{c + 1:03d}"
        x = X0 + c * SIDE
        communities.create_community(conn, code, f"社区{c}", box(x, Y0, x + SIDE, Y0 + SIDE))
        for i in range(5):
            for j in range(4):
                seq = i * 4 + j + 1
                grids.create_grid(conn, f"{code}{seq:03d}", code, f"网格{seq}",
                                  box(x + i * SIDE / 5, Y0 + j * SIDE / 4, x + (i + 1) * SIDE / 5,
                                      Y0 + (j + 1) * SIDE / 4))
    rng = np.random.default_rng(seed)
    lon = rng.uniform(X0 - 0.005, X0 + 10 * SIDE + 0.005, n_households)  # a few fall outside
    lat = rng.uniform(Y0, Y0 + SIDE, n_households)
    with conn.cursor().copy("COPY household (address, geom) FROM STDIN") as copy:
        for i in range(n_households):
            copy.write_row((f"路{i}号", f"SRID=4326;POINT({lon[i]} {lat[i]})"))
    # Assign after the load, in one statement (as the importer does).
    conn.execute("UPDATE household h SET grid_code = p.grid_code, placement = p.placement "
                 "FROM (SELECT x.id, g.* FROM household x CROSS JOIN LATERAL grid_for_point(x.geom) g) p "
                 "WHERE p.id = h.id")
    ids = [r[0] for r in conn.execute("SELECT id FROM household")]
    employment = ["employed", "unemployed", "retired", "student", "preschool", "other", None]
    poverty = [None] * 30 + ["dibao", "tekun", "dibao_edge"]
    with conn.cursor().copy("COPY person (household_id, name, residence, employment, poverty, elderly_alone,"
                            " disabled, activist, volunteer) FROM STDIN") as copy:
        for hid in ids:
            for _ in range(int(rng.integers(1, 5))):
                copy.write_row((hid, "居民", "floating" if rng.random() < 0.2 else "registered",
                                employment[int(rng.integers(0, 7))], poverty[int(rng.integers(0, 33))],
                                rng.random() < 0.03, rng.random() < 0.02, rng.random() < 0.02,
                                rng.random() < 0.05))
    conn.execute("INSERT INTO key_person (person_id, category) SELECT id, (ARRAY['community_correction',"
                 "'released_prisoner','petitioner'])[1 + id % 3] FROM person WHERE id % 61 = 0")
    conn.execute("ANALYZE")
    conn.commit()


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def count_one_by_one(conn: psycopg.Connection, result: dict) -> int:
    """The same figures asked one list query each (what a per-number implementation would do)."""
    n = 0
    for entry in [result["all"], *result["communities"], *result["grids"]]:
        for figure in flatten(entry["figures"]).values():
            resource, _, query = figure["href"].lstrip("/").partition("?")
            params = dict(p.split("=") for p in query.split("&")) if query else {}
            for flag in ("elderly_alone", "disabled", "activist", "volunteer"):
                if flag in params:
                    params[flag] = params[flag] == "true"  # type: ignore[assignment]
            lister = persons.list_persons if resource == "persons" else register.list_households
            assert lister(conn, limit=1, **params)["total"] == figure["count"]
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with throwaway_cluster() as cluster:
        with psycopg.connect(migrated_database(cluster)) as conn:
            conn.execute("SET jit = off")
            start = time.perf_counter()
            load(conn, args.households)
            persons = conn.execute("SELECT count(*) FROM person").fetchone()[0]  # type: ignore[index]
            print(f"loaded {args.households} households, {persons} persons, 200 grids "
                  f"in {time.perf_counter() - start:.1f} s")

            rng = np.random.default_rng(9)
            batch = [{"address": f"新{i}", "lon": float(x), "lat": float(y)} for i, (x, y) in enumerate(
                zip(rng.uniform(X0, X0 + 10 * SIDE, 5000), rng.uniform(Y0, Y0 + SIDE, 5000), strict=True))]

            def insert_batch() -> None:
                register.insert_households(conn, batch, CHINA_BBOX)
                conn.rollback()

            t_insert = median_ms(insert_batch, args.runs)
            print(f"insert + place 5,000 households (one statement): {t_insert:.0f} ms")
            t_stats = median_ms(lambda: stats(conn), args.runs)
            result = stats(conn)
            n_figures = sum(len(flatten(e["figures"])) for e in [result["all"], *result["communities"],
                                                                   *result["grids"]])
            print(f"statistics, all levels ({n_figures} figures, one query): {t_stats:.0f} ms")
            start = time.perf_counter()
            checked = count_one_by_one(conn, result)
            t_each = (time.perf_counter() - start) * 1000
            print(f"the same {checked} figures one count query each (drill-down lists): {t_each:.0f} ms "
                  f"= {t_each / t_stats:.0f}x; all equal")
            t_div = median_ms(lambda: check_division(conn, "430102001001"), args.runs)
            print(f"division check of a 20-grid community: {t_div:.0f} ms")
            t_page = median_ms(lambda: persons.list_persons(conn, community="430102001003",
                                                             residence="floating", limit=100), args.runs)
            print(f"persons page (community + floating, total + 100 rows): {t_page:.0f} ms")

            def move_grid() -> None:
                grids.update_grid(conn, "430102001001001", "网格1",
                                  box(X0, Y0, X0 + SIDE / 5 + 0.002, Y0 + SIDE / 4))
                conn.rollback()

            t_move = median_ms(move_grid, args.runs)
            print(f"grid boundary change + re-assignment (one UPDATE ... FROM): {t_move:.0f} ms")


if __name__ == "__main__":
    main()
