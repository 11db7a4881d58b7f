"""Places (经营场所) and schools (学校) one at a time: search, read, create and edit, with their checks.

The same rules as an import (gis/perimeter/specs.py), said where the user can act on them: a campus
that crosses itself names the ring and the point; a position outside the region says when swapping
lat and lon would put it inside; input in CGCS2000 (EPSG:4490) or GCJ-02 is converted to EPSG:4326 on
the way in (gis/crs.py). Categories and levels come from their vocabulary tables (code or Chinese name).

The tables carry no version column: an edit names the stored state it started from by a digest of the
row (and of a place's licences), so that a second editor's save is a Conflict instead of silently
undoing the first one's. ``scopes`` (code prefixes; None: everywhere) keep a writer to the
communities their grants cover: the community a place or campus lies in decides.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg.rows import dict_row
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from gis.crs import BBox, normalise_crs_name, to_wgs84
from gis.errors import Conflict, GridmapError, InvalidInput, NotFound, Problem, text_problems
from gis.perimeter.rules import category_code
from gis.perimeter.specs import GATE_REACH_M

MAX_TEXT = 200_000  # characters of GeoJSON/WKT: a campus of thousands of corners fits
MAX_CAMPUS_M2 = 20_000_000  # larger than any campus: coordinates in the wrong system
LICENCE_KIND = "营业执照"
_LOCATION = re.compile(r"\[\s*(-?[0-9.eE+-]+)\s+(-?[0-9.eE+-]+)\s*\]")

# The stored state an edit starts from (see the module's docstring): the row's text form tells NULL
# from '' and includes the geometry's bytes.
PLACE_VERSION = """md5(row(p.ref, p.name, p.category, p.address, ST_AsBinary(p.geom),
    (SELECT array_agg(row(l.id, l.kind, l.number, l.valid_until, l.displayed)::text ORDER BY l.id)
     FROM licence l WHERE l.place_id = p.id))::text)"""
SCHOOL_VERSION = "md5(row(s.ref, s.name, s.level, ST_AsBinary(s.geom), ST_AsBinary(s.gates))::text)"


class OutOfScope(GridmapError):
    """The place or school lies outside the communities the writer's grants cover."""


# --- geometry on the way in ------------------------------------------------------------------------

def parse_geometry(value: Any, field: str) -> BaseGeometry:
    """A GeoJSON geometry (object or text, a Feature's geometry too) or WKT, as shapely."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InvalidInput.one(field, "required: a GeoJSON geometry or WKT")
        if len(text) > MAX_TEXT:
            raise InvalidInput.one(field, f"at most {MAX_TEXT} characters")
        if not text.startswith("{"):
            try:
                return shapely.from_wkt(text)
            except shapely.errors.ShapelyError as exc:
                raise InvalidInput.one(field, f"neither GeoJSON nor WKT: {exc}") from None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput.one(field, f"not valid GeoJSON: {exc.msg} at character {exc.pos}") from None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict):
        raise InvalidInput.one(field, "not a GeoJSON geometry")
    try:
        return shape(value)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise InvalidInput.one(field, f"not a GeoJSON geometry ({exc})") from None


def _inside(bbox: BBox, geom: BaseGeometry) -> bool:
    minx, miny, maxx, maxy = geom.bounds
    return bbox[0] <= minx and maxx <= bbox[2] and bbox[1] <= miny and maxy <= bbox[3]


def to_region(geom: BaseGeometry, field: str, crs: str | None, bbox: BBox | None) -> BaseGeometry:
    """Finite coordinates inside the region, converted to EPSG:4326; a geometry outside the region
    that would be inside with lat and lon swapped says so."""
    try:
        name = normalise_crs_name(crs)
    except ValueError as exc:
        raise InvalidInput.one("crs", str(exc)) from None
    if geom.is_empty:
        raise InvalidInput.one(field, "must not be empty")
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise InvalidInput.one(field, "coordinates must be finite numbers")
    if bbox is not None and not _inside(bbox, geom):
        swapped = shapely.transform(geom, lambda xy: xy[:, ::-1])
        hint = ("; lat/lon look swapped: (lon, lat) expected" if _inside(bbox, swapped)
                else "; lon/lat in degrees expected")
        minx, miny = geom.bounds[:2]
        raise InvalidInput.one(field, f"({minx:.6f}, {miny:.6f}) is outside the region {tuple(bbox)}{hint}")
    if name != "EPSG:4326":
        geom = shapely.transform(geom, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], name)))
    return geom


def _where(reason: str) -> str:
    found = _LOCATION.search(reason)
    return f" at ({float(found[1]):.7f}, {float(found[2]):.7f})" if found else ""


def polygon_problem(geom: Polygon | MultiPolygon) -> str | None:
    """Why a campus polygon is invalid, naming the polygon and ring (outer boundary or hole n) and the
    point where it crosses itself; None when it is valid."""
    polygons = [geom] if isinstance(geom, Polygon) else list(geom.geoms)
    for i, polygon in enumerate(polygons, start=1):
        where = f"polygon {i}, " if len(polygons) > 1 else ""
        rings = [("outer boundary", polygon.exterior),
                 *((f"hole {j}", r) for j, r in enumerate(polygon.interiors, start=1))]
        for name, ring in rings:
            if len(set(ring.coords)) < 3:
                return f"{where}{name}: fewer than 3 distinct corners"
            if not ring.is_simple:
                reason = shapely.is_valid_reason(Polygon(ring))
                return f"{where}{name} crosses itself (self-intersection){_where(reason)}"
    if geom.is_valid:
        return None
    reason = shapely.is_valid_reason(geom)
    return f"invalid polygon: {reason.split('[')[0].strip()}{_where(reason)}"


def campus(value: Any, crs: str | None, bbox: BBox | None) -> BaseGeometry:
    """A school's geometry: a valid (Multi)Polygon, or a Point when no boundary is known."""
    geom = parse_geometry(value, "geometry")
    if not isinstance(geom, Polygon | MultiPolygon | Point):
        raise InvalidInput.one("geometry", f"a campus is a Polygon (or a Point when no boundary is known), "
                                           f"got {geom.geom_type}")
    geom = to_region(geom, "geometry", crs, bbox)
    if isinstance(geom, Polygon | MultiPolygon) and (problem := polygon_problem(geom)):
        raise InvalidInput.one("geometry", problem)
    return geom


def gate_points(value: Any, crs: str | None, bbox: BBox | None) -> MultiPoint | None:
    """Gates (校门): GeoJSON or WKT (Multi)Point, or 'lon,lat; lon,lat'; blank: none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and not value.strip().upper().startswith(("{", "POINT", "MULTIPOINT")):
        pairs = []
        for part in (p for p in value.split(";") if p.strip()):
            numbers = part.replace(",", " ").split()
            try:
                pairs.append((float(numbers[0]), float(numbers[1])) if len(numbers) == 2 else None)
            except ValueError:
                pairs.append(None)
        if not pairs or None in pairs:
            raise InvalidInput.one("gates", "gates are 'lon,lat; lon,lat', a GeoJSON MultiPoint or WKT")
        geom: BaseGeometry = MultiPoint(pairs)
    else:
        geom = parse_geometry(value, "gates")
    if isinstance(geom, Point):
        geom = MultiPoint([geom])
    if not isinstance(geom, MultiPoint):
        raise InvalidInput.one("gates", f"gates are points (MultiPoint), got {geom.geom_type}")
    converted = to_region(geom, "gates", crs, bbox)
    assert isinstance(converted, MultiPoint)
    return converted


def position(lon: Any, lat: Any, crs: str | None, bbox: BBox | None) -> Point:
    """A place's entrance from lon/lat numbers in an input CRS."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InvalidInput.one("lon", "lon and lat are required numbers (degrees)") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidInput.one("lon", "lon and lat must be finite numbers")
    geom = to_region(Point(x, y), "lon", crs, bbox)
    assert isinstance(geom, Point)
    return geom


# --- reading ---------------------------------------------------------------------------------------

def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_places(conn: psycopg.Connection, q: str | None = None, category: str | None = None,
                  limit: int = 50) -> dict[str, Any]:
    """Places whose name, address, ref or category (code or Chinese name) holds ``q``, with their
    licence's last day (``licence_until``: NULL none, 9999-12-31 no expiry)."""
    text = (q or "").strip() or None
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(
            """SELECT p.id, p.ref, coalesce(p.ref, p.id::text) AS key, p.name, p.category,
                      c.name_zh AS category_zh, c.name_en AS category_en, p.address,
                      ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat, l.until AS licence_until,
                      l.shown AS licence_displayed, count(*) OVER () AS total
               FROM place p JOIN place_category c ON c.code = p.category
               LEFT JOIN LATERAL (
                   SELECT max(coalesce(valid_until, DATE '9999-12-31')) AS until, bool_or(displayed) AS shown
                   FROM licence WHERE licence.place_id = p.id) l ON true
               WHERE (%(q)s::text IS NULL OR p.name ILIKE %(like)s OR p.address ILIKE %(like)s
                      OR p.ref ILIKE %(like)s OR c.name_zh ILIKE %(like)s OR c.code = %(q)s)
                 AND (%(category)s::text IS NULL OR p.category = %(category)s)
               ORDER BY p.name, p.id LIMIT %(limit)s""",
            {"q": text, "like": _like(text or ""), "category": category or None, "limit": limit}).fetchall()
    return {"total": found[0]["total"] if found else 0,
            "items": [{k: v for k, v in r.items() if k != "total"} for r in found]}


def search_schools(conn: psycopg.Connection, q: str | None = None, level: str | None = None,
                   limit: int = 50) -> dict[str, Any]:
    """Schools whose name, ref or level (code or Chinese name) holds ``q``."""
    text = (q or "").strip() or None
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(
            """SELECT s.id, s.ref, coalesce(s.ref, s.id::text) AS key, s.name, s.level,
                      v.name_zh AS level_zh, v.name_en AS level_en, GeometryType(s.geom) AS kind,
                      coalesce(ST_NumGeometries(s.gates), 0) AS gate_count, count(*) OVER () AS total
               FROM school s JOIN school_level v ON v.code = s.level
               WHERE (%(q)s::text IS NULL OR s.name ILIKE %(like)s OR s.ref ILIKE %(like)s
                      OR v.name_zh ILIKE %(like)s OR v.code = %(q)s)
                 AND (%(level)s::text IS NULL OR s.level = %(level)s)
               ORDER BY s.name, s.id LIMIT %(limit)s""",
            {"q": text, "like": _like(text or ""), "level": level or None, "limit": limit}).fetchall()
    return {"total": found[0]["total"] if found else 0,
            "items": [{k: v for k, v in r.items() if k != "total"} for r in found]}


def _key_id(conn: psycopg.Connection, table: str, key: str | int) -> int:
    """A place's or school's id from its ref or, failing that, its numeric id (as resolve_school)."""
    text = str(key)
    query = {"place": ("SELECT id FROM place WHERE ref = %s", "SELECT id FROM place WHERE id = %s"),
             "school": ("SELECT id FROM school WHERE ref = %s", "SELECT id FROM school WHERE id = %s")}[table]
    row = conn.execute(query[0], [text]).fetchone()
    if row is None and text.isdigit() and len(text) < 19:
        row = conn.execute(query[1], [int(text)]).fetchone()
    if row is None:
        raise NotFound(table, key)
    return int(row[0])


def get_place(conn: psycopg.Connection, key: str | int) -> dict[str, Any]:
    """One place with its licences (the first is the one the form edits) and its version."""
    place_id = _key_id(conn, "place", key)
    with conn.cursor(row_factory=dict_row) as cur:
        place = cur.execute(
            f"""SELECT p.id, p.ref, coalesce(p.ref, p.id::text) AS key, p.name, p.category,
                       c.name_zh AS category_zh, c.name_en AS category_en, p.address,
                       ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat, {PLACE_VERSION} AS version
                FROM place p JOIN place_category c ON c.code = p.category WHERE p.id = %s""",
            [place_id]).fetchone()
        assert place is not None
        place["licences"] = cur.execute(
            "SELECT id, kind, number, valid_until, displayed FROM licence WHERE place_id = %s ORDER BY id",
            [place_id]).fetchall()
    place["licence"] = place["licences"][0] if place["licences"] else None
    return place


def get_school(conn: psycopg.Connection, key: str | int) -> dict[str, Any]:
    """One school: its campus and gates as GeoJSON (EPSG:4326), its area and version."""
    school_id = _key_id(conn, "school", key)
    with conn.cursor(row_factory=dict_row) as cur:
        school = cur.execute(
            f"""SELECT s.id, s.ref, coalesce(s.ref, s.id::text) AS key, s.name, s.level,
                       v.name_zh AS level_zh, v.name_en AS level_en,
                       ST_AsGeoJSON(s.geom, 8)::json AS geometry, ST_AsGeoJSON(s.gates, 8)::json AS gates,
                       coalesce(ST_NumGeometries(s.gates), 0) AS gate_count,
                       ST_Area(s.geom::geography) AS area_m2, {SCHOOL_VERSION} AS version
                FROM school s JOIN school_level v ON v.code = s.level WHERE s.id = %s""",
            [school_id]).fetchone()
    assert school is not None
    return school


def vocabulary(conn: psycopg.Connection, table: str, lang: str = "zh") -> dict[str, str]:
    """code -> name of place_category or school_level, in the language asked."""
    query = {("place_category", "zh"): "SELECT code, name_zh FROM place_category ORDER BY code",
             ("place_category", "en"): "SELECT code, name_en FROM place_category ORDER BY code",
             ("school_level", "zh"): "SELECT code, name_zh FROM school_level ORDER BY code",
             ("school_level", "en"): "SELECT code, name_en FROM school_level ORDER BY code"}
    return dict(conn.execute(query[(table, "en" if lang == "en" else "zh")]).fetchall())


def surroundings(conn: psycopg.Connection, lon: float, lat: float, reach_deg: float = 0.02) -> dict[str, Any]:
    """The communities and schools near a point as one GeoJSON FeatureCollection: what an editor's map
    shows around the place or campus being drawn, so that a blank basemap still says where one is."""
    row = conn.execute(
        """WITH box AS (SELECT ST_Expand(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(r)s) AS b)
           SELECT json_build_object('type', 'FeatureCollection',
                                    'features', coalesce(json_agg(f), '[]'::json))
           FROM (SELECT json_build_object('type', 'Feature', 'properties',
                            json_build_object('kind', 'community', 'name', c.name),
                            'geometry',
                            ST_AsGeoJSON(ST_SimplifyPreserveTopology(c.geom, 0.00001), 6)::json) AS f
                 FROM community c, box WHERE c.geom && box.b
                 UNION ALL
                 SELECT json_build_object('type', 'Feature', 'properties',
                            json_build_object('kind', 'school', 'name', s.name),
                            'geometry', ST_AsGeoJSON(s.geom, 7)::json)
                 FROM school s, box WHERE s.geom && box.b LIMIT 500) x""",
        {"lon": lon, "lat": lat, "r": reach_deg}).fetchone()
    return row[0] if row else {"type": "FeatureCollection", "features": []}


def centre(conn: psycopg.Connection, bbox: BBox) -> tuple[float, float]:
    """Where a new place or school is drawn first: the middle of the communities held, else the region's."""
    row = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) c"
                       " FROM community) x").fetchone()
    if row is None or row[0] is None:
        return (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    return float(row[0]), float(row[1])


# --- writing ---------------------------------------------------------------------------------------

def _check_scope(conn: psycopg.Connection, geom_wkb: bytes, field: str, scopes: list[str] | None) -> None:
    if scopes is None:
        return
    row = conn.execute("SELECT c.code FROM community c WHERE ST_Intersects(c.geom,"
                       " ST_PointOnSurface(ST_GeomFromWKB(%s, 4326))) ORDER BY c.code LIMIT 1",
                       [geom_wkb]).fetchone()
    if row is None or not any(row[0].startswith(s) for s in scopes):
        where = f"community {row[0]}" if row else "no community"
        raise OutOfScope(f"{field}: lies in {where}, outside the areas you may edit ({', '.join(scopes)})")


def _text(fields: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """name (required), ref and address stripped (blank: none), NUL refused, lengths kept sane."""
    problems.extend(text_problems(fields))
    out = {k: (str(fields.get(k) or "").strip() or None) for k in ("name", "ref", "address")}
    if out["name"] is None:
        problems.append(Problem("name", "required"))
    for k, most in (("name", 200), ("ref", 60), ("address", 300)):
        value = out[k]
        if value is not None and len(value) > most:
            problems.append(Problem(k, f"at most {most} characters"))
    return out


def _coded(conn: psycopg.Connection, table: str, field: str, given: Any,
           problems: list[Problem]) -> str | None:
    if table == "place_category":
        code = category_code(conn, given)
    else:
        row = conn.execute("SELECT code FROM school_level WHERE code = %(g)s OR name_zh = %(g)s",
                           {"g": str(given or "").strip()}).fetchone()
        code = row[0] if row else None
    names = vocabulary(conn, table)
    if code not in names:
        problems.append(Problem(field, f"unknown; one of {', '.join(names)}"))
        return None
    return str(code)


def _licence(fields: dict[str, Any], problems: list[Problem]) -> dict[str, Any] | None:
    """The place's main licence from ``licence`` ({kind, number, valid_until, displayed}); None when
    it holds no number, no end date and is not displayed (no licence)."""
    given = fields.get("licence") or {}
    number = str(given.get("number") or "").strip() or None
    kind = str(given.get("kind") or "").strip() or LICENCE_KIND
    until = given.get("valid_until") or None
    if isinstance(until, str):
        try:
            until = date.fromisoformat(until.strip())
        except ValueError:
            problems.append(Problem("licence_valid_until", "a date (YYYY-MM-DD)"))
            until = None
    displayed = bool(given.get("displayed"))
    if number and len(number) > 60 or len(kind) > 60:
        problems.append(Problem("licence_number", "at most 60 characters"))
    if number is None and until is None and not displayed:
        return None
    return {"kind": kind, "number": number, "valid_until": until, "displayed": displayed}


def _unique_ref(conn: psycopg.Connection, table: str, ref: str | None, own: int | None,
                problems: list[Problem]) -> None:
    query = {"place": "SELECT id FROM place WHERE ref = %s", "school": "SELECT id FROM school WHERE ref = %s"}
    row = conn.execute(query[table], [ref]).fetchone() if ref else None
    if row is not None and row[0] != own:
        problems.append(Problem("ref", f"{ref!r} is the ref of another {table} already"))


def save_place(conn: psycopg.Connection, fields: dict[str, Any], *, key: str | int | None = None,
               version: str | None = None, crs: str | None = None, bbox: BBox | None = None,
               scopes: list[str] | None = None) -> dict[str, Any]:
    """Create a place (``key`` None) or replace the stored one at ``version``: name, ref, category,
    address, lon/lat (in ``crs``) and its main licence. Every problem found is reported at once."""
    problems: list[Problem] = []
    text = _text({k: fields.get(k) for k in ("name", "ref", "address")}, problems)
    category = _coded(conn, "place_category", "category", fields.get("category"), problems)
    licence = _licence(fields, problems)
    point: Point | None = None
    try:
        point = position(fields.get("lon"), fields.get("lat"), crs, bbox)
    except InvalidInput as exc:
        problems.extend(exc.problems)
    own = _key_id(conn, "place", key) if key is not None else None
    _unique_ref(conn, "place", text["ref"], own, problems)
    if problems or point is None:
        raise InvalidInput(problems)
    wkb = shapely.to_wkb(point)
    values = {**text, "category": category, "geom": wkb, "id": own}
    with conn.transaction():
        if own is None:
            _check_scope(conn, wkb, "lon", scopes)
            row = conn.execute("INSERT INTO place (ref, name, category, address, geom) VALUES (%(ref)s,"
                               " %(name)s, %(category)s, %(address)s, ST_GeomFromWKB(%(geom)s, 4326))"
                               " RETURNING id", values).fetchone()
            assert row is not None
            own = int(row[0])
        else:
            stored = conn.execute(f"SELECT {PLACE_VERSION}, ST_AsBinary(p.geom) FROM place p WHERE p.id = %s"
                                  " FOR UPDATE", [own]).fetchone()
            assert stored is not None
            if stored[0] != version:
                raise Conflict(f"place {key} was changed by someone else since version {version}")
            _check_scope(conn, bytes(stored[1]), "lon", scopes)
            _check_scope(conn, wkb, "lon", scopes)
            conn.execute("UPDATE place SET ref = %(ref)s, name = %(name)s, category = %(category)s,"
                         " address = %(address)s, geom = ST_GeomFromWKB(%(geom)s, 4326) WHERE id = %(id)s",
                         values)
        _write_licence(conn, own, licence)
    return get_place(conn, own)


def _write_licence(conn: psycopg.Connection, place_id: int, licence: dict[str, Any] | None) -> None:
    """The main licence (the first by id) replaced, added, or removed when ``licence`` is None."""
    first = conn.execute("SELECT min(id) FROM licence WHERE place_id = %s", [place_id]).fetchone()
    first_id = first[0] if first else None
    if licence is None:
        if first_id is not None:
            conn.execute("DELETE FROM licence WHERE id = %s", [first_id])
        return
    params = {**licence, "place": place_id, "id": first_id}
    if first_id is None:
        conn.execute("INSERT INTO licence (place_id, kind, number, valid_until, displayed)"
                     " VALUES (%(place)s, %(kind)s, %(number)s, %(valid_until)s, %(displayed)s)", params)
    else:
        conn.execute("UPDATE licence SET kind = %(kind)s, number = %(number)s, valid_until = %(valid_until)s,"
                     " displayed = %(displayed)s WHERE id = %(id)s", params)


def save_school(conn: psycopg.Connection, fields: dict[str, Any], *, key: str | int | None = None,
                version: str | None = None, crs: str | None = None, bbox: BBox | None = None,
                scopes: list[str] | None = None) -> dict[str, Any]:
    """Create a school (``key`` None) or replace the stored one at ``version``: name, ref, level, the
    campus (``geometry``) and the gates, both in ``crs``; a gate farther than GATE_REACH_M from the
    campus is refused (a typo or swapped coordinates)."""
    problems: list[Problem] = []
    text = _text({k: fields.get(k) for k in ("name", "ref")}, problems)
    level = _coded(conn, "school_level", "level", fields.get("level"), problems)
    geom = gates = None
    for name, parse in (("geometry", campus), ("gates", gate_points)):
        try:
            parsed = parse(fields.get(name), crs, bbox)
        except InvalidInput as exc:
            problems.extend(exc.problems)
            continue
        if name == "geometry":
            geom = parsed
        else:
            gates = parsed
    own = _key_id(conn, "school", key) if key is not None else None
    _unique_ref(conn, "school", text["ref"], own, problems)
    if geom is not None:
        measured = conn.execute(
            "SELECT ST_Area(ST_GeomFromWKB(%(g)s, 4326)::geography),"
            " ST_Distance(ST_GeomFromWKB(%(g)s, 4326)::geography, ST_GeomFromWKB(%(t)s, 4326)::geography)",
            {"g": shapely.to_wkb(geom), "t": shapely.to_wkb(gates) if gates is not None else None}).fetchone()
        assert measured is not None
        if measured[0] > MAX_CAMPUS_M2:
            problems.append(Problem("geometry", f"{measured[0] / 1e6:.1f} km² is larger than any campus: "
                                                "coordinates in another system?"))
        if measured[1] is not None and measured[1] > GATE_REACH_M:
            problems.append(Problem("gates", f"a gate is {measured[1]:.0f} m from the campus (more than "
                                             f"{GATE_REACH_M} m: lat/lon swapped?)"))
    if problems or geom is None:
        raise InvalidInput(problems)
    wkb = shapely.to_wkb(geom)
    values = {**text, "level": level, "geom": wkb, "gates": shapely.to_wkb(gates) if gates else None,
              "id": own}
    with conn.transaction():
        if own is None:
            _check_scope(conn, wkb, "geometry", scopes)
            row = conn.execute("INSERT INTO school (ref, name, level, geom, gates) VALUES (%(ref)s, %(name)s,"
                               " %(level)s, ST_GeomFromWKB(%(geom)s, 4326), ST_GeomFromWKB(%(gates)s, 4326))"
                               " RETURNING id", values).fetchone()
            assert row is not None
            own = int(row[0])
        else:
            stored = conn.execute(f"SELECT {SCHOOL_VERSION}, ST_AsBinary(s.geom) FROM school s"
                                  " WHERE s.id = %s FOR UPDATE", [own]).fetchone()
            assert stored is not None
            if stored[0] != version:
                raise Conflict(f"school {key} was changed by someone else since version {version}")
            _check_scope(conn, bytes(stored[1]), "geometry", scopes)
            _check_scope(conn, wkb, "geometry", scopes)
            conn.execute("UPDATE school SET ref = %(ref)s, name = %(name)s, level = %(level)s,"
                         " geom = ST_GeomFromWKB(%(geom)s, 4326), gates = ST_GeomFromWKB(%(gates)s, 4326)"
                         " WHERE id = %(id)s", values)
    return get_school(conn, own)
