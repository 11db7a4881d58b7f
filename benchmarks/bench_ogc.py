"""Benchmark: gridmap's OGC items endpoint vs TiPg on the same PostGIS table, and ST_AsMVT tile times.

City scale: 300,000 places in ~30 x 30 km. A throwaway cluster and database; gridmap (uvicorn,
1 worker) and TiPg (uvicorn, 1 worker) serve the same `place` table on loopback; `wrk` drives both
with the same Lua script (bboxes of ~600 m cycled in the same order), the same threads, connections
and duration, in alternating rounds. Prints req/s and p95 latency of each, the ratios, and the
median ST_AsMVT time of tiles at z12 and z14.

TiPg is a bench-only install, kept out of gridmap's dependencies (it pins its own FastAPI stack):

    python3 -m venv /tmp/gridmap-tipg-venv && /tmp/gridmap-tipg-venv/bin/pip install tipg uvicorn
    apt-get install -y wrk
    .venv/bin/python benchmarks/bench_ogc.py [--places 300000] [--duration 10] [--connections 16] [--rounds 2]

--tipg-python (or GRIDMAP_TIPG_PYTHON) names the interpreter that has tipg.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import numpy as np
import psycopg
import shapely
from _harness import REPO, free_port, migrated_database, throwaway_cluster
from pyproj import CRS, Transformer

from gis.access.accounts import create_user, grant, issue_token
from gis.settings import DEFAULT_SECRET_KEY

CENTRE = (113.015, 25.770)  # Chenzhou (郴州)
CATEGORIES = ["restaurant", "small_shop", "food_shop", "other", "tobacco", "bar", "internet_cafe"]

# Same table as migration 002's, for a database where that migration has not landed.
PLACE_FALLBACK = """
CREATE TABLE IF NOT EXISTS place (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ref text UNIQUE, name text NOT NULL,
    category text NOT NULL, address text, geom geometry(Point, 4326) NOT NULL);
CREATE INDEX IF NOT EXISTS place_geom_idx ON place USING gist (geom);
"""

WRK_LUA = """
local boxes = {%s}
local prefix = "%s"
local i = 0
local headers = {%s}
request = function()
  i = i %% #boxes + 1
  return wrk.format("GET", prefix .. boxes[i], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%f %%f %%f %%d %%d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(95) / 1000, latency:percentile(50) / 1000, summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def local_tm(lon: float, lat: float) -> CRS:
    return CRS.from_proj4(f"+proj=tmerc +lat_0={lat} +lon_0={lon} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m")


def load_places(conn: psycopg.Connection, n: int, seed: int = 7, size_m: float = 30_000) -> None:
    """n points spread over the city, bulk-loaded with COPY (hex EWKB), then analysed."""
    rng = np.random.default_rng(seed)
    to_lonlat = Transformer.from_crs(local_tm(*CENTRE), "EPSG:4326", always_xy=True)
    # Clustered like a real city: three quarters around a few centres, the rest spread out.
    centres = rng.uniform(-size_m / 3, size_m / 3, (12, 2))
    pick = rng.integers(0, len(centres), n)
    xy = np.where(rng.random((n, 1)) < 0.75, centres[pick] + rng.normal(0, 2_500, (n, 2)),
                  rng.uniform(-size_m / 2, size_m / 2, (n, 2)))
    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    ewkb = shapely.to_wkb(shapely.set_srid(shapely.points(lon, lat), 4326), hex=True, include_srid=True)
    category = rng.choice(CATEGORIES, n)
    with conn.cursor() as cur:
        if cur.execute("SELECT to_regclass('place') IS NULL").fetchone()[0]:  # type: ignore[index]
            cur.execute(PLACE_FALLBACK)
        with cur.copy("COPY place (ref, name, category, address, geom) FROM STDIN") as copy:
            for i in range(n):
                copy.write_row((f"P{i:06d}", f"Place {i}", category[i], f"No. {i} Bench road", ewkb[i]))
    conn.commit()
    conn.execute("ANALYZE place")
    conn.commit()


def bboxes(n: int, seed: int = 11, half_m: float = 300) -> list[tuple[float, float, float, float]]:
    """n boxes of ~600 m around random points of the city (some busy, some quiet)."""
    rng = np.random.default_rng(seed)
    to_lonlat = Transformer.from_crs(local_tm(*CENTRE), "EPSG:4326", always_xy=True)
    c = rng.uniform(-12_000, 12_000, (n, 2))
    x0, y0 = to_lonlat.transform(c[:, 0] - half_m, c[:, 1] - half_m)
    x1, y1 = to_lonlat.transform(c[:, 0] + half_m, c[:, 1] + half_m)
    return [(round(a, 6), round(b, 6), round(cc, 6), round(d, 6))
            for a, b, cc, d in zip(x0, y0, x1, y1, strict=True)]


def wait_http(url: str, timeout: float = 60, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def run_wrk(base: str, prefix: str, boxes: list, threads: int, connections: int, duration: int,
            workdir: Path, headers: dict[str, str]) -> dict:
    lua = workdir / f"bench_{abs(hash(prefix))}.lua"
    quoted = ", ".join(f'"{",".join(map(str, b))}"' for b in boxes)
    lua_headers = ", ".join(f'["{k}"]="{v}"' for k, v in headers.items())
    lua.write_text(WRK_LUA % (quoted, prefix, lua_headers))
    proc = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
                           "-s", str(lua), base], capture_output=True, text=True)
    match = re.search(r"RESULT (\S+) (\S+) (\S+) (\d+) (\d+)", proc.stdout)
    if not match:
        raise RuntimeError(f"wrk failed: {proc.stdout}\n{proc.stderr}")
    rps, p95, p50, requests, errors = match.groups()
    return {"rps": float(rps), "p95_ms": float(p95), "p50_ms": float(p50), "requests": int(requests),
            "errors": int(errors)}


def tile_times(conninfo: str, z: int, samples: int = 15) -> tuple[float, int]:
    """Median ms of gis.tiles.tile for the tiles around the city centre at zoom z, and their bytes."""
    import math

    from gis.ogc import tiles

    n = 2 ** z
    cx = int((CENTRE[0] + 180) / 360 * n)
    cy = int((1 - math.asinh(math.tan(math.radians(CENTRE[1]))) / math.pi) / 2 * n)
    coords = [(cx + dx, cy + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    times, sizes = [], []
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET jit = off")
        layer = tiles.tile_layer(conn, "places")
        for x, y in coords:  # warm the cache once
            tiles.tile(conn, layer, z, x, y)
        for k in range(samples):
            x, y = coords[k % len(coords)]
            t0 = time.perf_counter()
            data = tiles.tile(conn, layer, z, x, y)
            times.append((time.perf_counter() - t0) * 1000)
            sizes.append(len(data))
        features = conn.execute(
            "SELECT count(*) FROM place WHERE geom && ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326)",
            [z, cx, cy]).fetchone()[0]  # type: ignore[index]
    return statistics.median(times), int(features)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--places", type=int, default=300_000)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="alternating runs of each server; medians reported")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--tipg-python",
                    default=os.environ.get("GRIDMAP_TIPG_PYTHON", "/tmp/gridmap-tipg-venv/bin/python"))
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")
    tipg_python = args.tipg_python if Path(args.tipg_python).exists() else sys.executable
    if subprocess.run([tipg_python, "-c", "import tipg"], capture_output=True).returncode != 0:
        sys.exit(f"{tipg_python} has no tipg: see this script's docstring")

    procs: list[subprocess.Popen] = []
    with throwaway_cluster("gridmap-bench-ogc-") as cluster:
        root = cluster.root
        try:
            # TiPg's settings need a URL with a host, so both servers reach PostgreSQL over loopback TCP.
            with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as admin:
                admin.execute("ALTER SYSTEM SET listen_addresses = '127.0.0.1'")
            cluster.stop()
            cluster.start()
            migrated_database(cluster, "bench")
            conninfo = f"host=127.0.0.1 port={cluster.port} user=gridmap dbname=bench"
            with psycopg.connect(conninfo) as conn:
                t0 = time.perf_counter()
                load_places(conn, args.places)
                print(f"loaded {args.places:,} places in {time.perf_counter() - t0:.1f} s")
                # gridmap answers only signed-in users: the load carries an inspector's bearer token
                # (TiPg has no sign-in, so gridmap does that extra work on every request).
                create_user(conn, "bench-inspector", "bench-password-1")
                grant(conn, "bench-inspector", "inspector")
                token, _ = issue_token(conn, "bench-inspector", "bench-password-1", DEFAULT_SECRET_KEY,
                                       timedelta(hours=2))

            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("GRIDMAP_", "TIPG_", "DATABASE_URL"))}
            g_port, t_port = free_port(), free_port()
            g_env = env | {"GRIDMAP_DATABASE_URL": conninfo, "GRIDMAP_DATA_DIR": str(root / "data")}
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
                 "--port", str(g_port), "--workers", "1", "--log-level", "warning", "--no-access-log"],
                cwd=REPO, env=g_env))
            dsn = f"postgresql://gridmap@127.0.0.1:{cluster.port}/bench"
            t_env = env | {"DATABASE_URL": dsn, "TIPG_DB_SCHEMAS": '["public"]',
                           "TIPG_DB_TABLES": '["public.place"]', "TIPG_DB_FUNCTIONS": "[]",
                           "TIPG_MAX_FEATURES_PER_QUERY": "10000", "TIPG_DB_MAX_CONN_SIZE": "8"}
            procs.append(subprocess.Popen(
                [tipg_python, "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port", str(t_port),
                 "--workers", "1", "--log-level", "warning", "--no-access-log"], cwd=root, env=t_env))
            g_base, t_base = f"http://127.0.0.1:{g_port}", f"http://127.0.0.1:{t_port}"
            wait_http(f"{g_base}/ogc/collections", headers={"Authorization": f"Bearer {token}"})
            wait_http(f"{t_base}/collections")
            with urllib.request.urlopen(f"{t_base}/collections") as r:
                tipg_ids = [c["id"] for c in json.loads(r.read())["collections"]]
            if "public.place" not in tipg_ids:
                sys.exit(f"TiPg does not serve public.place; it serves {tipg_ids}")

            boxes = bboxes(200)
            servers = {
                "gridmap": (g_base, f"/ogc/collections/places/items?limit={args.limit}&bbox="),
                "tipg": (t_base, f"/collections/public.place/items?limit={args.limit}&bbox="),
            }
            headers = {"gridmap": {"Authorization": f"Bearer {token}"}, "tipg": {}}
            # Same answers first: both must match the same number of places for the same box.
            for b in boxes[:5]:
                got = {}
                for name, (base, prefix) in servers.items():
                    request = urllib.request.Request(base + prefix + ",".join(map(str, b)),
                                                     headers=headers[name])
                    with urllib.request.urlopen(request) as r:
                        body = json.loads(r.read())
                    got[name] = (body["numberMatched"], len(body["features"]))
                assert got["gridmap"] == got["tipg"], got
            print(f"both servers agree on numberMatched/numberReturned for 5 boxes, e.g. {got['gridmap']}")

            for name, (base, prefix) in servers.items():  # warm-up
                run_wrk(base, prefix, boxes, args.threads, args.connections, 3, root, headers[name])
            results: dict[str, list[dict]] = {name: [] for name in servers}
            for _ in range(args.rounds):
                for name, (base, prefix) in servers.items():
                    results[name].append(run_wrk(base, prefix, boxes, args.threads, args.connections,
                                                 args.duration, root, headers[name]))
            print(f"\nitems?bbox=...&limit={args.limit}: wrk -t{args.threads} -c{args.connections} "
                  f"-d{args.duration}s, {args.rounds} alternating rounds, medians")
            summary = {}
            for name, runs in results.items():
                rps = statistics.median(r["rps"] for r in runs)
                p95 = statistics.median(r["p95_ms"] for r in runs)
                p50 = statistics.median(r["p50_ms"] for r in runs)
                errors = sum(r["errors"] for r in runs)
                summary[name] = (rps, p95)
                each = ", ".join(f"{r['rps']:.0f}" for r in runs)
                print(f"  {name:8s} {rps:8.1f} req/s   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms"
                      f"   errors {errors}   (runs: {each} req/s)")
            ratio_rps = summary["gridmap"][0] / summary["tipg"][0]
            ratio_p95 = summary["gridmap"][1] / summary["tipg"][1]
            print(f"  ratio gridmap/tipg: req/s x{ratio_rps:.2f} (>= 1 is the goal), "
                  f"p95 x{ratio_p95:.2f} (<= 1 is the goal)")

            print("\nST_AsMVT (gis.tiles.tile, places layer), median of 15 tiles around the centre:")
            for z in (12, 14):
                ms, features = tile_times(conninfo, z)
                print(f"  z{z}: {ms:7.1f} ms   ({features:,} places in the centre tile)")
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    main()
