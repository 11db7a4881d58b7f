"""The wall map's data (一图上墙): a Sheet for a grid, a community, a school's perimeter or a street's
road sections, from the service's own tables, and the roads and buildings of its frame.

Everything is read under the caller's row-level security, as the web maps are (gis.maps.grids). The
public profile (a notice board) carries no resident's name and no tag: only the households' positions;
the office profile adds tag rings, border households and counts (never names or ID numbers either),
and rendering it is written to the audit log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import shapely
from shapely.geometry import Point, shape

from gis.access.audit import record
from gis.errors import InvalidInput, NotFound
from gis.maps import grids as mapdata
from gis.maps.street import check_street_code
from gis.maps.symbology import LABELS, PRINT_STYLES, TAG_STYLES, PrintStyle, unit_colours
from gis.maps.wallmap_sheet import PROFILES, Households, Sheet, SheetLayer, check_paper, plan
from gis.perimeter.mapdata import perimeter_map_data

# A sheet at 1:10,000 on A0 spans ~12 × 8 km: a city's buildings would make a PDF nobody can print.
MAX_BUILDINGS = 60_000
MAX_ROADS = 20_000

# The roads (with names) and buildings of the frame's box, clipped to it and simplified to ~0.2 mm
# of paper, as WKB: one statement.
_BASE = """
WITH box AS (SELECT ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326) AS b)
SELECT 'road' AS kind, r.name, ST_AsBinary(ST_Simplify(g, %(tol)s)) FROM (
    SELECT r.id, r.name, ST_CollectionExtract(ST_ClipByBox2D(r.geom, box.b), 2) AS g
    FROM road r CROSS JOIN box WHERE r.geom && box.b ORDER BY r.id LIMIT %(max_roads)s) r
WHERE NOT ST_IsEmpty(r.g)
UNION ALL
SELECT 'building', NULL, ST_AsBinary(ST_SimplifyPreserveTopology(g, %(tol)s)) FROM (
    SELECT b.id, ST_CollectionExtract(ST_ClipByBox2D(b.geom, box.b), 3) AS g
    FROM building b CROSS JOIN box WHERE b.geom && box.b ORDER BY b.id LIMIT %(max_buildings)s) b
WHERE NOT ST_IsEmpty(b.g)
"""

# The workers of these grids with their public service phones (migration 024): never the personal one.
_WORKERS = """
SELECT g.name, gw.name, coalesce(gw.service_phone, ''), wg.role
FROM grid_worker_grid wg JOIN grid_worker gw ON gw.id = wg.worker_id JOIN grid g ON g.code = wg.grid_code
WHERE wg.grid_code = ANY(%(grids)s)
ORDER BY wg.grid_code, wg.role DESC, gw.name
"""

# The live sections of a street (communities coded under it) with their holder on a day.
_SECTIONS = """
SELECT s.code, s.road_name, ST_AsBinary(s.geom), u.id, u.name, s.length_m
FROM road_section s
LEFT JOIN road_section_assignment a ON a.section_id = s.id AND a.valid @> %(on)s::date
LEFT JOIN responsible_unit u ON u.id = a.unit_id
WHERE s.retired_on IS NULL AND starts_with(s.community_code, %(street)s)
ORDER BY s.code
"""


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise InvalidInput.one("profile", f"must be one of {', '.join(PROFILES)}")
    return profile


def _layer(key: str, geoms: list[Any], names: list[str | None] | None = None, label: str | None = None,
           style: PrintStyle | None = None) -> SheetLayer:
    return SheetLayer(key, geoms, style or PRINT_STYLES[key], LABELS.get(key) if label is None else label,
                      names)


def _people(conn: psycopg.Connection, grids: list[str], with_grid: bool) -> list[tuple[str, str]]:
    rows = conn.execute(_WORKERS, {"grids": grids}).fetchall()
    return [((f"{grid} " if with_grid else "") + name + ("（服务团队）" if role == "team" else ""),
             phone or "服务电话未登记") for grid, name, phone, role in rows]


def _households(data: mapdata.MapData) -> Households:
    hh = data.households
    return Households([h["lon"] for h in hh], [h["lat"] for h in hh], [h["placement"] for h in hh],
                      [h["tags"] for h in hh])


def _office_facts(data: mapdata.MapData) -> list[str]:
    """The counts an office sheet prints, "—" where the user's scopes do not hold the area whole."""
    c = {k: (str(v) if data.whole else "—") for k, v in data.counts.items()}
    return [f"住户 {c['households']} 户 · 人口 {c['persons']} 人",
            f"压线户 {c['border']} 户 · 界外户 {c['outside']} 户",
            *(f"{TAG_STYLES[t].label} {c[t]} 人" for t in data.tags)]


def _audit(conn: psycopg.Connection, sheet: Sheet, households: int) -> None:
    """An office sheet shows where tagged persons live: who printed one, and of what, is recorded."""
    if sheet.profile == "office":
        record(conn, "read", f"wallmap:{sheet.kind}", {"code": sheet.code, "profile": sheet.profile,
                                                       "households": households})


def grid_sheet(conn: psycopg.Connection, code: str, profile: str) -> Sheet:
    """A grid's sheet: its boundary bold, its neighbours thin, every household, its workers and phones."""
    check_profile(profile)
    data = mapdata.grid_map_data(conn, code, base=False)
    focus = [shape(f["geometry"]) for f in data.grids["features"] if f["properties"]["focus"]]
    others = [f for f in data.grids["features"] if not f["properties"]["focus"]]
    subtitle = [f"网格编码 {data.code}", f"{data.community_name}（社区 {data.community_code}）"]
    street = _street_name(conn, data.community_code)
    if street:
        subtitle.append(f"{street}（街道）")
    sheet = Sheet(
        kind="grid", code=code, profile=profile, title=f"{data.name} 网格图", subtitle=subtitle,
        area=focus[0],
        layers=[_layer("grid_neighbour", [shape(f["geometry"]) for f in others],
                       [f["properties"]["name"] for f in others]),
                _layer("grid_focus", focus, [data.name])],
        households=_households(data), tags=data.tags,
        people=_people(conn, [code], with_grid=False),
        facts=_office_facts(data) if profile == "office" else [f"住户 {len(data.households)} 户"])
    _audit(conn, sheet, len(data.households))
    return sheet


def community_sheet(conn: psycopg.Connection, code: str, profile: str) -> Sheet:
    """A community's sheet: its boundary bold, its grids (named), every household, each grid's workers."""
    check_profile(profile)
    data = mapdata.community_map_data(conn, code, base=False)
    grids = data.grids["features"]
    boundary = shape(data.community) if data.community else shapely.union_all([shape(f["geometry"])
                                                                                for f in grids])
    street = _street_name(conn, code)
    sheet = Sheet(
        kind="community", code=code, profile=profile, title=f"{data.name} 社区网格图",
        subtitle=[f"社区编码 {code} · 网格 {len(grids)} 个", *([f"{street}（街道）"] if street else [])],
        area=boundary,
        layers=[_layer("grid", [shape(f["geometry"]) for f in grids],
                       [f["properties"]["name"] for f in grids]),
                _layer("community", [boundary.boundary])],
        households=_households(data), tags=data.tags,
        people=_people(conn, [f["properties"]["code"] for f in grids], with_grid=True),
        facts=_office_facts(data) if profile == "office" else [f"住户 {len(data.households)} 户"])
    _audit(conn, sheet, len(data.households))
    return sheet


def school_sheet(conn: psycopg.Connection, school: str, profile: str, day: date | None = None) -> Sheet:
    """A school's perimeter: the campus, its zone (200 m or the rule in force, true on the ground), the
    violating places and the compliant ones; an office sheet names the violators. The workers are
    those of the grid the campus lies in."""
    check_profile(profile)
    day = day or date.today()
    data = perimeter_map_data(conn, day, school)
    if not data["campuses"]["features"]:
        raise NotFound("school", school)
    campus = [shape(f["geometry"]) for f in data["campuses"]["features"]]
    zones = [shape(f["geometry"]) for f in data["zones"]["features"]]
    violations = [Point(v["lon"], v["lat"]) for v in data["violations"]]
    compliant = [shape(f["geometry"]) for f in data["compliant"]["features"]]
    name = data["school"]["name"] if data["school"] else school
    zone_m = max((f["properties"]["zone_m"] or 0 for f in data["zones"]["features"]), default=0)
    point = campus[0].representative_point()
    grid = conn.execute("SELECT code FROM grid"
                        " WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
                        " ORDER BY code LIMIT 1", [point.x, point.y]).fetchone()
    sheet = Sheet(
        kind="school", code=school, profile=profile, title=f"{name} 校园周边图",
        subtitle=[f"周边 {zone_m:g} 米（自校园边界起实地量算）", f"检查日期 {day.isoformat()}"],
        area=shapely.union_all(campus + zones + violations),
        layers=[_layer("zone", [z.boundary for z in zones]),
                _layer("campus", campus, [name for _ in campus]),
                _layer("compliant", compliant),
                _layer("violation", violations,
                       [v["place_name"] for v in data["violations"]] if profile == "office" else None)],
        people=_people(conn, [grid[0]], with_grid=False) if grid else [],
        facts=[f"违规场所 {len(violations)} 处 · 合规场所 {len(compliant)} 处"])
    _audit(conn, sheet, 0)
    return sheet


def sections_sheet(conn: psycopg.Connection, street: str, profile: str, day: date | None = None) -> Sheet:
    """The road sections of a street (communities coded under it), coloured by responsible unit, the
    unassigned ones red and dashed; the units with their lengths in the panel."""
    check_profile(profile)
    check_street_code(street)
    day = day or date.today()
    found = conn.execute("SELECT count(*), min(street_name) FROM community WHERE starts_with(code, %s)",
                         [street]).fetchone()
    if not found or not found[0]:
        raise NotFound("street", street)
    name = found[1] or f"街道 {street}"
    rows = conn.execute(_SECTIONS, {"street": street, "on": day}).fetchall()
    geoms = shapely.from_wkb([r[2] for r in rows]) if rows else []
    colours = unit_colours({(r[3], r[4]) for r in rows if r[3] is not None})
    layers, people = [], []
    for uid, colour in colours.items():
        mine = [i for i, r in enumerate(rows) if r[3] == uid]
        unit = rows[mine[0]][4]
        metres = sum(rows[i][5] for i in mine)
        layers.append(_layer(f"unit:{uid}", [geoms[i] for i in mine], label=f"{unit}（{len(mine)} 段）",
                             style=PrintStyle("line", colour, 1.2)))
        people.append((unit, f"{len(mine)} 段 {metres:,.0f} 米"))
    free = [i for i, r in enumerate(rows) if r[3] is None]
    if free:
        layers.append(_layer("unassigned", [geoms[i] for i in free],
                             label=f"{LABELS['unassigned']}（{len(free)} 段）"))
    area = shapely.union_all(list(geoms)) if rows else _street_area(conn, street)
    sheet = Sheet(kind="sections", code=street, profile=profile, title=f"{name} 责任路段图",
                  subtitle=[f"街道编码 {street}", f"日期 {day.isoformat()}"], area=area, layers=layers,
                  people_heading="责任单位", people=people,
                  facts=[f"路段 {len(rows)} 段 · 已分配 {len(rows) - len(free)} 段 · 单位 {len(colours)} 个"])
    _audit(conn, sheet, 0)
    return sheet


def _street_name(conn: psycopg.Connection, code: str) -> str | None:
    row = conn.execute("SELECT min(street_name) FROM community WHERE starts_with(code, %s)",
                       [code[:9]]).fetchone()
    return row[0] if row else None


def _street_area(conn: psycopg.Connection, street: str) -> Any:
    row = conn.execute("SELECT ST_AsBinary(ST_Union(geom)) FROM community WHERE starts_with(code, %s)",
                       [street]).fetchone()
    return shapely.from_wkb(row[0]) if row and row[0] else Point(0, 0)


def add_base(conn: psycopg.Connection, sheet: Sheet, box: tuple[float, float, float, float]) -> None:
    """The roads (named) and buildings of ``box`` under the sheet, simplified to ~0.2 mm of its paper."""
    assert sheet.layout is not None
    w, s, e, n = box
    tol_deg = 0.0002 * sheet.layout.scale / 111_000  # 0.2 mm of paper, in degrees
    rows = conn.execute(_BASE, {"w": w, "s": s, "e": e, "n": n, "tol": tol_deg, "max_roads": MAX_ROADS,
                                "max_buildings": MAX_BUILDINGS}).fetchall()
    geoms = shapely.from_wkb([r[2] for r in rows]) if rows else []
    buildings = [g for g, r in zip(geoms, rows, strict=True) if r[0] == "building"]
    roads = [(g, r[1]) for g, r in zip(geoms, rows, strict=True) if r[0] == "road"]
    sheet.base = [_layer("building", buildings), _layer("road", [g for g, _ in roads], [n for _, n in roads])]


KINDS = {"grid": grid_sheet, "community": community_sheet, "school": school_sheet, "sections": sections_sheet}


# The paper a sheet starts from when none is named: a grid fits A3 at 1:2,000 or so, a community or a
# street's roads want A1 on the wall.
SMALLEST_PAPER = {"grid": "A3", "school": "A3", "community": "A1", "sections": "A1"}


def build_sheet(conn: psycopg.Connection, kind: str, code: str, profile: str = "public",
                paper: str | None = None, scale: int | None = None, day: date | None = None) -> Sheet:
    """The sheet of ``kind`` for ``code`` on ``paper`` (None: the smallest from SMALLEST_PAPER up that
    holds it) at the largest scale that fits (or ``scale``), with its base: ready for
    gis.maps.wallmap.render_pdf."""
    check_paper(paper or "A4", scale)
    check_profile(profile)
    if kind not in KINDS:
        raise InvalidInput.one("kind", f"must be one of {', '.join(KINDS)}")
    if kind in ("school", "sections"):
        sheet = KINDS[kind](conn, code, profile, day)  # type: ignore[operator]
    else:
        sheet = KINDS[kind](conn, code, profile)  # type: ignore[operator]
    _layout, box = plan(sheet, paper, scale, SMALLEST_PAPER[kind])
    add_base(conn, sheet, box)
    return sheet
