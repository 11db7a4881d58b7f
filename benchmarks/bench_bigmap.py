"""Benchmark: the map of a whole street (街道一图) in headless Chromium, against naive folium.

A throwaway cluster holds two databases. "big": the demo street generator's 2,000 grids and
100,000 households (loaded through the importer) plus 300,000 places drawn with numpy and COPYed
in. "small": a street of 10,000 households, drawn both by our street map and by naive folium (one
``folium.Marker`` with a popup per household, Leaflet inlined so that it needs no network either).

"Interactive" = from navigation start until (1) the page set ``window.gridmapReady`` after its first
data load (grids drawn, counts drawn) and (2) a click on the feature nearest the map's centre has
opened its popup. For naive folium (2) alone: the marker nearest the centre is clicked as soon as
it exists. Every request off 127.0.0.1 is aborted (the network is cut). Prints HTML bytes, the bytes
of data loaded on demand for the first view and for a zoom-17 view, and medians of --runs.

    .venv/bin/python benchmarks/bench_bigmap.py                       # the issue's sizes (~2-3 min)
    .venv/bin/python benchmarks/bench_bigmap.py --grids 200 --households 10000 --places 30000 --runs 1
"""

from __future__ import annotations

import argparse
import io
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import Request, urlopen

import folium
import numpy as np
import psycopg
import shapely
from _harness import free_port, migrated_database, throwaway_cluster
from psycopg import sql

from gis.access import accounts
from gis.demo.street import generate_street, load_demo
from gis.perimeter.specs import PLACE_CATEGORIES
from gis.settings import Settings
from layers.shell import offline_map, render_html

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
STREET = "431003001"  # gis.demo's street code
USER, PASSWORD = "bench-admin", "bench password 123"
NAIVE_TIMEOUT_S = 60

_NEAREST = """([list]) => {
    const s = window.gridmapStreet, m = s.map, box = m.getContainer().getBoundingClientRect();
    const centre = m.getSize().divideBy(2);
    let best = null;
    for (const layer of s[list].getLayers ? s[list].getLayers() : s[list]) {
        const p = m.latLngToContainerPoint(layer.getLatLng());
        const d = p.distanceTo(centre);
        if (!best || d < best.d) best = {d: d, x: p.x + box.left, y: p.y + box.top};
    }
    return best && [best.x, best.y];
}"""
# Naive folium: the marker icon nearest the centre of the map, once markers exist.
_NAIVE_NEAREST = """() => {
    const icons = document.querySelectorAll('.leaflet-marker-icon');
    if (!icons.length) return null;
    const map = document.querySelector('.folium-map').getBoundingClientRect();
    const cx = map.left + map.width / 2, cy = map.top + map.height / 2;
    let best = null;
    for (const el of icons) {
        const r = el.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2, d = Math.hypot(x - cx, y - cy);
        if (!best || d < best.d) best = {d: d, x: x, y: y};
    }
    return [best.x, best.y];
}"""


def load_street(url: str, grids: int, households: int, places: int, secret: str) -> str:
    """The demo street (through the importer), ``places`` more places by COPY; an admin's token."""
    t = time.perf_counter()
    street = generate_street(communities=max(1, grids // 100), grids=grids, households=households,
                             persons=households * 3 // 2, schools=5, places=20)
    with psycopg.connect(url) as conn:
        load_demo(conn, street)
        conn.commit()
        t_demo = time.perf_counter() - t
        t = time.perf_counter()
        copy_places(conn, street.grids.total_bounds, places)
        conn.execute("ANALYZE")
        accounts.create_user(conn, USER, PASSWORD)
        accounts.grant(conn, USER, "admin", "")
        token, _ = accounts.issue_token(conn, USER, PASSWORD, secret, timedelta(hours=3))
        conn.commit()
        counts = conn.execute("SELECT (SELECT count(*) FROM grid), (SELECT count(*) FROM household), "
                              "(SELECT count(*) FROM person), (SELECT count(*) FROM place)").fetchone()
    assert counts is not None
    print(f"  data: {counts[0]} grids, {counts[1]} households, {counts[2]} persons, {counts[3]} places "
          f"(demo through the importer {t_demo:.1f} s, places by COPY {time.perf_counter() - t:.1f} s)")
    return token


def copy_places(conn: psycopg.Connection, bounds: np.ndarray, n: int) -> None:
    """``n`` places uniformly over the street's extent, in one COPY (hex EWKB geometries)."""
    rng = np.random.default_rng(300_000)
    minx, miny, maxx, maxy = bounds
    points = shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n))
    category = np.array(PLACE_CATEGORIES)[rng.integers(0, len(PLACE_CATEGORIES), n)]
    numbers = np.arange(1, n + 1).astype(str)
    wkb = shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True)
    lines = np.strings.add(np.strings.add("BENCH", numbers), "\t")
    for column in (np.strings.add("店铺", numbers), category, np.strings.add("基准路", numbers), wkb):
        lines = np.strings.add(np.strings.add(lines, column), "\t")
    buffer = io.StringIO("\n".join(s[:-1] for s in lines.tolist()) + "\n")
    statement = sql.SQL("COPY place (ref, name, category, address, geom) FROM STDIN")
    with conn.cursor() as cur, cur.copy(statement) as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    import uvicorn

    from api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def fetch(url: str, token: str) -> tuple[bytes, float]:
    t = time.perf_counter()
    with urlopen(Request(url, headers={"Authorization": f"Bearer {token}"})) as response:  # noqa: S310
        body = response.read()
    return body, time.perf_counter() - t


class Browser:
    def __init__(self, playwright) -> None:
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)

    def page(self, base_url: str | None, token: str | None):
        """A fresh context (no cache) whose requests off 127.0.0.1 and file: are aborted; ``bytes``
        counts the body bytes of every response by kind."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        if base_url and token:
            context.add_cookies([{"name": "gridmap_token", "value": token, "url": base_url}])
        page = context.new_page()
        page.blocked, page.data = [], []  # type: ignore[attr-defined]

        def route(r) -> None:
            url = r.request.url
            if url.startswith("file:") or urlparse(url).hostname == "127.0.0.1":
                r.continue_()
            else:
                page.blocked.append(url)  # type: ignore[attr-defined]
                r.abort()

        def response(r) -> None:
            if "/households?" in r.url or "/places?" in r.url:
                page.data.append(len(r.body()))  # type: ignore[attr-defined]

        page.route("**/*", route)
        page.on("response", response)
        return page


def ours(browser: Browser, base_url: str, token: str, runs: int) -> dict[str, float]:
    """Time to interactive (median), HTML and first-view data bytes, a zoom-17 view's data."""
    url = f"{base_url}/maps/street/{STREET}"
    html, build = fetch(url, token)
    times, first_view = [], 0
    for _ in range(runs):
        page = browser.page(base_url, token)
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_function("window.gridmapReady === true", timeout=60_000)
        x, y = page.evaluate(_NEAREST, ["counts"])
        page.mouse.click(x, y)
        page.wait_for_selector(".street-popup", timeout=10_000)
        times.append(time.perf_counter() - start)
        first_view = sum(page.data)
        assert not page.blocked, page.blocked
        page.context.close()
    # A zoom-17 view at the centre of the street (households and places): what zooming in costs.
    page = browser.page(base_url, token)
    page.goto(url, wait_until="commit")
    page.wait_for_function("window.gridmapReady === true", timeout=60_000)
    page.data.clear()
    t = time.perf_counter()
    page.evaluate("void window.gridmapStreet.map.setZoom(17)")
    page.wait_for_function("window.gridmapStreet.places.getLayers().length > 0", timeout=60_000)
    detail_s = time.perf_counter() - t
    shown = page.evaluate("[window.gridmapStreet.households.getLayers().length, "
                          "window.gridmapStreet.places.getLayers().length]")
    detail_bytes = sum(page.data)
    page.context.close()
    return {"build": build, "html": len(html), "first_view": first_view, "tti": statistics.median(times),
            "tti_all": times, "detail_s": detail_s, "detail_bytes": detail_bytes,
            "detail_households": shown[0], "detail_places": shown[1]}


def naive(browser: Browser, settings: Settings, folder: Path, runs: int) -> dict[str, object]:
    """One folium.Marker (with a popup) per household, Leaflet inlined; None = not interactive."""
    t = time.perf_counter()
    with psycopg.connect(settings.database_url or "") as conn:
        rows = conn.execute("SELECT ST_Y(geom), ST_X(geom), address FROM household ORDER BY id").fetchall()
        bbox = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                            "FROM (SELECT ST_Extent(geom)::geometry e FROM community) x").fetchone()
    assert bbox is not None
    m = offline_map(tuple(bbox), "naive folium", settings)  # type: ignore[arg-type]
    for lat, lon, address in rows:
        folium.Marker([lat, lon], popup=address).add_to(m)
    html = render_html(m, inline=True)
    build = time.perf_counter() - t
    path = folder / "naive.html"
    path.write_text(html, encoding="utf-8")
    times: list[float | None] = []
    for _ in range(runs):
        page = browser.page(None, None)
        start = time.perf_counter()
        try:
            page.goto(path.as_uri(), wait_until="commit", timeout=NAIVE_TIMEOUT_S * 1000)
            handle = page.wait_for_function(_NAIVE_NEAREST, timeout=NAIVE_TIMEOUT_S * 1000)
            x, y = handle.json_value()
            page.mouse.click(x, y)
            left = NAIVE_TIMEOUT_S * 1000 - (time.perf_counter() - start) * 1000
            page.wait_for_selector(".leaflet-popup-content", timeout=max(1000, left))
            times.append(time.perf_counter() - start)
        except Exception:  # noqa: BLE001 - a timeout: the page never became interactive
            times.append(None)
        page.context.close()
    done = [t for t in times if t is not None]
    return {"build": build, "html": len(html.encode()), "markers": len(rows),
            "tti": statistics.median(done) if len(done) == len(times) else None, "tti_all": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grids", type=int, default=2000)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--places", type=int, default=300_000)
    parser.add_argument("--naive", type=int, default=10_000, help="households of the side-by-side street")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with throwaway_cluster("gridmap-bench-bigmap-") as cluster:
        root = cluster.root
        urls = {name: migrated_database(cluster, f"bench_{name}") for name in ("big", "small")}
        settings = {name: Settings(database_url=url, data_dir=root / "data", _env_file=None)  # type: ignore[call-arg]
                    for name, url in urls.items()}
        print(f"big street: {args.grids} grids, {args.households} households, {args.places} places")
        big_token = load_street(urls["big"], args.grids, args.households, args.places,
                                settings["big"].secret_key)
        small_grids = max(10, args.grids * args.naive // args.households)
        print(f"small street: {small_grids} grids, {args.naive} households")
        small_places = args.places * args.naive // args.households
        small_token = load_street(urls["small"], small_grids, args.naive, small_places,
                                  settings["small"].secret_key)
        with sync_playwright() as p:
            browser = Browser(p)
            with serve(settings["big"]) as base:
                big = ours(browser, base, big_token, args.runs)
            with serve(settings["small"]) as base:
                small = ours(browser, base, small_token, args.runs)
            simple = naive(browser, settings["small"], root, args.runs)
            browser.browser.close()
        report(args, big, small, simple)


def report(args: argparse.Namespace, big: dict, small: dict, simple: dict) -> None:
    def mb(n: float) -> str:
        return f"{n / 1e6:.2f} MB"

    def secs(values: list) -> str:
        return ", ".join("timeout" if v is None else f"{v:.2f}" for v in values)

    print()
    print(f"street map, {args.grids} grids / {args.households} households / {args.places} places "
          f"(median of {args.runs}):")
    print(f"  page built in {big['build']:.2f} s, HTML {mb(big['html'])}, "
          f"first-view data {big['first_view']} B")
    print(f"  time to interactive {big['tti']:.2f} s  [{secs(big['tti_all'])}]")
    print(f"  zoom 17 at the centre: {big['detail_households']} households + {big['detail_places']} places, "
          f"{mb(big['detail_bytes'])} of data, drawn in {big['detail_s']:.2f} s")
    print()
    print(f"side by side, {simple['markers']} households:")
    naive_tti = (f"{simple['tti']:.2f} s" if simple["tti"] is not None
                 else f"did not become interactive in {NAIVE_TIMEOUT_S} s")
    print(f"  {'':24}{'build':>10}{'HTML':>12}{'interactive':>16}")
    print(f"  {'naive folium (Marker)':24}{simple['build']:>9.2f}s{mb(simple['html']):>12}{naive_tti:>16}"
          f"  [{secs(simple['tti_all'])}]")
    print(f"  {'street map (ours)':24}{small['build']:>9.2f}s{mb(small['html']):>12}{small['tti']:>15.2f}s"
          f"  [{secs(small['tti_all'])}]")
    if simple["tti"] is not None:
        print(f"  ratio naive/ours: build {simple['build'] / small['build']:.0f}x, HTML "
              f"{simple['html'] / small['html']:.0f}x, interactive {simple['tti'] / small['tti']:.1f}x")


if __name__ == "__main__":
    main()
