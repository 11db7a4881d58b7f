"""Road coverage has one definition and one figure: the roads map's printed summary, GET /roads/coverage
and `gridmap roads coverage` agree with each other and with an independent computation (shapely noding
and pyproj ellipsoidal lengths over the sections fetched as the owner), on the demo street and on a
division whose borders carry roads. Assigning a section raises the assigned length by its length."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest
import shapely
from pyproj import Geod
from shapely import Point, wkb
from shapely.ops import substring

from gis.roads.cutting import cut_roads
from gis.settings import Settings
from tests.conftest import sign_in_admin

GEOD = Geod(ellps="WGS84")
ON = date(2026, 6, 1)
TOL_M = 0.1
SNAP_DEG = 1e-7  # the documented border tolerance (gis.roads.coverage.BORDER_SNAP_DEG), about 1 cm
GRIDMAP = str(Path(sys.executable).with_name("gridmap"))


@dataclass
class World:
    url: str
    settings: Settings
    client: object


def _world(fresh_database, tmp_path_factory, fill) -> Iterator[World]:
    from fastapi.testclient import TestClient

    from api.app import create_app

    url = fresh_database("gridmap_coverage")
    with psycopg.connect(url) as conn:
        fill(conn)
        cut_roads(conn, "intersections")
        conn.execute("INSERT INTO responsible_unit (name) VALUES ('市城管局')")
    settings = Settings(database_url=url, data_dir=tmp_path_factory.mktemp("data"), _env_file=None)
    token = sign_in_admin(url, settings)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        yield World(url, settings, client)


def _demo(conn: psycopg.Connection) -> None:
    from gis.demo.street import generate_street, load_demo

    load_demo(conn, generate_street())


# A division whose borders carry roads: community A (grids A1 west, A2 east) and community B east of
# it, one grid B1 covering only B's southern half. 边界路 runs along the A1/A2 border, 界河路 along the
# A/B border for half its length, 横街 crosses everything, 外环路 leaves every polygon.
A, B = "439901001001", "439901001002"
A1, A2, B1 = A + "001", A + "002", B + "001"
DIVISION = [
    ("community", A, "111.70 29.00, 111.72 29.02"), ("community", B, "111.72 29.00, 111.74 29.02"),
    ("grid", A1, "111.70 29.00, 111.71 29.02"), ("grid", A2, "111.71 29.00, 111.72 29.02"),
    ("grid", B1, "111.72 29.00, 111.74 29.01"),
]
BORDER_ROADS = [
    ("E1", "边界路", "LINESTRING(111.71 29.001, 111.71 29.019)"),
    ("E2", "界河路", "LINESTRING(111.72 29.004, 111.72 29.016, 111.725 29.018)"),
    ("E3", "横街", "LINESTRING(111.702 29.008, 111.738 29.008)"),
    ("E4", "外环路", "LINESTRING(111.735 29.015, 111.745 29.025)"),
]


def _border(conn: psycopg.Connection) -> None:
    for kind, code, box in DIVISION:
        (x0, y0), (x1, y1) = (map(float, corner.split()) for corner in box.split(","))
        env = f"ST_Multi(ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, 4326))"
        if kind == "community":
            conn.execute("INSERT INTO community (code, name, street_name, geom)"
                         f" VALUES (%s, %s, '边界街道', {env})", [code, f"社区{code[-1]}"])
        else:
            conn.execute(f"INSERT INTO grid (code, community_code, name, geom) VALUES (%s, %s, %s, {env})",
                         [code, code[:12], f"网格{code[-1]}"])
    for ref, name, wkt in BORDER_ROADS:
        conn.execute("INSERT INTO road (ref, name, geom) VALUES (%s, %s, ST_GeomFromText(%s, 4326))",
                     [ref, name, wkt])


@pytest.fixture(scope="module")
def demo(fresh_database, tmp_path_factory) -> Iterator[World]:
    yield from _world(fresh_database, tmp_path_factory, _demo)


@pytest.fixture(scope="module")
def border(fresh_database, tmp_path_factory) -> Iterator[World]:
    yield from _world(fresh_database, tmp_path_factory, _border)


# --- the independent computation ----------------------------------------------------------------

def _length(line) -> float:
    return GEOD.geometry_length(line)


def _breaks(line, polys) -> list[float]:
    """Distances along ``line`` where it may enter or leave a polygon: where it meets a border, and
    where a border vertex lies on it (a road leaving a border it ran along)."""
    ts = {0.0, line.length}
    for poly in polys:
        border = poly.boundary
        points = [*shapely.get_coordinates(line.intersection(border)), *(
            xy for xy in shapely.get_coordinates(border) if shapely.dwithin(line, Point(xy), SNAP_DEG))]
        ts.update(line.project(Point(xy)) for xy in points)
    return [t for t in sorted(ts) if 0 <= t <= line.length]


def expected(url: str, on: date) -> dict[str, dict]:
    """Coverage by the documented definition, from the rows as the owner reads them: sections noded
    at every polygon border by shapely, each piece's ellipsoidal length shared equally among the
    polygons within SNAP_DEG of its midpoint (None when none is)."""
    with psycopg.connect(url) as conn:
        sections = conn.execute(
            """SELECT s.id, s.code, s.street_name, ST_AsBinary(s.geom),
                      EXISTS (SELECT 1 FROM road_section_assignment a
                              WHERE a.section_id = s.id AND a.valid @> %s::date)
               FROM road_section s WHERE s.retired_on IS NULL""", [on]).fetchall()
        polygons = {level: [(code, wkb.loads(bytes(g))) for code, g in conn.execute(
            f"SELECT code, ST_AsBinary(geom) FROM {level}").fetchall()] for level in ("community", "grid")}
    out: dict[str, dict] = {level: defaultdict(lambda: [0.0, 0.0, set(), set()])
                            for level in ("total", "street", "community", "grid")}

    shares: dict[tuple, float] = defaultdict(float)

    def add(level, key, sid, metres, held):
        row = out[level][key]
        row[0] += metres
        row[1] += metres if held else 0.0
        shares[(level, key, sid)] += metres
        if shares[(level, key, sid)] >= 0.05:  # a section with a share of at least 5 cm
            row[2].add(sid)
            if not held:
                row[3].add(sid)

    code_of = {sid: code for sid, code, *_ in sections}
    for sid, _, street, geom, held in sections:
        line = wkb.loads(bytes(geom))
        whole = _length(line)
        add("total", None, sid, whole, held)
        add("street", street, sid, whole, held)
        for level, polys in polygons.items():
            near = [(code, poly) for code, poly in polys if shapely.dwithin(poly, line, SNAP_DEG)]
            for t0, t1 in itertools.pairwise(_breaks(line, [poly for _, poly in near])):
                mid = line.interpolate((t0 + t1) / 2)
                holders = [code for code, poly in near if shapely.dwithin(poly, mid, SNAP_DEG)] or [None]
                for code in holders:
                    add(level, code, sid, _length(substring(line, t0, t1)) / len(holders), held)
    return {level: {k: {"total_m": v[0], "assigned_m": v[1], "sections": len(v[2]),
                        "unassigned_sections": len(v[3]), "codes": {code_of[i] for i in v[2]}}
                    for k, v in rows.items() if v[0] >= 0.05}
            for level, rows in out.items()}


# --- the three clients --------------------------------------------------------------------------

def from_api(world: World, on: date) -> dict:
    r = world.client.get("/roads/coverage", params={"on": on.isoformat()})
    assert r.status_code == 200, r.text
    return r.json()


def from_map(world: World, on: date, community: str | None = None) -> dict:
    """The figures the map prints, the codes of the sections it draws and its legend's note."""
    params = {"on": on.isoformat()} | ({"community": community} if community else {})
    r = world.client.get("/maps/roads", params=params)
    assert r.status_code == 200, r.text
    figures = re.search(r"(\d+) 段 sections, 总长 total ([\d,.]+) m</div><div>已分配 assigned: ([\d,.]+) m",
                        r.text)
    assert figures, "the map prints no coverage summary"
    sections, total, assigned = figures.groups()
    drawn = re.findall(r'"properties": \{"code": "([^"]+)"', r.text)
    legend = re.search(r'<details open class="gridmap-box gridmap-legend">(.*?)</details>', r.text, re.S)
    assert legend, "the map has no legend"
    return {"sections": int(sections), "total_m": float(total.replace(",", "")),
            "assigned_m": float(assigned.replace(",", "")), "drawn": drawn, "legend": legend.group(1)}


def from_cli(world: World, on: date) -> dict[tuple[str, str | None], dict[str, float]]:
    env = os.environ | {"GRIDMAP_DATABASE_URL": world.url, "COLUMNS": "250", "NO_COLOR": "1"}
    done = subprocess.run([GRIDMAP, "roads", "coverage", "--on", on.isoformat()], capture_output=True,
                          text=True, env=env, cwd=world.settings.data_dir, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = {}
    for line in done.stdout.splitlines():
        cells = [c.strip() for c in re.split(r"[│|┃]", line)[1:-1]]
        if len(cells) == 7 and cells[0] in ("total", "street", "community", "grid"):
            key = None if cells[1] in ("", "(none)") else cells[1]
            rows[(cells[0], key)] = {"total_m": float(cells[2]), "assigned_m": float(cells[3]),
                                     "sections": int(cells[5]), "unassigned_sections": int(cells[6])}
    assert ("total", None) in rows, done.stdout
    return rows


def _api_rows(report: dict) -> dict[tuple[str, str | None], dict]:
    rows = {("total", None): report["total"]}
    for level in ("street", "community", "grid"):
        rows.update({(level, r["key"]): r for r in report[level]})
    return rows


def assert_all_agree(world: World, on: date) -> dict:
    truth = expected(world.url, on)
    want = {(level, key): row for level, rows in truth.items() for key, row in rows.items()}
    api = _api_rows(from_api(world, on))
    cli = from_cli(world, on)
    assert set(api) == set(want) == set(cli)
    for key, row in want.items():
        for field in ("total_m", "assigned_m"):
            assert api[key][field] == pytest.approx(row[field], abs=TOL_M), (key, field)
            assert cli[key][field] == pytest.approx(api[key][field], abs=0.01), (key, field)
        for field in ("sections", "unassigned_sections"):
            assert api[key][field] == row[field] == cli[key][field], (key, field)
    # at every level the parts add up to the whole: no section counted twice
    for level in ("street", "community", "grid"):
        assert sum(r["total_m"] for r in truth[level].values()) == pytest.approx(
            truth["total"][None]["total_m"], abs=0.01)
        assert sum(api[k]["total_m"] for k in api if k[0] == level) == pytest.approx(
            api[("total", None)]["total_m"], abs=0.1 * len(truth[level]))
    printed = from_map(world, on)
    for field in ("total_m", "assigned_m"):
        assert printed[field] == pytest.approx(want[("total", None)][field], abs=TOL_M)
        assert printed[field] == api[("total", None)][field]
    assert printed["sections"] == api[("total", None)]["sections"]
    assert set(printed["drawn"]) == want[("total", None)]["codes"]
    # each community's map draws exactly the sections its row counts, and prints that row
    for (level, key), row in want.items():
        if level != "community" or key is None:
            continue
        mapped = from_map(world, on, key)
        assert sorted(mapped["drawn"]) == sorted(row["codes"]), key
        assert mapped["sections"] == len(mapped["drawn"]) == api[(level, key)]["sections"], key
        for field in ("total_m", "assigned_m"):
            assert mapped[field] == pytest.approx(row[field], abs=TOL_M), (key, field)
            assert mapped[field] == api[(level, key)][field], (key, field)
        assert f"every section with length in community {key}" in mapped["legend"]
    return {"api": api, "map": printed}


def _assign(world: World, code: str) -> float:
    """Assign the section ``code`` through the API; its length as the owner reads it."""
    with psycopg.connect(world.url) as conn:
        sid, metres = conn.execute(
            "SELECT id, length_m FROM road_section WHERE code = %s AND retired_on IS NULL", [code]).fetchone()
        unit = conn.execute("SELECT id FROM responsible_unit WHERE name = '市城管局'").fetchone()[0]
    r = world.client.post(f"/sections/{sid}/assignments", json={"unit_id": unit, "valid_from": "2026-01-01"})
    assert r.status_code == 201, r.text
    return metres


def _assert_rise(world: World, before: dict, code: str) -> None:
    metres = _assign(world, code)
    after = assert_all_agree(world, ON)
    key = ("total", None)
    rise = after["api"][key]["assigned_m"] - before["api"][key]["assigned_m"]
    assert rise == pytest.approx(metres, abs=0.1)
    assert after["map"]["assigned_m"] - before["map"]["assigned_m"] == pytest.approx(metres, abs=0.1)
    assert after["api"][key]["total_m"] == before["api"][key]["total_m"]


# --- the tests ----------------------------------------------------------------------------------

def test_demo_street_agrees_on_map_api_and_cli(demo):
    before = assert_all_agree(demo, ON)
    with psycopg.connect(demo.url) as conn:
        total = conn.execute("SELECT sum(length_m) FROM road_section WHERE retired_on IS NULL").fetchone()[0]
        # the demo's roads follow grid borders: the case that was counted twice
        on_border = conn.execute(
            """SELECT s.code FROM road_section s JOIN grid g ON ST_Covers(ST_Boundary(g.geom), s.geom)
               WHERE s.retired_on IS NULL ORDER BY s.length_m DESC LIMIT 1""").fetchone()
    assert before["api"][("total", None)]["total_m"] == pytest.approx(total, abs=TOL_M)
    assert on_border, "the demo street has no section along a grid border"
    _assert_rise(demo, before, on_border[0])


def test_border_sections_are_shared_not_doubled(border):
    before = assert_all_agree(border, ON)
    api = before["api"]
    e1 = GEOD.line_length([111.71, 111.71], [29.001, 29.019])
    # 边界路 lies on the A1/A2 border along its whole length: half to each grid, wholly in community A
    with psycopg.connect(border.url) as conn:
        e1_sections = conn.execute(
            "SELECT count(*) FROM road_section WHERE retired_on IS NULL AND code LIKE 'E1-%'").fetchone()[0]
    assert e1_sections >= 1
    assert api[("grid", None)]["total_m"] > 0 and api[("community", None)]["total_m"] > 0  # 外环路 leaves
    assert api[("grid", A1)]["total_m"] + api[("grid", A2)]["total_m"] > e1  # A holds E1 and 横街's part
    _assert_rise(border, before, "E1-001")  # a section along a grid border: its length, once
    after = assert_all_agree(border, ON)
    e1_001 = next(s for s in _sections(border) if s[0] == "E1-001")[1]
    assert after["api"][("grid", A1)]["assigned_m"] == pytest.approx(e1_001 / 2, abs=0.1)
    assert after["api"][("grid", A2)]["assigned_m"] == pytest.approx(e1_001 / 2, abs=0.1)
    assert after["api"][("community", A)]["assigned_m"] == pytest.approx(e1_001, abs=0.1)
    # a section on the A/B community border, partly: its length once in the total
    code = next(c for c, _ in _sections(border) if c.startswith("E2-"))
    _assert_rise(border, after, code)
    community_map = from_map(border, ON, community=A)
    assert community_map["total_m"] == from_api(border, ON)["community"][0]["total_m"]
    # the section on the A/B border is drawn on both communities' maps (its length shared between
    # them), not only on the map of its "main" community
    b_map = from_map(border, ON, community=B)
    assert code in set(community_map["drawn"]) & set(b_map["drawn"])
    # a community nobody drew: nothing drawn, zeros printed, no error
    nowhere = from_map(border, ON, community=A[:-1] + "9")
    assert (nowhere["drawn"], nowhere["sections"], nowhere["total_m"]) == ([], 0, 0.0)


def _sections(world: World) -> list[tuple[str, float]]:
    with psycopg.connect(world.url) as conn:
        return conn.execute("SELECT code, length_m FROM road_section WHERE retired_on IS NULL ORDER BY code"
                            ).fetchall()
