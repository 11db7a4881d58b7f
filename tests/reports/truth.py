"""Reports with KNOWN owners (tests/reports/test_routing_truth.py and benchmarks/bench_reports.py): a
small street built from rectangles and straight roads, and 500 sightings placed where the owner follows
from the construction alone, never from the routing SQL.

The street (W = 0.004°, H = 0.003°, ~400 m x 333 m at 23°N):

    community C1 (street S1): x 0..2W, y 0..2.5H, grids 2 x 2 (W x H each) in y 0..2H
    community C2 (street S1): x 2W..5W, y 0..2H, grids 2 x 2 in x 2W..4W (the strip 4W..5W: no grid)
    community C3 (street S2): x 0..2W, y -3H..-H, no grid

Grid (i, j) (column, row) has code community + 3 digits: (i % 2) + 2j + 1. Grid (1, 1) has no worker,
grid (2, 0) only a 'team' member (not a worker, so not staffed): their reports go to the community.
Roads: two west-east lines at y = (j + 0.5)H over x 0..4W and four south-north lines at x = (i + 0.5)W
over y 0..2H, cut into sections at every crossing (22 sections); every point is >= 40 m from every
section but the ones its case is about. A retired section lies under the second
section of the first road (lower id, an assignment of its own): routing must never see it.

Assignments, by section number k (creation order): k % 4 == 3 none; k % 4 == 2 a unit until CHANGE
only; else unit k % 3 until CHANGE and unit (k + 1) % 3 from CHANGE on.

Offsets from a section (29.9 m, 30.1 m, 10 m) are measured along the normal of the section's geodesic
at the foot, with pyproj.Geod on the WGS 84 ellipsoid. Outside every community, five points in the
corner between C1 and C2 are nearer C2 in degrees but nearer C1 in metres (Geod again): the nearest
community is the nearest on the ellipsoid.

Each rule of routing, changed by one step (reach 30.2 m, retired sections seen, the day ignored, a
'team' member staffing a grid, the highest code on a border, the highest section id on a tie, nearest
by degrees), makes 5 to 88 of the 500 wrong (measured by replacing report_owners() in a transaction).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import psycopg
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
W, H = 0.004, 0.003
CHANGE = date(2026, 3, 2)  # the day the assignments change hands
DAYS = (CHANGE - timedelta(days=1), CHANGE, CHANGE + timedelta(days=1))
STREET_CATEGORIES = ("litter", "street_vending", "illegal_parking")  # handler 'street'
GRID_CATEGORIES = ("noise", "smoking")  # handler 'grid'
REACH_M = 30.0


@dataclass(frozen=True)
class Section:
    id: int
    k: int  # creation order
    a: tuple[float, float]
    b: tuple[float, float]
    before: int | None  # unit until CHANGE
    after: int | None  # unit from CHANGE on

    def unit_on(self, day: date) -> int | None:
        return self.before if day < CHANGE else self.after


@dataclass(frozen=True)
class Case:
    """A sighting and its owner as the construction says: kind, unit, routed grid, community."""

    id: int
    lon: float
    lat: float
    category: str
    day: date
    what: str
    kind: str
    unit: int | None
    grid: str | None
    community: str
    section: int | None = None  # the routing evidence: the section within reach (street matters)
    metres: float | None = None  # and how far, by construction


@dataclass
class TruthWorld:
    x0: float
    y0: float
    street: str  # S1 (C1, C2)
    c1: str
    c2: str
    c3: str  # street S2
    tag: str
    grids: dict[tuple[int, int], str] = field(default_factory=dict)
    staffed: set[str] = field(default_factory=set)
    sections: list[Section] = field(default_factory=list)
    units: list[int] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)

    def community_of(self, i: int) -> str:
        return self.c1 if i < 2 else self.c2


def build(conn: psycopg.Connection, x0: float = 111.0, y0: float = 23.0, n: int = 901,
          seed: int = 14) -> TruthWorld:
    """Insert the street (as the owner; nothing committed here) and make its 500 cases."""
    street, other = f"440199{n:03d}", f"440199{n + 1:03d}"
    w = TruthWorld(x0, y0, street, street + "001", street + "002", other + "001", f"truth{n}")
    one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
    boxes = {w.c1: (x0, y0, x0 + 2 * W, y0 + 2.5 * H), w.c2: (x0 + 2 * W, y0, x0 + 5 * W, y0 + 2 * H),
             w.c3: (x0, y0 - 3 * H, x0 + 2 * W, y0 - H)}
    for code, box in boxes.items():
        conn.execute("INSERT INTO community (code, name, geom)"
                     " VALUES (%s, %s, ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))", [code, code, *box])
    for i in range(4):
        for j in range(2):
            code = f"{w.community_of(i)}{i % 2 + 2 * j + 1:03d}"
            w.grids[i, j] = code
            conn.execute("INSERT INTO grid (code, community_code, name, geom)"
                         " VALUES (%s, %s, %s, ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
                         [code, w.community_of(i), code, x0 + i * W, y0 + j * H, x0 + (i + 1) * W,
                          y0 + (j + 1) * H])
            role = None if (i, j) == (1, 1) else "team" if (i, j) == (2, 0) else "worker"
            if role:
                conn.execute("WITH wk AS (INSERT INTO grid_worker (name, ref) VALUES (%s, %s) RETURNING id)"
                             " INSERT INTO grid_worker_grid (worker_id, grid_code, role)"
                             " SELECT id, %s, %s FROM wk", [code, f"{w.tag}-{code}", code, role])
                if role == "worker":
                    w.staffed.add(code)
    w.units = [one("INSERT INTO responsible_unit (name) VALUES (%s) RETURNING id", [f"{w.tag} unit {u}"])
               for u in range(4)]  # the fourth holds only the retired section
    xs = [x0 + (i + 0.5) * W for i in range(4)]
    ys = [y0 + (j + 0.5) * H for j in range(2)]
    h_breaks = [x0, *xs, x0 + 4 * W]
    v_breaks = [y0, *ys, y0 + 2 * H]

    def road(ref: str, a: tuple[float, float], b: tuple[float, float]) -> int:
        return one("INSERT INTO road (ref, name, geom) VALUES (%s, %s,"
                   " ST_MakeLine(ST_Point(%s, %s, 4326), ST_Point(%s, %s, 4326))) RETURNING id",
                   [f"{w.tag}-{ref}", ref, *a, *b])

    def section(road_id: int, code: str, a: tuple[float, float], b: tuple[float, float],
                retired: date | None = None) -> int:
        return one("INSERT INTO road_section (road_id, code, road_name, length_m, retired_on, geom)"
                   " SELECT %s, %s, 'r', ST_Length(g::geography), %s, g"
                   " FROM ST_MakeLine(ST_Point(%s, %s, 4326), ST_Point(%s, %s, 4326)) g RETURNING id",
                   [road_id, f"{w.tag}-{code}", retired, *a, *b])

    # the retired section first: the lowest id, at distance 0 from everything on the section it lies under
    a, b = (h_breaks[1], ys[0]), (h_breaks[2], ys[0])
    retired = section(road("old", a, b), "old-001", a, b, CHANGE - timedelta(days=200))
    conn.execute("INSERT INTO road_section_assignment (section_id, unit_id, valid)"
                 " VALUES (%s, %s, daterange(%s, NULL))", [retired, w.units[3], CHANGE - timedelta(days=400)])
    lines = [(f"h{j}", [(x, ys[j]) for x in h_breaks]) for j in range(2)]
    lines += [(f"v{i}", [(xs[i], y) for y in v_breaks]) for i in range(4)]
    k = 0
    for ref, points in lines:
        road_id = road(ref, points[0], points[-1])
        for s, (a, b) in enumerate(zip(points, points[1:], strict=False)):
            sid = section(road_id, f"{ref}-{s + 1:03d}", a, b)
            before = None if k % 4 == 3 else w.units[k % 3]
            after = None if k % 4 in (2, 3) else w.units[(k + 1) % 3]
            if before is not None:
                conn.execute("INSERT INTO road_section_assignment (section_id, unit_id, valid)"
                             " VALUES (%s, %s, daterange(%s, %s))",
                             [sid, before, CHANGE - timedelta(days=100), CHANGE])
            if after is not None:
                conn.execute("INSERT INTO road_section_assignment (section_id, unit_id, valid)"
                             " VALUES (%s, %s, daterange(%s, NULL))", [sid, after, CHANGE])
            w.sections.append(Section(sid, k, a, b, before, after))
            k += 1
    w.cases = list(_cases(w, random.Random(seed), xs, ys))
    assert len(w.cases) == 500, len(w.cases)
    return w


def remove(conn: psycopg.Connection, w: TruthWorld) -> None:
    """Remove the street (sections and assignments cascade with their roads)."""
    conn.execute("DELETE FROM road WHERE ref LIKE %s", [f"{w.tag}-%"])
    conn.execute("DELETE FROM responsible_unit WHERE name LIKE %s", [f"{w.tag} %"])
    conn.execute("DELETE FROM grid_worker WHERE ref LIKE %s", [f"{w.tag}-%"])
    conn.execute("DELETE FROM grid WHERE code = ANY (%s)", [list(w.grids.values())])
    conn.execute("DELETE FROM community WHERE code = ANY (%s)", [[w.c1, w.c2, w.c3]])


def offset(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(x), float(y)


def foot_and_normal(s: Section, fraction: float) -> tuple[float, float, float]:
    """The point ``fraction`` along the section's geodesic and the azimuth of its left normal there."""
    az, _, length = GEOD.inv(s.a[0], s.a[1], s.b[0], s.b[1])
    x, y, back = GEOD.fwd(s.a[0], s.a[1], az, fraction * length)
    return float(x), float(y), (back + 180.0 - 90.0) % 360.0  # forward azimuth there, turned left


def _cases(w: TruthWorld, rng: random.Random, xs: list[float], ys: list[float]) -> Iterator[Case]:
    n = 0

    def case(lon: float, lat: float, category: str, day: date, what: str, section: Section | None,
             grid: str | None, community: str | None, nearest: str | None = None,
             metres: float | None = None) -> Case:
        """The owner by the rules: a street matter near a section held that day -> its unit; else a
        staffed grid; else the community containing; else the street queue of the nearest."""
        nonlocal n
        n += 1
        street_matter = section is not None and category in STREET_CATEGORIES
        unit = section.unit_on(day) if section is not None and street_matter else None
        home = w.community_of(_column(w, grid)) if grid else community
        if unit is not None:
            kind = "unit"
        elif grid in w.staffed:
            kind = "grid"
        elif home is not None:
            kind = "community"
        else:
            kind = "street"
        return Case(n, lon, lat, category, day, what, kind, unit, grid, home or nearest or "",
                    section.id if section is not None and street_matter else None,
                    metres if street_matter else None)

    def grid_at(lon: float, lat: float) -> str:  # a point well inside the lattice
        return w.grids[math.floor((lon - w.x0) / W), math.floor((lat - w.y0) / H)]

    def any_category() -> str:
        return rng.choice(STREET_CATEGORIES + GRID_CATEGORIES)

    # 1. junctions: distance 0 to four sections, the lowest id decides (48)
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            meeting = [s for s in w.sections if (x, y) in (s.a, s.b)]
            assert len(meeting) == 4
            nearest = min(meeting, key=lambda s: s.id)
            for day in DAYS:
                for category in (rng.choice(STREET_CATEGORIES), rng.choice(GRID_CATEGORIES)):
                    yield case(x, y, category, day, f"junction {i},{j}", nearest, w.grids[i, j], None,
                               metres=0.0)
    # 2. 29.9 m and 30.1 m off each section, both sides, a quarter and three quarters along (176)
    for s in w.sections:
        for fraction in (0.25, 0.75):
            fx, fy, left = foot_and_normal(s, fraction)
            for side in (0.0, 180.0):
                for metres in (29.9, 30.1):
                    x, y = offset(fx, fy, (left + side) % 360, metres)
                    yield case(x, y, rng.choice(STREET_CATEGORIES), rng.choice(DAYS),
                               f"{metres} m off section {s.k}", s if metres < REACH_M else None,
                               grid_at(x, y), None, metres=metres)
    # 3. 10 m off each section, the day before, of and after the change (66)
    for s in w.sections:
        fx, fy, left = foot_and_normal(s, 0.4)
        x, y = offset(fx, fy, left, 10.0)
        for day in DAYS:
            yield case(x, y, rng.choice(STREET_CATEGORIES), day, f"10 m off section {s.k} on {day}", s,
                       grid_at(x, y), None, metres=10.0)
    # 4. grid borders, far from roads: on the border (the lowest code: west, south) and 1 m inside
    # each side (120)
    for k in (1, 2, 3):
        bx = w.x0 + k * W
        for j in range(2):
            for by in (w.y0 + (j + 0.15) * H, w.y0 + (j + 0.85) * H):
                west, east = w.grids[k - 1, j], w.grids[k, j]
                spots = ((bx, by, west, "on"), (*offset(bx, by, 270.0, 1.0), west, "1 m west of"),
                         (*offset(bx, by, 90.0, 1.0), east, "1 m east of"))
                for x, y, grid, where in spots:
                    for category in (rng.choice(STREET_CATEGORIES), rng.choice(GRID_CATEGORIES)):
                        yield case(x, y, category, rng.choice(DAYS), f"{where} border x={k} row {j}", None,
                                   grid, None)
    by = w.y0 + H
    for i in range(4):
        for bx in (w.x0 + (i + 0.15) * W, w.x0 + (i + 0.85) * W):
            south, north = w.grids[i, 0], w.grids[i, 1]
            spots = ((bx, by, south, "on"), (*offset(bx, by, 180.0, 1.0), south, "1 m south of"),
                     (*offset(bx, by, 0.0, 1.0), north, "1 m north of"))
            for x, y, grid, where in spots:
                for category in (rng.choice(STREET_CATEGORIES), rng.choice(GRID_CATEGORIES)):
                    yield case(x, y, category, rng.choice(DAYS), f"{where} border y=1 column {i}", None,
                               grid, None)
    # 5. inside a community, outside every grid (40): C1's northern strip (5 of them 1 m above the
    # grids), C2's eastern strip, inside C3
    strip = [offset(w.x0 + (0.05 + m * 0.07) * W, w.y0 + 2 * H, 0.0, 1.0) for m in range(5)]
    strip += [(w.x0 + rng.uniform(0.1, 1.9) * W, w.y0 + rng.uniform(2.2, 2.4) * H) for _ in range(10)]
    for x, y in strip:
        yield case(x, y, any_category(), rng.choice(DAYS), "C1 north of its grids", None, None, w.c1)
    for _ in range(15):
        yield case(w.x0 + rng.uniform(4.2, 4.8) * W, w.y0 + rng.uniform(0.1, 1.9) * H, any_category(),
                   rng.choice(DAYS), "C2 east of its grids", None, None, w.c2)
    for _ in range(10):
        yield case(w.x0 + rng.uniform(0.1, 1.9) * W, w.y0 + rng.uniform(-2.9, -1.1) * H, any_category(),
                   rng.choice(DAYS), "inside C3", None, None, w.c3)
    # 6. outside every community (50): the nearest by construction
    outside = (
        [(w.x0 + rng.uniform(0.1, 1.5) * W, w.y0 - 0.3 * H, w.c1, "100 m south of C1") for _ in range(8)]
        + [(w.x0 + rng.uniform(0.1, 1.9) * W, w.y0 - 0.7 * H, w.c3, "100 m north of C3") for _ in range(8)]
        + [(w.x0 + 5.3 * W, w.y0 + rng.uniform(0.2, 1.8) * H, w.c2, "120 m east of C2") for _ in range(8)]
        + [(w.x0 + rng.uniform(3.0, 4.8) * W, w.y0 + 2.3 * H, w.c2, "100 m north of C2") for _ in range(3)]
        + [_corner(w, dy) for dy in (0.00093, 0.00094, 0.00095, 0.00096, 0.00097)]
        + [(w.x0 - 0.3 * W, w.y0 + rng.uniform(0.2, 2.3) * H, w.c1, "120 m west of C1") for _ in range(8)]
        + [(*offset(w.x0, w.y0 + f * H, 270.0, 1.0), w.c1, "1 m west of C1")
           for f in (0.15, 0.85, 1.15, 1.85, 2.3)]
        + [(*offset(w.x0 + f * W, w.y0, 180.0, 1.0), w.c2, "1 m south of C2")
           for f in (2.15, 2.85, 3.15, 3.85, 4.5)])
    for x, y, nearest, what in outside:
        yield case(x, y, any_category(), rng.choice(DAYS), what, None, None, None, nearest)


def _corner(w: TruthWorld, dy: float) -> tuple[float, float, str, str]:
    """A point 0.001° east of C1 and ``dy`` (< 0.001°) north of C2, in the corner between them: nearer
    C2 in degrees, yet nearer C1 in metres (a degree of longitude is shorter than one of latitude)."""
    x, y = w.x0 + 2 * W + 0.001, w.y0 + 2 * H + dy
    to_c1 = GEOD.inv(x, y, w.x0 + 2 * W, y)[2]  # to C1's east edge, due west
    to_c2 = GEOD.inv(x, y, x, w.y0 + 2 * H)[2]  # to C2's north edge, due south
    assert abs(to_c1 - to_c2) > 0.4, (to_c1, to_c2)
    return x, y, w.c1 if to_c1 < to_c2 else w.c2, f"corner {to_c1:.1f} m from C1, {to_c2:.1f} m from C2"


def _column(w: TruthWorld, grid: str) -> int:
    return next(i for (i, _), code in w.grids.items() if code == grid)


def sightings(w: TruthWorld) -> list:
    from gis.reports.routing import Sighting

    return [Sighting(c.id, c.lon, c.lat, c.category, c.day) for c in w.cases]


def wrong_owners(w: TruthWorld, rows: list[dict]) -> list[str]:
    """Every case whose routed owner (rows of gis.reports.routing.owners) differs from the construction's,
    and every section distance off by more than 1 cm."""
    got = {r["id"]: r for r in rows}
    wrong = []
    for c in w.cases:
        r = got.get(c.id)
        if r is None:
            wrong.append(f"#{c.id} {c.what}: not routed")
            continue
        want = (c.kind, c.unit, c.grid, c.community, c.section)
        have = (r["owner_kind"], r["unit_id"], r["routed_grid"], r["community_code"], r["routed_section"])
        if have != want:
            wrong.append(f"#{c.id} {c.what} ({c.category}, {c.day}): {have}, want {want}")
        elif c.metres is not None and c.section is not None and abs(r["routed_section_m"] - c.metres) > 0.01:
            wrong.append(f"#{c.id} {c.what}: {r['routed_section_m']:.4f} m, want {c.metres} m")
    return wrong
