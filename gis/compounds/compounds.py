"""Compounds: one made from a GeoJSON polygon, a file of them imported all or nothing (every row's
problems named, nothing written when any is wrong), reading them placed in their community and grid,
and the overlaps between them.

Polygons are judged with shapely before the database sees them, so a bad ring is a 422 naming the row
and the field (geometry) with the reason (e.g. "Self-intersection[...]"), never a database error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import shapely
from psycopg.rows import dict_row
from shapely.geometry import MultiPolygon, Polygon, shape

from gis.errors import Conflict, InvalidInput, NotFound, Problem, text_problems
from gis.sql_files import sql_text

LOCAL_TZ = "Asia/Shanghai"
REF = r"^[A-Za-z0-9_.:-]{1,60}$"
MAX_FEATURES = 20_000  # one district's compounds; larger files in parts
OVERLAP_MIN_M2 = 1.0  # below this, two digitised edges that do not quite agree
# Days outside these years are typing mistakes (and 9999-12-31 + 1 day overflows Python's date).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def today() -> date:
    return datetime.now(ZoneInfo(LOCAL_TZ)).date()


def day_problems(**days: date | None) -> list[Problem]:
    """The days given (by field name) that lie outside FIRST_DAY..LAST_DAY."""
    return [
        Problem(field, f"must lie between {FIRST_DAY} and {LAST_DAY}")
        for field, day in days.items()
        if day is not None and not FIRST_DAY <= day <= LAST_DAY
    ]


def check_day(**days: date | None) -> None:
    problems = day_problems(**days)
    if problems:
        raise InvalidInput(problems)


@dataclass(frozen=True)
class CompoundSpec:
    name: str
    geometry: Any  # GeoJSON geometry (dict), WGS 84
    management: str = "none"
    ref: str | None = None
    households: int | None = None
    note: str | None = None


def polygon_wkb(geometry: Any, row: int | None = None) -> tuple[bytes | None, list[Problem]]:
    """The geometry as MultiPolygon WKB, or the problems with it (field ``geometry``)."""

    def bad(reason: str) -> tuple[None, list[Problem]]:
        return None, [Problem("geometry", reason, row)]

    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return bad("must be a GeoJSON Polygon or MultiPolygon")
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError) as exc:
        return bad(f"not a readable polygon: {exc}")
    if geom.is_empty:
        return bad("must not be empty")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return bad("coordinates must be WGS 84 longitude/latitude (EPSG:4326)")
    if not geom.is_valid:
        return bad(f"invalid polygon: {shapely.is_valid_reason(geom)}")
    multi = (
        geom
        if isinstance(geom, MultiPolygon)
        else MultiPolygon([geom])
        if isinstance(geom, Polygon)
        else None
    )
    if multi is None:
        return bad("must be a GeoJSON Polygon or MultiPolygon")
    return shapely.to_wkb(multi), []


def _field_problems(
    conn: psycopg.Connection, specs: list[CompoundSpec], rows: list[int | None]
) -> tuple[list[bytes | None], list[Problem]]:
    managements = {r[0] for r in conn.execute("SELECT code FROM compound_management")}
    problems: list[Problem] = []
    wkbs: list[bytes | None] = []
    refs: dict[str, int | None] = {}
    for spec, row in zip(specs, rows, strict=True):
        problems += text_problems(
            {"name": spec.name, "ref": spec.ref, "note": spec.note, "management": spec.management}, row
        )
        if not isinstance(spec.name, str) or not spec.name.strip() or len(spec.name) > 200:
            problems.append(Problem("name", "1 to 200 characters", row))
        if spec.management not in managements:
            problems.append(Problem("management", f"one of {', '.join(sorted(managements))}", row))
        if spec.ref is not None:
            if not re.fullmatch(REF, str(spec.ref)):
                problems.append(Problem("ref", "1-60 letters, digits or . _ : -", row))
            elif spec.ref in refs:
                problems.append(Problem("ref", f"{spec.ref} appears twice in the file", row))
            refs[str(spec.ref)] = row
        if spec.households is not None and (not isinstance(spec.households, int) or spec.households < 0):
            problems.append(Problem("households", "a whole number of at least 0", row))
        if spec.note is not None and len(spec.note) > 2000:
            problems.append(Problem("note", "at most 2000 characters", row))
        wkb, geom_problems = polygon_wkb(spec.geometry, row)
        wkbs.append(wkb)
        problems += geom_problems
    taken = {r[0] for r in conn.execute("SELECT ref FROM compound WHERE ref = ANY(%s)", [list(refs)])}
    problems += [Problem("ref", f"{ref} is already stored", refs[ref]) for ref in sorted(taken)]
    return wkbs, problems


def _insert(conn: psycopg.Connection, specs: list[CompoundSpec], wkbs: list[bytes | None]) -> list[int]:
    try:
        with conn.transaction():
            return [
                r[0]
                for r in conn.execute(
                    """INSERT INTO compound (ref, name, management, households, note, geom)
                   SELECT f.ref, btrim(f.name), f.management, f.households, f.note,
                          ST_SetSRID(ST_GeomFromWKB(f.wkb), 4326)
                   FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::text[], %s::bytea[])
                        WITH ORDINALITY f(ref, name, management, households, note, wkb, n)
                   ORDER BY f.n RETURNING id""",
                    [
                        [s.ref for s in specs],
                        [s.name for s in specs],
                        [s.management for s in specs],
                        [s.households for s in specs],
                        [s.note for s in specs],
                        wkbs,
                    ],
                )
            ]
    except psycopg.errors.UniqueViolation:  # a ref stored meanwhile by someone else
        raise Conflict("a compound ref was stored by someone else at the same time; try again") from None


def create_compound(conn: psycopg.Connection, spec: CompoundSpec) -> dict[str, Any]:
    wkbs, problems = _field_problems(conn, [spec], [None])
    if problems:
        raise InvalidInput(problems)
    return get_compound(conn, _insert(conn, [spec], wkbs)[0])


def read_feature_collection(content: bytes) -> list[CompoundSpec]:
    """The compounds of a GeoJSON FeatureCollection (properties name, management, ref, households,
    note); structural problems raise InvalidInput naming the row (the feature's 1-based number)."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput.one("file", "not a GeoJSON file (not valid JSON)") from None
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise InvalidInput.one("file", "must be a GeoJSON FeatureCollection")
    features = data["features"]
    if not features:
        raise InvalidInput.one("file", "holds no feature")
    if len(features) > MAX_FEATURES:
        raise InvalidInput.one("file", f"at most {MAX_FEATURES} features at once")
    specs: list[CompoundSpec] = []
    problems: list[Problem] = []
    for n, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            problems.append(Problem("properties", "a feature needs its properties (name, management)", n))
            continue
        households, name = props.get("households"), props.get("name")
        specs.append(
            CompoundSpec(
                name=name if isinstance(name, str) else "",
                geometry=feature.get("geometry"),
                management=str(props.get("management") or "none"),
                ref=None if props.get("ref") in (None, "") else str(props.get("ref")),
                households=households,
                note=props.get("note") if isinstance(props.get("note"), str) else None,
            )
        )
    if problems:
        raise InvalidInput(problems)
    return specs


def import_compounds(conn: psycopg.Connection, specs: list[CompoundSpec]) -> dict[str, Any]:
    """Store every compound or none: InvalidInput lists every row's problems."""
    rows: list[int | None] = list(range(1, len(specs) + 1))
    wkbs, problems = _field_problems(conn, specs, rows)
    if problems:
        raise InvalidInput(problems)
    ids = _insert(conn, specs, wkbs)
    return {"imported": len(ids), "ids": ids, "overlaps": overlaps(conn, ids)}


def _placed(where: str) -> str:
    return f"SELECT * FROM ({sql_text('gis.compounds', 'placed')}) k WHERE {where}"


def get_compound(conn: psycopg.Connection, compound_id: int, on: date | None = None) -> dict[str, Any]:
    check_day(on=on)
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(
            f"SELECT k.*, ST_AsGeoJSON(c.geom, 7)::json AS geometry FROM ({_placed('k.id = %(id)s')}) k"
            " JOIN compound c ON c.id = k.id",
            {"id": compound_id, "on": on or today()},
        )
        .fetchone()
    )
    if row is None:
        raise NotFound("compound", compound_id)
    return row


def list_compounds(
    conn: psycopg.Connection,
    area: str | None = None,
    helped: bool | None = None,
    management: str | None = None,
    on: date | None = None,
) -> list[dict[str, Any]]:
    """The compounds in ``area`` (a street, community or grid code; None: all), with a current helper
    or not (``helped``), by name. Coverage figures count exactly these lists."""
    check_day(on=on)
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            _placed("""(%(area)s::text IS NULL OR k.grid_code = %(area)s
                    OR starts_with(k.community_code, %(area)s))
                   AND (%(helped)s::boolean IS NULL OR (k.helper_id IS NOT NULL) = %(helped)s)
                   AND (%(management)s::text IS NULL OR k.management = %(management)s)""")
            + " ORDER BY k.name, k.id",
            {"area": area, "helped": helped, "management": management, "on": on or today()},
        )
        .fetchall()
    )


def overlaps(
    conn: psycopg.Connection, among: list[int] | None = None, min_m2: float = OVERLAP_MIN_M2
) -> list[dict[str, Any]]:
    """Pairs of overlapping compounds (``among``: only pairs involving these ids)."""
    return (
        conn.cursor(row_factory=dict_row)
        .execute(sql_text("gis.compounds", "overlaps"), {"min_m2": min_m2, "among": among})
        .fetchall()
    )


def vocabulary(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return (
        conn.cursor(row_factory=dict_row)
        .execute("SELECT code, name_zh, name_en FROM compound_management ORDER BY code")
        .fetchall()
    )
