"""Benchmark: the school-perimeter check end to end (CLI and API, CSV) vs geopandas sjoin(dwithin).

City scale: 3,000 campus polygons and 300,000 places with a realistic category mix. Two shapes:
``dense`` (the default, issue 11's city: 22 x 22 km, most shops near a school without a valid
displayed licence: ~106,000 candidate pairs, ~52,000 violations) and ``sparse`` (30 x 30 km, most
shops licensed: ~7,800 violations). Runs on a throwaway cluster; gridmap is timed as a user meets it:
`gridmap check perimeter --format csv` as a new process writing the CSV, and
GET /perimeter/violations?format=csv against uvicorn (1 worker), the whole body read. The analyst is
timed in memory: from the rows (WKB) a query returned, and from GeoDataFrames already built. Prints
the medians of interleaved runs, the ratios, and whether every side found the same violations (same
place -> school, distances within 0.05 m).

    .venv/bin/python benchmarks/bench_perimeter.py [--shape dense|sparse] [--schools 3000] \
        [--places 300000] [--runs 5]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from _harness import REPO, free_port, migrated_database, throwaway_cluster
from pyproj import CRS, Transformer

from gis.access.accounts import create_user, grant, issue_token
from gis.settings import DEFAULT_SECRET_KEY

CENTRE = (113.015, 25.770)  # Chenzhou (郴州)
LEVELS = (["kindergarten", "primary", "middle", "high", "vocational"], [0.35, 0.35, 0.15, 0.08, 0.07])
CATEGORIES = (
    ["restaurant", "small_shop", "food_shop", "other", "tobacco", "mahjong_parlor", "lottery", "bar",
     "entertainment", "publication_shop", "internet_cafe", "game_hall"],
    [0.25, 0.20, 0.15, 0.20, 0.05, 0.04, 0.03, 0.02, 0.02, 0.02, 0.01, 0.01],
)
LICENSED = {"publication_shop", "food_shop", "small_shop"}
CHECK_DAY = date(2026, 6, 1)


def local_tm(lon: float, lat: float) -> CRS:
    return CRS.from_proj4(f"+proj=tmerc +lat_0={lat} +lon_0={lon} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m")


def synthetic_city(n_schools: int, n_places: int, centre: tuple[float, float] = CENTRE,
                   size_m: float = 30_000, seed: int = 7,
                   licence_mix: tuple[float, ...] = (0.85, 0.05, 0.05, 0.05)
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Schools (rotated rectangular campuses, 60-300 m a side), places and their licences.

    ``licence_mix``: the shares of licence-required shops whose licence is valid and displayed,
    expired, not displayed, and missing."""
    rng = np.random.default_rng(seed)
    to_lonlat = Transformer.from_crs(local_tm(*centre), "EPSG:4326", always_xy=True)
    half = size_m / 2
    cx, cy = rng.uniform(-half, half, n_schools), rng.uniform(-half, half, n_schools)
    w, h = rng.uniform(60, 300, n_schools), rng.uniform(60, 300, n_schools)
    angle = rng.uniform(0, np.pi, n_schools)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    polys = []
    for i in range(n_schools):
        xy = corners * [w[i], h[i]]
        c, s = np.cos(angle[i]), np.sin(angle[i])
        xy = xy @ np.array([[c, s], [-s, c]]) + [cx[i], cy[i]]
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        polys.append(shapely.Polygon(np.column_stack([lon, lat])))
    schools = gpd.GeoDataFrame({
        "ref": [f"S{i:05d}" for i in range(n_schools)],
        "name": [f"School {i}" for i in range(n_schools)],
        "level": rng.choice(LEVELS[0], n_schools, p=LEVELS[1]),
    }, geometry=polys, crs="EPSG:4326")
    px, py = rng.uniform(-half, half, n_places), rng.uniform(-half, half, n_places)
    lon, lat = to_lonlat.transform(px, py)
    places = gpd.GeoDataFrame({
        "ref": [f"P{i:06d}" for i in range(n_places)],
        "name": [f"Place {i}" for i in range(n_places)],
        "category": rng.choice(CATEGORIES[0], n_places, p=CATEGORIES[1]),
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    # Licences: most licensed shops are fine; some expired, some not displayed, some have none.
    lic = places.loc[places["category"].isin(LICENSED), ["ref"]].copy()
    state = rng.choice(["ok", "expired", "hidden", "none"], len(lic), p=list(licence_mix))
    lic = lic[state != "none"].copy()
    state = state[state != "none"]
    lic["kind"] = "business"
    lic["number"] = [f"L{i}" for i in range(len(lic))]
    lic["valid_until"] = np.where(state == "expired", CHECK_DAY - timedelta(days=30),
                                  CHECK_DAY + timedelta(days=365))
    lic["displayed"] = state != "hidden"
    return schools, places, lic.rename(columns={"ref": "place_ref"}).reset_index(drop=True)


def load(conn: psycopg.Connection, schools: gpd.GeoDataFrame, places: gpd.GeoDataFrame,
         licences: pd.DataFrame) -> None:
    """Bulk load through COPY (hex EWKB), the way the importer does."""
    with conn.cursor() as cur:
        with cur.copy("COPY school (ref, name, level, geom) FROM STDIN") as cp:
            for row in zip(schools["ref"], schools["name"], schools["level"],
                           shapely.to_wkb(shapely.set_srid(schools.geometry.values, 4326), hex=True,
                                          include_srid=True), strict=True):
                cp.write_row(row)
        with cur.copy("COPY place (ref, name, category, geom) FROM STDIN") as cp:
            for row in zip(places["ref"], places["name"], places["category"],
                           shapely.to_wkb(shapely.set_srid(places.geometry.values, 4326), hex=True,
                                          include_srid=True), strict=True):
                cp.write_row(row)
        cur.execute("CREATE TEMP TABLE lic_in (place_ref text, kind text, number text, valid_until date,"
                    " displayed boolean) ON COMMIT DROP")
        with cur.copy("COPY lic_in FROM STDIN") as cp:
            for row in licences.itertuples(index=False):
                cp.write_row(row)
        cur.execute("INSERT INTO licence (place_id, kind, number, valid_until, displayed)"
                    " SELECT p.id, l.kind, l.number, l.valid_until, l.displayed FROM lic_in l"
                    " JOIN place p ON p.ref = l.place_ref")
    conn.commit()
    conn.autocommit = True
    for table in ("school", "place", "licence", "ruled_place"):
        conn.execute(f"VACUUM ANALYZE {table}")
    conn.autocommit = False


def analyst_check(schools: gpd.GeoDataFrame, places: gpd.GeoDataFrame, licences: pd.DataFrame,
                  day: date, metric_crs: str = "EPSG:32649") -> pd.DataFrame:
    """The analyst's way on rows in memory: the national rules in pandas, sjoin(dwithin) in UTM 49N."""
    valid = licences[licences["displayed"] & (pd.to_datetime(licences["valid_until"]) >= pd.Timestamp(day))]
    suspect = (places["category"] == "internet_cafe") | (
        places["category"].isin(list(LICENSED)) & ~places["ref"].isin(valid["place_ref"].unique()))
    near = places[suspect].to_crs(metric_crs)
    protected = schools[schools["level"].isin(["primary", "middle"])].to_crs(metric_crs)
    pairs = gpd.sjoin(near, protected, predicate="dwithin", distance=200.0, how="inner")
    pairs["distance_m"] = shapely.distance(pairs.geometry.values,
                                           protected.geometry.loc[pairs["index_right"]].values)
    nearest = pairs.sort_values("distance_m").drop_duplicates("ref_left")
    return nearest.rename(columns={"ref_left": "place_ref", "ref_right": "school_ref"})[
        ["place_ref", "school_ref", "distance_m"]]


def frames_from_rows(school_rows: list[tuple], place_rows: list[tuple], licence_rows: list[tuple]
                     ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """The analyst's first step when the data arrives as rows (ref, name, kind, WKB): build frames."""
    def frame(rows: list[tuple], columns: list[str]) -> gpd.GeoDataFrame:
        table = pd.DataFrame(rows, columns=[*columns, "wkb"])
        return gpd.GeoDataFrame(table.drop(columns="wkb"), geometry=shapely.from_wkb(table["wkb"].to_numpy()),
                                crs="EPSG:4326")

    schools = frame(school_rows, ["ref", "name", "level"])
    places = frame(place_rows, ["ref", "name", "category"])
    licences = pd.DataFrame(licence_rows, columns=["place_ref", "kind", "number", "valid_until", "displayed"])
    return schools, places, licences


def compare(sql_rows: list[dict], analyst: pd.DataFrame, tolerance: float = 0.05) -> tuple[bool, str]:
    """Same place -> school pairs and distances within the tolerance (pairs within it of 200 m aside)."""
    ours = {r["place_ref"]: (r["school_ref"], r["distance_m"]) for r in sql_rows}
    theirs = {r.place_ref: (r.school_ref, r.distance_m) for r in analyst.itertuples(index=False)}
    only_ours = {k for k in ours.keys() - theirs.keys() if ours[k][1] < 200 - tolerance}
    only_theirs = {k for k in theirs.keys() - ours.keys() if theirs[k][1] < 200 - tolerance}
    both = ours.keys() & theirs.keys()
    other_school = [k for k in both if ours[k][0] != theirs[k][0]
                    and abs(ours[k][1] - theirs[k][1]) > tolerance]
    worst = max((abs(ours[k][1] - theirs[k][1]) for k in both), default=0.0)
    same = not (only_ours or only_theirs or other_school) and worst <= tolerance
    edge = len(ours.keys() ^ theirs.keys()) - len(only_ours) - len(only_theirs)
    return same, (f"{len(ours)} vs {len(theirs)} violations; only SQL {len(only_ours)}, only geopandas "
                  f"{len(only_theirs)}, other school {len(other_school)}, within {tolerance} m of the limit "
                  f"{edge}; max distance difference {worst:.4f} m")


def serve(url: str, root: Path) -> tuple[subprocess.Popen, str, dict[str, str]]:
    """gridmap under uvicorn (1 worker) on loopback, and an inspector's bearer token."""
    with psycopg.connect(url) as conn:
        create_user(conn, "bench-inspector", "bench-password-1")
        grant(conn, "bench-inspector", "inspector")
        token, _ = issue_token(conn, "bench-inspector", "bench-password-1", DEFAULT_SECRET_KEY,
                               timedelta(hours=2))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
    env |= {"GRIDMAP_DATABASE_URL": url, "GRIDMAP_DATA_DIR": str(root / "data")}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"],
        cwd=REPO, env=env)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{base}/perimeter/rules", headers=headers)):
                return server, base, headers
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.3)


def run_cli(url: str, root: Path, out: Path) -> float:
    """`gridmap check perimeter --format csv` as a user runs it: a new process, CSV to stdout (a file)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
    env |= {"GRIDMAP_DATABASE_URL": url, "GRIDMAP_DATA_DIR": str(root / "data")}
    started = time.perf_counter()
    with out.open("wb") as f:
        subprocess.run([sys.executable, "-m", "api.cli", "check", "perimeter", "--format", "csv", "--date",
                        CHECK_DAY.isoformat()], stdout=f, stderr=subprocess.DEVNULL, env=env, cwd=root,
                       check=True)
    return time.perf_counter() - started


def run_api(base: str, headers: dict[str, str], out: Path) -> float:
    """GET /perimeter/violations?format=csv, the whole (streamed) body read."""
    started = time.perf_counter()
    request = urllib.request.Request(f"{base}/perimeter/violations?format=csv&date={CHECK_DAY}",
                                     headers=headers)
    with urllib.request.urlopen(request) as r, out.open("wb") as f:
        while block := r.read(1 << 16):
            f.write(block)
    return time.perf_counter() - started


def csv_violations(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [{"place_ref": r["place_ref"], "school_ref": r["school_ref"],
                 "distance_m": float(r["distance_m"])} for r in csv.DictReader(f)]


SHAPES = {
    # The issue's city: dense, most ruled places near a school have no valid displayed licence
    # (~70,000 ruled places within 200 m, ~106,000 candidate pairs, ~52,000 violations).
    "dense": {"size_m": 22_000, "licence_mix": (0.25, 0.075, 0.075, 0.6)},
    # Spread out, most shops licensed: few violations (~7,800).
    "sparse": {"size_m": 30_000, "licence_mix": (0.85, 0.05, 0.05, 0.05)},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=3000)
    parser.add_argument("--places", type=int, default=300_000)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="dense")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from gis.perimeter.check import perimeter_violations

    with throwaway_cluster() as cluster:
        url = migrated_database(cluster)
        root = cluster.root
        schools, places, licences = synthetic_city(args.schools, args.places, **SHAPES[args.shape])
        with psycopg.connect(url) as conn:
            conn.execute("SET jit = off")
            started = time.perf_counter()
            load(conn, schools, places, licences)
            print(f"data ({args.shape}): {len(schools):,} school polygons, {len(places):,} places, "
                  f"{len(licences):,} licences (loaded in {time.perf_counter() - started:.1f} s)")
            # The rows as the analyst would hold them after a query: tuples with WKB geometries.
            school_rows = conn.execute("SELECT ref, name, level, ST_AsBinary(geom) FROM school").fetchall()
            place_rows = conn.execute("SELECT ref, name, category, ST_AsBinary(geom) FROM place").fetchall()
            licence_rows = conn.execute("SELECT p.ref, l.kind, l.number, l.valid_until, l.displayed"
                                        " FROM licence l JOIN place p ON p.id = l.place_id").fetchall()
            rows = perimeter_violations(conn, CHECK_DAY)  # also registers the local TM, committed below
        server, base, headers = serve(url, root)
        try:
            times: dict[str, list[float]] = {"cli": [], "api": [], "rows": [], "frames": []}
            analyst = from_rows = pd.DataFrame()
            cli_out, api_out = root / "cli.csv", root / "api.csv"
            run_cli(url, root, cli_out)  # warm-up: the caches of the server and the OS
            run_api(base, headers, api_out)
            for _ in range(args.runs):  # interleaved, so all sides see the same machine load
                times["cli"].append(run_cli(url, root, cli_out))
                times["api"].append(run_api(base, headers, api_out))
                started = time.perf_counter()
                from_rows = analyst_check(*frames_from_rows(school_rows, place_rows, licence_rows), CHECK_DAY)
                times["rows"].append(time.perf_counter() - started)
                started = time.perf_counter()
                analyst = analyst_check(schools, places, licences, CHECK_DAY)
                times["frames"].append(time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait(10)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{'':52}{'median':>9}  runs")
        for key, label in (("cli", "gridmap check perimeter --format csv (process)"),
                           ("api", "GET /perimeter/violations?format=csv (HTTP)"),
                           ("rows", "geopandas sjoin(dwithin), from WKB rows"),
                           ("frames", "geopandas sjoin(dwithin), from GeoDataFrames")):
            print(f"{label:52}{med[key]:8.3f}s  " + " ".join(f"{t:.3f}" for t in times[key]))
        print(f"ratio geopandas from rows / gridmap: CLI {med['rows'] / med['cli']:.2f}x, "
              f"API {med['rows'] / med['api']:.2f}x   (target: >= 1, gridmap at least as fast)")
        checks = {"check rows": compare(rows, analyst), "from rows": compare(rows, from_rows),
                  "CLI CSV": compare(csv_violations(cli_out), analyst),
                  "API CSV": compare(csv_violations(api_out), analyst)}
        same = all(ok for ok, _ in checks.values())
        print(f"same violations: {'yes' if same else 'NO'} ({checks['check rows'][1]})")
        for name, (ok, detail) in checks.items():
            if not ok:
                print(f"  {name}: {detail}")


if __name__ == "__main__":
    main()
